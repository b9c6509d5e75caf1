// BABILong compare_answers (booydar/babilong, babilong/metrics.py). Output: lower() -> text before the first '.'
// -> before '<context>' -> before '<example>' (the upstream split on 'Question' never matches after lower()).
// Labels (TASK_LABELS of the task, lowercased) found in the question are removed from those found in the output;
// correct iff the output names exactly the target label (qa8 lists "a,b": exactly those subtargets).
// Metadata: "task" (qa1..qa20) or "labels" (list), and "question".
#include "metrics/scorers/babilong.h"

#include "common/error.h"
#include "metrics/scorers/scorer_support.h"
#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <map>
#include <set>

namespace loom::metrics {

const std::vector<std::string>& babilong_task_labels(const std::string& task) {
  static const std::vector<std::string> rooms = {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"};
  static const std::vector<std::string> yes_no = {"no", "yes"};
  static const std::map<std::string, std::vector<std::string>> labels = {
      {"qa1", rooms}, {"qa2", rooms}, {"qa3", rooms}, {"qa4", rooms},
      {"qa5", {"Bill", "Fred", "Jeff", "Mary", "apple", "football", "milk"}},
      {"qa6", yes_no}, {"qa7", {"none", "one", "three", "two"}}, {"qa8", {"apple", "football", "milk", "nothing"}},
      {"qa9", yes_no}, {"qa10", {"maybe", "no", "yes"}}, {"qa11", rooms}, {"qa12", rooms}, {"qa13", rooms},
      {"qa14", {"bedroom", "cinema", "kitchen", "office", "park", "school"}},
      {"qa15", {"cat", "mouse", "sheep", "wolf"}}, {"qa16", {"gray", "green", "white", "yellow"}},
      {"qa17", yes_no}, {"qa18", yes_no},
      {"qa19", {"e,e", "e,n", "e,s", "n,e", "n,n", "n,w", "s,e", "s,s", "s,w", "w,n", "w,s", "w,w"}},
      {"qa20", {"bedroom", "bored", "garden", "hungry", "kitchen", "thirsty", "tired"}}};
  auto it = labels.find(task);
  if (it == labels.end())
    throw InputError("", 0, "task", "a BABILong task qa1..qa20 (got '" + task + "')");
  return it->second;
}

bool babilong_compare_answers(const std::string& target, const std::string& output, const std::string& question,
                              const std::vector<std::string>& task_labels) {
  std::string out = text::py_lower(output);
  out = text::split_on(out, ".")[0];
  out = text::split_on(out, "<context>")[0];
  out = text::split_on(out, "<example>")[0];
  const std::string tgt = text::py_lower(target);
  const std::string q = text::py_lower(question);
  std::set<std::string> labels;
  for (const auto& l : task_labels) labels.insert(text::py_lower(l));
  std::set<std::string> in_output;
  for (const auto& l : labels)
    if (text::contains(out, l) && !text::contains(q, l)) in_output.insert(l);
  if (text::contains(tgt, ",") && text::to_u32(tgt).size() > 3) {
    const auto subtargets = text::split_on(tgt, ",");
    bool all = std::all_of(subtargets.begin(), subtargets.end(),
                           [&](const std::string& t) { return in_output.count(t) > 0; });
    return all && in_output.size() == subtargets.size();
  }
  return in_output.count(tgt) > 0 && in_output.size() == 1;
}

std::vector<ScorerEntry> babilong_scorers() {
  // The result notebooks: accuracy = 100 * correct / N per task and length.
  static const auto aggregation = mean_aggregation("BABILong: 100 x correct / N per task");
  return {{"babilong_compare_answers",
           [](const std::string& prediction, const std::vector<std::string>& references, const nlohmann::json& meta) {
             if (references.empty()) return 0.0;
             std::vector<std::string> labels = metadata_strings(meta, "labels");
             if (labels.empty()) labels = babilong_task_labels(metadata_string(meta, "task"));
             return babilong_compare_answers(references[0], prediction, metadata_string(meta, "question"), labels)
                        ? 1.0
                        : 0.0;
           },
           aggregation}};
}

}  // namespace loom::metrics
