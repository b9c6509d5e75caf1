// Context reconstruction for policies that score the prompt by re-reading it (kvpress KVzipPress): after the prompt
// is prefilled and before finish_prefill, each chunk the policy asks for (AttentionPolicy::replay_chunks) is fed
// after the prompt (RoPE positions T ..) through the model over a copy of the prompt's dense caches, as kvpress's
// forward over its cache does; the policy sees each layer's replayed queries and keys (observe_replay), and the
// copies are dropped, so the prompt caches are unchanged. Cost: one extra forward of about the prompt's length
// (plus the instructions, per chunk) attending over the whole prompt, and one copy of the prompt's KV per chunk.
// Models with sliding-window layers are refused per sample (kvpress refuses Gemma-3).
#pragma once

#include "rank/model/attention_policy.h"
#include "rank/model/generation.h"

#include <filesystem>

namespace loom::model {

// kvpress KVzipPress's pieces from the model directory's chat template and the tokenizer: no template (raw): prefix
// "" and suffix "\n"; else the template rendered for one user message "probe context\n#############" with the
// generation prompt, split at the "\n#############" separator (the suffix is what follows; the prefix is what
// precedes the probe text; kvpress's probe differs only in its words, which neither piece contains); the prefix's and the suffix's text encoded without special tokens added.
ReplayPrompts replay_prompts(const std::filesystem::path& model_dir, const text::Tokenizer& tokenizer);

// Runs every replay chunk of seq's policy (no-op unless the policy replays the context).
void replay_context(const GenerationResources& res, Sequence& seq);

}  // namespace loom::model
