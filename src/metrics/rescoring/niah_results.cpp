// NIAH (gkamradt/LLMTest_NeedleInAHaystack) result files: one JSON object per test, as the tester's
// save_results writes them and original_results/ ships them ({context_length, depth_percent, needle, model_response,
// score}, score = the GPT judge's 1-10 rating), given as one file or a folder of *.json files (the folder the
// viz/CreateVizFromLLMTesting.ipynb notebook globs); the OpenAI_OriginalResults*.json lists of {token_limit,
// depth_percent, score} are read too. The figure is the notebook's: its pivot table (mean judge score per document
// depth x context length) averaged over its cells, on the judge's 1-10 scale; the breakdown holds each context
// length's mean over its depths and, where the files carry the response and needle, `niah_word_recall` (our
// LOOM-Scope scorer, 0-100) re-scored from them. The judge is not called again (docs/judge.md does that on a
// loom_mpi results file). The task is "niah".
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>

namespace loom::metrics::rescoring {

using nlohmann::json;

namespace {

struct Row {
  double depth = 0;
  double length = 0;
  double score = 0;
};

double number_field(const json& record, const std::vector<std::string>& keys, const std::filesystem::path& file,
                    int index) {
  const json& v = field(record, keys, file, index);
  if (!v.is_number()) throw InputError(file.string(), index, keys.front(), "a number");
  return v.get<double>();
}

// One file: an object (one test) or a list of objects (OpenAI_OriginalResults.json); `index` in errors is the
// list position + 1 (0 for an object).
void read_file(const std::filesystem::path& file, std::vector<json>& store, std::vector<Row>& rows) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), 0, "", "a readable NIAH result JSON file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) throw InputError(file.string(), 0, "", "one JSON value (a result object or a list of them)");
  std::vector<json> records;
  if (value.is_object()) {
    records.push_back(std::move(value));
  } else if (value.is_array()) {
    for (auto& r : value) records.push_back(std::move(r));
  } else {
    throw InputError(file.string(), 0, "", "a result object or a list of result objects");
  }
  for (size_t i = 0; i < records.size(); ++i) {
    const int index = value.is_array() || records.size() > 1 ? static_cast<int>(i + 1) : 0;
    if (!records[i].is_object()) throw InputError(file.string(), index, "", "a JSON object");
    store.push_back(std::move(records[i]));
    const json& rec = store.back();
    Row row;
    row.depth = number_field(rec, {"depth_percent"}, file, index);
    row.length = number_field(rec, {"context_length", "token_limit"}, file, index);
    row.score = number_field(rec, {"score"}, file, index);
    rows.push_back(row);
  }
}

}  // namespace

RescoreResult rescore_niah(std::string task, const std::filesystem::path& path) {
  if (task.empty()) task = "niah";
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(path)) {
    for (const auto& entry : std::filesystem::directory_iterator(path))
      if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw InputError(path.string(), 0, "", "a folder holding NIAH result *.json files");
  } else {
    files.push_back(path);
  }
  std::vector<json> store;
  std::vector<Row> rows;
  for (const auto& f : files) read_file(f, store, rows);
  // viz notebook: pivot_table(values=Score, index=[depth, length], aggfunc=mean), then pivot depth x length.
  std::map<std::pair<double, double>, std::pair<double, size_t>> cells;
  for (const auto& r : rows) {
    auto& c = cells[{r.depth, r.length}];
    c.first += r.score;
    ++c.second;
  }
  RescoreResult result = make_result("NIAH", task, path.string(), "GPT judge score in the files (viz pivot mean)", "1-10");
  result.samples = rows.size();
  double total = 0;
  std::map<double, std::pair<double, size_t>> per_length;
  for (const auto& [key, c] : cells) {
    const double mean = c.first / static_cast<double>(c.second);
    total += mean;
    auto& l = per_length[key.second];
    l.first += mean;
    ++l.second;
  }
  result.score = total / static_cast<double>(cells.size());
  for (const auto& [length, l] : per_length)
    result.breakdown.emplace_back(fmt::format("length {}", length), l.first / static_cast<double>(l.second));
  // Our scorer on the responses the files carry.
  auto recall = make_scorer("niah_word_recall");
  double recall_sum = 0;
  size_t with_response = 0;
  for (const auto& rec : store) {
    if (!rec.contains("model_response") || !rec.contains("needle")) continue;
    if (!rec.at("model_response").is_string() || !rec.at("needle").is_string()) continue;
    recall_sum += recall->score(rec.at("model_response").get<std::string>(), {rec.at("needle").get<std::string>()},
                                json::object());
    ++with_response;
  }
  if (with_response > 0)
    result.breakdown.emplace_back("niah_word_recall (0-100)", 100 * recall_sum / static_cast<double>(with_response));
  return result;
}

}  // namespace loom::metrics::rescoring
