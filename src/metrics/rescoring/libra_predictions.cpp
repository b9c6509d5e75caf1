// LIBRA predictions/<model>.json re-scored as ai-forever/LIBRA eval.py does (see rescore_libra).
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"

#include <fstream>
#include <map>

namespace loom::metrics::rescoring {

using nlohmann::json;

namespace {

struct LibraDataset {
  std::string metric;                // scorer
  std::vector<std::string> lengths;  // the lengths a dataset's score averages over
};

// configs/datasets_config.json (ai-forever/LIBRA 94dcac0): each dataset's metric and lengths.
const std::map<std::string, LibraDataset>& libra_datasets() {
  static const std::vector<std::string> all = {"4k", "8k", "16k", "32k", "64k", "128k"};
  static const std::map<std::string, LibraDataset> m = {
      {"passkey", {"libra_em", all}},
      {"matreshka_yes_no", {"libra_em", all}},
      {"matreshka_names", {"libra_em", all}},
      {"passkey_with_librusec", {"libra_em", all}},
      {"librusec_history", {"libra_em", {"8k", "16k", "32k", "64k"}}},
      {"ru_gsm100", {"libra_em", {"16k"}}},
      {"ru_sci_passage_count", {"libra_count", all}},
      {"ru_2wikimultihopqa", {"libra_em", {"8k", "16k", "32k"}}},
      {"long_context_multiq", {"libra_em", all}},
      {"ru_sci_abstract_retrieval", {"libra_em", all}},
      {"ru_trec", {"libra_em", {"4k", "8k", "16k", "32k"}}},
      {"ru_sci_fi", {"libra_em", {"32k", "64k"}}},
      {"librusec_mhqa", {"libra_em", {"8k"}}},
      {"ru_babilong_qa1", {"libra_em", all}},
      {"ru_babilong_qa2", {"libra_em", all}},
      {"ru_babilong_qa3", {"libra_em", all}},
      {"ru_babilong_qa4", {"libra_em", all}},
      {"ru_babilong_qa5", {"libra_em", all}},
      {"ru_quality", {"libra_em", {"8k", "16k"}}},
      {"ru_tpo", {"libra_em", {"8k"}}},
      {"ru_qasper", {"libra_f1", {"8k", "16k", "32k"}}}};
  return m;
}

std::string python_str(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

// eval.py: per dataset of the file, the mean score per length; the dataset's score is the mean over its configured
// lengths (a length without rows counts 0); the total is the mean over the file's datasets. 0-1 scale. With a task,
// that dataset's score, its lengths in the breakdown; without, the total, each dataset in the breakdown.
RescoreResult rescore_libra(const std::string& task, const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), 0, "", "a readable LIBRA predictions JSON file");
  const json all = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (all.is_discarded() || !all.is_object() || all.empty())
    throw InputError(file.string(), 0, "", "one JSON object {dataset: [{length, model_answer, positive_outputs, "
                                           "negative_outputs}]} as LIBRA's predict writes");
  RescoreResult r = make_result("LIBRA", task.empty() ? "total" : task, file.string(), "libra", "0-1");
  std::vector<std::pair<std::string, double>> dataset_scores;
  for (auto it = all.begin(); it != all.end(); ++it) {
    const std::string& name = it.key();
    const auto cfg = libra_datasets().find(name);
    if (cfg == libra_datasets().end())
      throw InputError(file.string(), 0, name, "a LIBRA dataset of configs/datasets_config.json");
    if (!it.value().is_array()) throw InputError(file.string(), 0, name, "a list of prediction records");
    if (!task.empty() && name != task) continue;
    auto scorer = make_scorer(cfg->second.metric);
    std::map<std::string, std::pair<double, size_t>> by_length;
    for (size_t i = 0; i < it.value().size(); ++i) {
      const json& rec = it.value()[i];
      const std::string where = name + "[" + std::to_string(i) + "]";
      if (!rec.is_object()) throw InputError(file.string(), 0, where, "a prediction record object");
      for (const char* key : {"length", "model_answer", "positive_outputs", "negative_outputs"})
        if (!rec.contains(key))
          throw InputError(file.string(), 0, where + "." + key, std::string("a field '") + key + "'");
      if (!rec.at("positive_outputs").is_array() || rec.at("positive_outputs").empty())
        throw InputError(file.string(), 0, where + ".positive_outputs", "a non-empty list");
      std::vector<std::string> positives;
      for (const auto& p : rec.at("positive_outputs")) positives.push_back(python_str(p));
      json meta = json::object();
      if (rec.at("negative_outputs").is_array()) meta["negative_outputs"] = rec.at("negative_outputs");
      auto& slot = by_length[python_str(rec.at("length"))];
      slot.first += scorer->score(python_str(rec.at("model_answer")), positives, meta);
      ++slot.second;
      ++r.samples;
    }
    double sum = 0;
    for (const auto& length : cfg->second.lengths) {
      const auto found = by_length.find(length);
      const double v =
          found == by_length.end() ? 0.0 : found->second.first / static_cast<double>(found->second.second);
      if (!task.empty()) r.breakdown.emplace_back(length, v);
      sum += v;
    }
    dataset_scores.emplace_back(name, sum / static_cast<double>(cfg->second.lengths.size()));
  }
  if (dataset_scores.empty())
    throw InputError(file.string(), 0, "task", "a dataset present in the file (got '" + task + "')");
  double total = 0;
  for (const auto& [name, v] : dataset_scores) total += v;
  r.score = total / static_cast<double>(dataset_scores.size());
  if (task.empty()) r.breakdown = dataset_scores;
  return r;
}

}  // namespace loom::metrics::rescoring
