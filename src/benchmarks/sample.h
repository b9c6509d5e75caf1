// A benchmark sample as the registry produces it (loaded from native data files or generated from a seed), before
// the model's chat template and tokenizer are applied. The scheduler turns it into token ids with
// Benchmark::build_input_ids (official template, chat template or raw, official truncation rule).
#pragma once

#include "benchmarks/retrieval_source.h"
#include "common/generation_settings.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace loom::benchmarks {

// Where Sample::chain_prompt takes the first generation's output.
inline constexpr const char* kFirstOutputMarker = "\x1f\x1eLOOM_FIRST_OUTPUT\x1e\x1f";

struct Sample {
  std::string benchmark;        // registry name, e.g. "RULER"
  std::string task;             // e.g. "niah_single_1"
  std::string capability;       // Faithfulness|General|Reasoning|Retrieval|Generation|Specialization
  std::string metric;           // scorer name(s) for src/metrics, comma separated
  int64_t target_length = 0;    // requested context length (synthetic), 0 for natural data
  int64_t index = 0;            // index within (benchmark, task, target_length)
  std::string id;               // dataset id or generator id
  std::string system_prompt;    // may be empty
  std::string prompt;           // the user turn, built with the official template
  std::string answer_prefix;    // text appended after the chat template's generation prompt (RULER), may be empty
  int64_t question_begin = -1;  // byte offset in `prompt` where the question after the context starts; -1: none
                                // (such a sample cannot run query_aware: false, docs/acceleration.md)
  bool use_chat_template = true;
  std::vector<std::string> references;
  nlohmann::json metadata = nlohmann::json::object();  // scorer extras
  GenerationSettings generation;                        // official max_new_tokens, sampling, stop strings
  // A second, independent generation whose output joins the prediction (LEval sci_fi's fact question): the text is
  // fed raw (tokenizer's special tokens, no chat template, no system prompt or answer prefix), under the same
  // generation settings and method; prediction = output + followup_prefix + follow-up output + followup_suffix.
  std::string followup_prompt;  // empty: no follow-up
  std::string followup_prefix;
  std::string followup_suffix;
  // A second generation that depends on the first's output (LongBench v2's chain of thought, pred.py --cot): a
  // user turn rendered like `prompt` (same system prompt, chat template and answer prefix) in which
  // kFirstOutputMarker stands for the first generation's output, stripped of surrounding whitespace (pred.py's
  // output.strip()). It runs after the first, under the same settings and method with max_new_tokens =
  // chain_max_new_tokens; the row's prediction is its output and the first output is stored beside it
  // (results::ResultRow::first_output).
  std::string chain_prompt;  // empty: none
  int32_t chain_max_new_tokens = 0;
  RetrievalSource retrieval;  // rag: context, question and the prompt around the context (retrieval_source.h)
};

}  // namespace loom::benchmarks
