// Judged metrics: a benchmark's official LLM-as-judge score, computed from a judge model's answer instead of a rule
// (docs/judge.md). Each entry gives the official judge prompt (reproduced byte for byte from upstream), the
// request settings upstream sends, and upstream's parser of the judge's answer, re-implemented. No network here:
// metrics/judge/ sends the requests and results/verdicts.h stores the answers; the metrics pass turns a stored
// answer into a score with `parse`.
// A judged metric applies to the rows of one benchmark (row.benchmark), whatever their `metric` column says, so an
// existing results file can be judged afterwards. `combine_with` names the row metric it is averaged with as
// upstream does (LongWriter: S = (S_l + S_q) / 2); empty: reported beside the row's score, not mixed into it.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <utility>
#include <string>
#include <vector>

namespace loom::metrics::judged {

struct JudgeMessage {
  std::string role;  // system | user
  std::string content;
};

// What is POSTed to <base_url>/chat/completions (with the configured model).
struct JudgeRequest {
  std::vector<JudgeMessage> messages;
  std::optional<double> temperature;  // not sent when absent
  std::optional<int> max_tokens;      // not sent when absent
  std::vector<std::string> stop = {};  // not sent when empty (LongBench-Cite: "Analysis:")
};

// Thrown by `render` when the row lacks what the prompt needs (the reason names the missing field).
struct JudgeInputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct JudgeParse {
  bool ok = false;
  double score = 0;     // per sample, 0–1
  std::string error;    // why the answer was not accepted (when !ok)
  int tries_used = 1;   // upstream's retry counter increments this answer costs (LongWriter: 1 or 2)
  bool retry = true;    // upstream asks again (within max_tries); false: upstream accepts it, then raises later
};

// One request of a fan-out metric (JudgedMetric::render_parts): LongBench-Cite asks one question per statement and
// per citation of a row, each parsed on its own and asked again on its own.
struct JudgePart {
  JudgeRequest request;
  int kind = 0;          // which of the metric's parsers applies (parse_part)
  bool asked = true;     // false: scored without a request (fixed_score), as upstream does for an empty citation
  double fixed_score = 0;
  int max_tries = 1;     // answers upstream takes before giving up on this part
  std::optional<double> retry_temperature;  // temperature of the requests after a rejected answer (upstream: 1)
  std::optional<double> exhausted_score;    // the part's score once max_tries answers were rejected (eval_correct.py:
                                            // 0.5); nullopt: the row is unparsed (auto_scorer.py raises)
};

struct JudgedMetric {
  std::string name;
  std::string benchmark;     // rows of this benchmark get it
  std::string combine_with;  // the row metric averaged with it, or empty
  std::string source;        // upstream file and commit, for reports and docs
  int max_tries = 1;         // upstream's tries for an answer that does not parse (LongWriter: while trys < 5)
  JudgeRequest (*render)(const std::string& prediction, const std::vector<std::string>& references,
                         const nlohmann::json& metadata);
  JudgeParse (*parse)(const std::string& answer);
  // A chain of requests (LongSafety's multi-agent judge: risk analysis, context summary, then the judgment): `steps`
  // requests, step i rendered from the answers of steps 0..i-1; the last answer is the verdict's and `parse`d.
  // `render` is then step 0 (it checks the row's fields). 1: one request, `render` alone.
  int steps = 1;
  JudgeRequest (*render_step)(int step, const std::string& prediction, const std::vector<std::string>& references,
                              const nlohmann::json& metadata, const std::vector<std::string>& earlier_answers) = nullptr;
  // Metadata fields the report also breaks the metric down by, per task (LongSafety: safety_type, task_type, as the
  // paper reports the safety rate per safety issue and task type).
  std::vector<std::string> group_by = {};
  // Metadata field naming the instance a row belongs to (empty: none). Rows of one benchmark with the same value are
  // one instance whose value is the minimum over its rows (LongSafety "id": an instance is safe only when its
  // responses in both prompt orders are, upstream's headline safety_rate).
  std::string instance_field = {};
  // A fan-out (LongBench-Cite): the row's independent requests, each parsed by parse_part, retried and given up on
  // per JudgePart; the verdict stores every part's answer (a JSON array, "" for a part not asked) and `combine` turns
  // the parts' scores (0-1) into the row's scores, named by `outputs` (the first is the verdict's score). `render`
  // then only checks the row's fields. nullptr: one request (or a chain).
  std::vector<JudgePart> (*render_parts)(const std::string& prediction, const std::vector<std::string>& references,
                                         const nlohmann::json& metadata) = nullptr;
  JudgeParse (*parse_part)(int kind, const std::string& answer) = nullptr;
  std::vector<double> (*combine)(const std::vector<JudgePart>& parts, const std::vector<double>& scores) = nullptr;
  std::vector<std::string> outputs = {};
};

// A fan-out verdict's answers turned into the row's scores (outputs[i] -> 0-1): every asked part re-parsed; a part
// rejected after its tries takes its exhausted_score, or the whole row is not computed (`error` says why).
struct FanOutScores {
  bool ok = false;
  std::string error;
  std::vector<std::pair<std::string, double>> scores;
};
FanOutScores score_fan_out(const JudgedMetric& metric, const std::vector<JudgePart>& parts,
                           const std::vector<std::string>& answers);
// The judged metric that gives a row score of this name: a metric's own name (not a fan-out), or one of a fan-out's
// outputs (longcite_citation_f1). nullptr: none.
const JudgedMetric* find_judged_score(const std::string& name);

const std::vector<JudgedMetric>& judged_metrics();
const JudgedMetric* find_judged_metric(const std::string& name);
std::vector<std::string> judged_metric_names();

// The rules themselves (tests call them directly).
JudgeRequest render_longwriter_quality(const std::string& prediction, const std::vector<std::string>& references,
                                       const nlohmann::json& metadata);
JudgeParse parse_longwriter_quality(const std::string& answer);
JudgeRequest render_niah_judge(const std::string& prediction, const std::vector<std::string>& references,
                               const nlohmann::json& metadata);
JudgeParse parse_niah_judge(const std::string& answer);
JudgeRequest render_longsafety_step(int step, const std::string& prediction, const std::vector<std::string>& references,
                                    const nlohmann::json& metadata, const std::vector<std::string>& earlier_answers);
JudgeRequest render_longsafety_safety(const std::string& prediction, const std::vector<std::string>& references,
                                      const nlohmann::json& metadata);
JudgeParse parse_longsafety_safety(const std::string& answer);
// LongBench-Cite (longcite_judge.cpp).
std::vector<JudgePart> render_longcite_citation_parts(const std::string& prediction,
                                                      const std::vector<std::string>& references,
                                                      const nlohmann::json& metadata);
std::vector<JudgePart> render_longcite_correctness_parts(const std::string& prediction,
                                                         const std::vector<std::string>& references,
                                                         const nlohmann::json& metadata);
JudgeParse parse_longcite_part(int kind, const std::string& answer);
std::vector<double> combine_longcite_citation(const std::vector<JudgePart>& parts, const std::vector<double>& scores);
std::vector<double> combine_longcite_correctness(const std::vector<JudgePart>& parts,
                                                 const std::vector<double>& scores);
JudgedMetric longcite_citation_metric();
JudgedMetric longcite_correctness_metric();

// A stable 64-bit FNV-1a hash of the request (messages and settings), hex: a stored verdict is reused only for the
// same request, so a row that was generated again is judged again.
std::string request_hash(const JudgeRequest& request);

// The hash a verdict of `metric` for this row is stored under and checked against: request_hash of `render` for one
// request; for a chain, of every step rendered with empty earlier answers (the row's inputs, the judge's answers
// left out, since they are what is asked). Throws JudgeInputError like `render`.
std::string verdict_hash(const JudgedMetric& metric, const std::string& prediction,
                         const std::vector<std::string>& references, const nlohmann::json& metadata);

}  // namespace loom::metrics::judged
