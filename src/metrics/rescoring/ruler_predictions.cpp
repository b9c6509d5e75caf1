// RULER <task>.jsonl (scripts/pred/call_api.py) re-scored as NVIDIA/RULER scripts/eval/evaluate.py does.
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"
#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <cmath>

namespace loom::metrics::rescoring {

using nlohmann::json;

// scripts/eval/evaluate.py: references = `outputs` (else [`output`]); the task's metric_fn from synthetic.yaml's task
// kind (qa → string_match_part, the others string_match_all) over the post-processed predictions, round(·, 2);
// "nulls" counts empty post-processed predictions (reported next to the score, not excluded).
RescoreResult rescore_ruler(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = stem_before(file, ".jsonl");
  static const std::vector<std::string> kTasks = {
      "niah_single_1",   "niah_single_2",   "niah_single_3", "niah_multikey_1", "niah_multikey_2",
      "niah_multikey_3", "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2"};
  if (std::find(kTasks.begin(), kTasks.end(), task) == kTasks.end())
    throw InputError(file.string(), 0, "task",
                     "a RULER task of scripts/synthetic.yaml (niah_single_1..3, niah_multikey_1..3, niah_multivalue, "
                     "niah_multiquery, vt, cwe, fwe, qa_1, qa_2); got '" + task + "'");
  auto scorer = make_scorer(task.rfind("qa_", 0) == 0 ? "string_match_part" : "string_match_all");
  auto records = read_jsonl_records(file);
  RescoreResult r = make_result("RULER", task, file.string(), scorer->name(), "0-100");
  double sum = 0, nulls = 0;
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const std::string pred = string_field(rec, {"pred"}, file, line);
    std::vector<std::string> refs;
    if (rec.contains("outputs")) {
      const json& outputs = rec.at("outputs");
      if (!outputs.is_array() || outputs.empty())
        throw InputError(file.string(), line, "outputs", "a non-empty list of reference strings");
      for (const auto& o : outputs) refs.push_back(o.is_string() ? o.get<std::string>() : o.dump());
    } else {
      refs.push_back(rec.contains("output") ? string_field(rec, {"output"}, file, line) : std::string());
    }
    sum += scorer->score(pred, refs, json::object());
    std::string post = pred;  // evaluate.py's postprocess_pred: control characters become "\n", then strip
    for (char& c : post)
      if (static_cast<unsigned char>(c) < 0x20) c = '\n';
    nulls += text::py_strip(post).empty() ? 1 : 0;
  }
  r.samples = records.size();
  r.score = python_round(100 * sum / static_cast<double>(records.size()), 2);
  r.breakdown = {{"nulls", nulls}};
  return r;
}

}  // namespace loom::metrics::rescoring
