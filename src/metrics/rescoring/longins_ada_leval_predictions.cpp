// LongIns and Ada-LEval prediction files as LOOM-Scope writes them (prediction/<save_tag>/<task>_<length>.jsonl),
// re-scored with the benchmarks' own rules:
//  * LongIns rows {response, error}: Ins-Bench eval.py's mean F1 (longins_f1) of the file, x 100.
//  * Ada-LEval rows {response, answer, all_answers (stackselect)}: dataset.py's StackSelect / TextSort evaluate()
//    accuracy (ada_leval_stackselect: num_choice = len(all_answers); ada_leval_textsort), 0-100.
// The task defaults to the file name's stem (GIST_8192, stackselect_1k, ...).
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"
#include "metrics/text/unicode_text.h"

namespace loom::metrics::rescoring {

using nlohmann::json;

namespace {

std::vector<std::string> reference_texts(const json& value) {
  std::vector<std::string> out;
  if (value.is_array()) {
    for (const auto& v : value) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  } else {
    out.push_back(value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

}  // namespace

RescoreResult rescore_longins(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = stem_before(file, ".jsonl");
  auto scorer = make_scorer("longins_f1");
  auto records = read_jsonl_records(file);
  RescoreResult r = make_result("LongIns", task, file.string(), "longins_f1", "0-100");
  double sum = 0;
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const json& error = field(rec, {"error"}, file, line);
    if (!error.is_array()) throw InputError(file.string(), line, "error", "the list of wrongly answered questions");
    sum += scorer->score(string_field(rec, {"response"}, file, line), reference_texts(error), json::object());
  }
  r.samples = records.size();
  r.score = 100 * sum / static_cast<double>(records.size());
  return r;
}

RescoreResult rescore_ada_leval(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = stem_before(file, ".jsonl");
  const bool stackselect = text::contains(task, "stackselect");
  if (!stackselect && !text::contains(task, "textsort"))
    throw InputError(file.string(), 0, "task",
                     "a task or file name naming stackselect or textsort (got '" + task + "')");
  auto scorer = make_scorer(stackselect ? "ada_leval_stackselect" : "ada_leval_textsort");
  auto records = read_jsonl_records(file);
  RescoreResult r = make_result("Ada_LEval", task, file.string(), scorer->name(), "0-100");
  double sum = 0;
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    json meta = json::object();
    if (stackselect) {
      const json& answers = field(rec, {"all_answers"}, file, line);
      if (!answers.is_array()) throw InputError(file.string(), line, "all_answers", "the list of candidate answers");
      meta["num_choice"] = answers.size();
    }
    const json& answer = field(rec, {"answer"}, file, line);
    sum += scorer->score(string_field(rec, {"response"}, file, line), reference_texts(answer), meta);
  }
  r.samples = records.size();
  r.score = 100 * sum / static_cast<double>(records.size());
  return r;
}

}  // namespace loom::metrics::rescoring
