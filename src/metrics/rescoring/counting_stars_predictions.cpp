// Counting-Stars prediction files (test_data records + the model's `answer`) re-scored as nick7nlp/Counting-Stars
// viz.ipynb get_data_EN / get_data_ZH do (m = 32 counting times):
//  * the answer's "little_penguin" (EN) / "小企鹅" (ZH) list, cut to its first m values (reduce_duplicate);
//  * searching ("Acquisition"): count i scores 1 when reference_counting_results[i] is in that list;
//    reasoning: 1 / 0.5 / 0.25 / 0 against a_stars["32"][i] and r_stars["32"][i] (get_reasoning_score, which reads
//    context_data/*.txt, not the record);
//  * the score is the mean of the pivot table (mean per counting time x context size, context size =
//    int(context_size / scalar), scalar 0.82 / 0.815 EN, 0.725 / 0.72 ZH), on 0-1; the breakdown holds each
//    context size's mean. The notebook prints it rounded to 3 places; we print the unrounded mean.
// Language and variant come from the task (counting_stars_{en,zh}_{searching,reasoning}) or the file name
// (Counting_Stars_{EN,ZH}_multi-evidence-retrieval-{searching,reasoning}_...). An answer the notebook cannot parse
// makes it raise; here it scores 0.
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"
#include "metrics/scorers/json_answer.h"
#include "metrics/text/unicode_text.h"

#include <map>

namespace loom::metrics::rescoring {

using nlohmann::json;

namespace {

constexpr size_t kCountingTimes = 32;

// context_data/a_stars.txt and r_stars.txt, key "32" (nick7nlp/Counting-Stars @ 32e16f2).
const std::vector<int> kCorrectCounts = {15, 117, 42, 69, 58, 107, 9,  49,  113, 66, 26, 102, 81, 94, 77, 61,
                                         5,  19,  109, 3, 35, 54,  86, 89, 127, 21, 46, 122, 38, 97, 74, 29};
const std::vector<int> kWrongCounts = {16, 116, 43, 70, 59, 106, 8,  48,  112, 67, 25, 101, 82, 93, 76, 62,
                                       6,  18,  108, 4, 34, 53,  85, 90, 126, 22, 45, 121, 39, 96, 75, 30};

// The answer's list, cut to the first m values; nullopt when it does not parse.
std::optional<json> predicted_list(const json& answer, bool zh) {
  const std::string key = zh ? "小企鹅" : "little_penguin";
  std::optional<json> value;
  if (answer.is_object()) {
    if (answer.contains(key)) value = answer.at(key);
  } else if (answer.is_string()) {
    value = counting_stars_value(answer.get<std::string>(), key, zh);
  }
  if (!value || !value->is_array()) return std::nullopt;
  json cut = json::array();
  for (size_t i = 0; i < value->size() && i < kCountingTimes; ++i) cut.push_back((*value)[i]);
  return cut;
}

}  // namespace

RescoreResult rescore_counting_stars(std::string task, const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  const std::string probe = text::ascii_lower(task.empty() ? name : task);
  const bool zh = text::contains(probe, "_zh_");
  const bool reasoning = text::contains(probe, "reasoning");
  if (!reasoning && !text::contains(probe, "searching"))
    throw InputError(file.string(), 0, "task",
                     "counting_stars_{en,zh}_{searching,reasoning} or a file name naming the variant (got '" +
                         (task.empty() ? name : task) + "')");
  if (task.empty())
    task = std::string("counting_stars_") + (zh ? "zh" : "en") + (reasoning ? "_reasoning" : "_searching");
  const double scalar = zh ? (reasoning ? 0.72 : 0.725) : (reasoning ? 0.815 : 0.82);
  auto records = read_jsonl_records(file);
  RescoreResult r = make_result("Counting_Stars", task, file.string(),
                                reasoning ? "counting_stars_reasoning" : "counting_stars_searching", "0-1");
  std::map<long long, std::pair<double, size_t>> by_size;  // context size -> (sum of record means, records)
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const json& size = field(rec, {"context_size"}, file, line);
    if (!size.is_number()) throw InputError(file.string(), line, "context_size", "a number");
    const json& answer = field(rec, {"answer"}, file, line);
    json refs = json(kCorrectCounts);
    if (!reasoning) {
      refs = field(rec, {"reference_counting_results"}, file, line);
      if (!refs.is_array()) throw InputError(file.string(), line, "reference_counting_results", "a list of counts");
    }
    double sum = 0;
    if (auto predicted = predicted_list(answer, zh)) {
      for (size_t i = 0; i < kCountingTimes; ++i) {
        if (!reasoning) {
          sum += i < refs.size() && json_list_contains(*predicted, refs[i]) ? 1.0 : 0.0;
          continue;
        }
        const bool a = json_list_contains(*predicted, kCorrectCounts[i]);
        const bool w = json_list_contains(*predicted, kWrongCounts[i]);
        sum += a && w ? 0.5 : a ? 1.0 : w ? 0.25 : 0.0;
      }
    }
    auto& cell = by_size[static_cast<long long>(size.get<double>() / scalar)];
    cell.first += sum / static_cast<double>(kCountingTimes);
    ++cell.second;
  }
  double total = 0;
  for (const auto& [size, cell] : by_size) {
    const double mean = cell.first / static_cast<double>(cell.second);
    r.breakdown.emplace_back(std::to_string(size), mean);
    total += mean;
  }
  r.samples = records.size();
  r.score = total / static_cast<double>(by_size.size());
  return r;
}

}  // namespace loom::metrics::rescoring
