// Context reconstruction (see context_replay.h).
#include "rank/model/context_replay.h"

#include "common/error.h"
#include "rank/model/sliding_window_cache.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace loom::model {

namespace {

// Records the replayed tokens' post-RoPE queries (observation_window = the chunk's length); nothing else.
class ReplayObserver final : public AttentionPolicy {
 public:
  ReplayObserver(PolicyContext context, int64_t window) : AttentionPolicy(std::move(context)), window_(window) {}
  int64_t observation_window() const override { return window_; }

 private:
  int64_t window_;
};

}  // namespace

ReplayPrompts replay_prompts(const std::filesystem::path& model_dir, const text::Tokenizer& tokenizer) {
  ReplayPrompts out;
  const text::ChatTemplate chat = text::load_chat_template(model_dir);
  std::string prefix, suffix = "\n";
  if (chat.name() != "raw") {
    const std::string probe = "probe context";  // kvpress's probe text has the same length (13 characters)
    const std::string separator = "\n" + std::string(probe.size(), '#');
    const std::string rendered = chat.render({{"user", probe + separator}}, true);
    const size_t at = rendered.find(separator);
    LOOM_CHECK(at != std::string::npos, "the chat template '{}' dropped the separator of the KVzip probe",
               chat.name());
    suffix = rendered.substr(at + separator.size());
    const std::string before = rendered.substr(0, at);
    prefix = before.substr(0, before.find(probe));
  }
  out.prefix_length = static_cast<int64_t>(tokenizer.encode(prefix, false).size());
  out.suffix = tokenizer.encode(suffix, false);
  out.first = tokenizer.encode("\n\nRepeat the previous context exactly.", false);
  out.later = tokenizer.encode("\n\nRepeat the part of the previous context exactly, starting with", false);
  return out;
}

void replay_context(const GenerationResources& res, Sequence& seq) {
  SequenceState& state = seq.state;
  AttentionPolicy& policy = *state.policy;
  if (!policy.replays_context()) return;
  DecoderModel& model = *res.model;
  const ModelCard& card = model.config();
  const int64_t layers = card.num_layers;
  for (int64_t layer = 0; layer < layers; ++layer) {
    if (layer_window(card, layer) > 0) {
      throw InputError("", 0, "acceleration.method",
                       fmt::format("method '{}' re-reads the context through the model (KVzip), but layer {} of this "
                                   "model is a sliding-window layer (kvpress refuses such models too); use a model "
                                   "without sliding-window layers",
                                   seq.request.method.name, layer));
    }
  }
  if (res.tokenizer == nullptr) {
    throw InputError("", 0, "acceleration.method",
                     fmt::format("method '{}' re-reads the context with a repeat instruction, which needs the model "
                                 "directory's tokenizer",
                                 seq.request.method.name));
  }
  const ReplayPrompts prompts = replay_prompts(card.config_file.parent_path(), *res.tokenizer);
  const std::vector<ReplayChunk> chunks = policy.replay_chunks(prefill_ids(seq.request), prompts);
  const int64_t total = state.prompt_length;
  for (const ReplayChunk& chunk : chunks) {
    const auto q = static_cast<int64_t>(chunk.ids.size());
    SequenceState copy;
    copy.policy = std::make_unique<ReplayObserver>(policy.context(), q);
    copy.prompt_length = total;
    copy.observations.assign(static_cast<size_t>(layers), PrefillObservation());
    for (int64_t layer = 0; layer < layers; ++layer) {
      const auto [keys, values] = state.caches[static_cast<size_t>(layer)]->dense();
      auto cache = make_dense_cache(keys.size(0), keys.size(2), keys.scalar_type(), keys.device(), total + q);
      cache->append(keys, values);
      copy.caches.push_back(std::move(cache));
    }
    const at::Tensor ids =
        at::tensor(std::vector<int64_t>(chunk.ids.begin(), chunk.ids.end()), at::kLong).to(model.device());
    model.forward(ids, {SequenceSegment{0, q, total, total + q, true, &copy}}, false);
    for (int64_t layer = 0; layer < layers; ++layer) {
      const at::Tensor keys = copy.caches[static_cast<size_t>(layer)]->dense().first;
      policy.observe_replay(layer, chunk, copy.observations[static_cast<size_t>(layer)].window_queries, keys);
    }
  }
}

}  // namespace loom::model
