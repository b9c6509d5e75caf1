// RULER's task drafts (NVIDIA/RULER scripts/data/synthetic/*.py, re-implemented): each draft function builds one
// sample's user prompt, answer prefix and references for a given haystack size `n` (sentences, words or documents,
// depending on the task) from a seeded RNG. ruler_benchmark.cpp sizes `n` to the token target and drives them.
#pragma once

#include "benchmarks/benchmark_config.h"
#include "benchmarks/deterministic_rng.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace loom::benchmarks::ruler {

struct Draft {
  std::string prompt;         // user turn (task template filled)
  std::string answer_prefix;  // filled answer prefix
  int64_t question_begin = -1;  // where the question after the (last) context starts in `prompt`
  std::vector<std::string> references;
  nlohmann::json metadata = nlohmann::json::object();
};

// Everything a draft may draw from; loaded once per expand().
struct Resources {
  std::vector<std::string> essay_words;  // essay haystack, whitespace-collapsed and split on " "
  const std::vector<std::string>* words = nullptr;  // English word list
  std::string noise;                     // the repeated noise sentence block
};

struct NiahArgs {
  std::string type_haystack = "essay";  // noise | essay | needle
  std::string type_needle_k = "words";  // words | numbers | uuids
  std::string type_needle_v = "numbers";
  int num_needle_k = 1, num_needle_v = 1, num_needle_q = 1;
};

Draft draft_niah(const TaskConfig& task, const NiahArgs& args, const Resources& res, int64_t n, DeterministicRng& rng);
// Variable tracking with its in-context example (prefixed to the prompt as RULER does).
Draft draft_vt(const TaskConfig& task, const Resources& res, int num_chains, int num_hops, const std::string& icl,
               int64_t n, DeterministicRng& rng);
// The in-context example text for vt (template + answer prefix + answer), sized by icl_noise noise sentences.
std::string vt_icl_example(const TaskConfig& task, const Resources& res, int num_chains, int num_hops,
                           int64_t icl_noise, DeterministicRng& rng);
Draft draft_cwe(const TaskConfig& task, const Resources& res, int freq_cw, int freq_ucw, int num_cw,
                bool short_context, int64_t n, DeterministicRng& rng);
Draft draft_fwe(const TaskConfig& task, double alpha, int coded_wordlen, int64_t vocab_size, int64_t n,
                DeterministicRng& rng);

// SQuAD / HotpotQA in RULER's reading: unique documents (sorted) and answerable questions.
struct QaQuestion {
  std::string query;
  std::vector<std::string> outputs;
  std::vector<size_t> context;       // gold document indices
  std::vector<size_t> more_context;  // other paragraphs of the same article (SQuAD)
};
struct QaData {
  std::vector<std::string> docs;
  std::vector<QaQuestion> questions;
};
QaData read_squad(const std::string& path);
QaData read_hotpotqa(const std::string& path);
Draft draft_qa(const TaskConfig& task, const QaData& data, size_t question_index, int64_t n, DeterministicRng& rng);

// Python-style "{name}" formatting of a RULER template with the given values.
std::string format_template(const std::string& tmpl, const std::vector<std::pair<std::string, std::string>>& values);

// Where the question starts in `prompt`, which ends with format_template(tmpl, values): right after the filled
// "{context}" (the rest of the template, filled, is the question). -1 when tmpl has no "{context}".
int64_t question_begin(const std::string& prompt, const std::string& tmpl,
                       const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace loom::benchmarks::ruler
