// CLongEval result files as the repository ships them and its inference.py writes them:
// inference_results/<model>/<dataset>/<size>.jsonl, one row per sample with `answer` and `response_<model>`.
// Scored as eval.py does: rows whose response holds HTTP_ERROR or UNKNOW_ERROR are skipped; each row is scored by the
// dataset's metrics.py function (the clongeval_* scorers); StTDet answers are rewritten ("id，correct，wrong" ->
// "id，wrong，id") for every model but gpt4-turbo-128k and every path without "single" in it (eval.py's rule, which
// tests the whole file path); the figure is round(100 x mean, 5), eval.py's small / medium / large column.
// The task is LOOM-Scope's <abbreviation>_<S|M|L> (LStQA_S, StTDet_M, ...): from --task, else from the parent
// directory (the dataset, a leading "N-N_" as in the HF layout allowed) and the file stem (the size).
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"
#include "metrics/text/unicode_text.h"

#include <array>

namespace loom::metrics::rescoring {

using nlohmann::json;

namespace {

struct Dataset {
  const char* name;    // eval.py's directory name
  const char* task;    // LOOM-Scope's abbreviation
  const char* metric;  // eval.py's dataset2metric, as our scorer
};

constexpr std::array<Dataset, 7> kDatasets = {{
    {"long_story_qa", "LStQA", "clongeval_qa_f1_zh"},
    {"long_conversation_memory", "LCvMem", "clongeval_qa_f1_zh"},
    {"long_story_summarization", "LStSum", "clongeval_rouge_zh"},
    {"stacked_news_labeling", "StNLab", "clongeval_news_labeling"},
    {"stacked_typo_detection", "StTDet", "clongeval_typo_detection"},
    {"key_passage_retrieval", "KpRet", "clongeval_retrieval_edit"},
    {"table_querying", "TblQry", "clongeval_table_match"},
}};

const char* size_letter(const std::string& stem) {
  if (stem == "small") return "S";
  if (stem == "medium") return "M";
  if (stem == "large") return "L";
  return nullptr;
}

const Dataset* dataset_of_task(const std::string& task) {
  const size_t cut = task.rfind('_');
  if (cut == std::string::npos) return nullptr;
  const std::string head = task.substr(0, cut), size = task.substr(cut + 1);
  if (size != "S" && size != "M" && size != "L") return nullptr;
  for (const auto& d : kDatasets)
    if (head == d.task) return &d;
  return nullptr;
}

const Dataset* dataset_of_directory(std::string dir) {
  // The HF layout names the folders "1-1_long_story_qa"; eval.py's are the bare names.
  if (dir.size() > 4 && std::isdigit(static_cast<unsigned char>(dir[0])) && dir[1] == '-' && dir[3] == '_')
    dir = dir.substr(4);
  for (const auto& d : kDatasets)
    if (dir == d.name) return &d;
  return nullptr;
}

std::string known_tasks() {
  std::string out;
  for (const auto& d : kDatasets) out += (out.empty() ? "" : ", ") + std::string(d.task) + "_{S,M,L}";
  return out;
}

}  // namespace

RescoreResult rescore_clongeval(std::string task, const std::filesystem::path& file) {
  const Dataset* dataset = nullptr;
  if (task.empty()) {
    dataset = dataset_of_directory(file.parent_path().filename().string());
    const char* size = size_letter(stem_before(file, ".jsonl"));
    if (dataset == nullptr || size == nullptr)
      throw InputError(file.string(), 0, "task",
                       "a --task (" + known_tasks() +
                           ") or a path <dataset>/<small|medium|large>.jsonl as eval.py reads them "
                           "(inference_results/<model>/<dataset>/<size>.jsonl)");
    task = std::string(dataset->task) + "_" + size;
  } else {
    dataset = dataset_of_task(task);
    if (dataset == nullptr)
      throw InputError(file.string(), 0, "task", "a CLongEval task, one of " + known_tasks() + " (got '" + task + "')");
  }
  const auto records = read_jsonl_records(file);
  // The model is the one the `response_<model>` field names (inference.py writes exactly one).
  std::string response_key;
  for (auto it = records.front().begin(); it != records.front().end(); ++it)
    if (it.key().rfind("response_", 0) == 0) {
      if (!response_key.empty())
        throw InputError(file.string(), 1, it.key(), "one response_<model> field (also found " + response_key + ")");
      response_key = it.key();
    }
  if (response_key.empty())
    throw InputError(file.string(), 1, "response_<model>", "the model's response field as inference.py writes it");
  const std::string model = response_key.substr(std::string("response_").size());  // eval.py's --model_name
  std::string metric = dataset->metric;
  const bool typo = std::string(dataset->name) == "stacked_typo_detection";
  if (typo && (model == "gpt4-turbo-128k" || text::contains(file.string(), "single"))) metric += "_raw";
  auto scorer = make_scorer(metric);
  RescoreResult r = make_result("CLongEval", task, file.string(), metric + " (" + response_key + ")", "0-100");
  double sum = 0;
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const std::string response = string_field(rec, {response_key}, file, line);
    if (text::contains(response, "HTTP_ERROR") || text::contains(response, "UNKNOW_ERROR")) {
      ++r.skipped;
      continue;
    }
    const json& answer = field(rec, {"answer"}, file, line);
    if (typo && !answer.is_string()) throw InputError(file.string(), line, "answer", "a string");
    sum += scorer->score(response, {answer.is_string() ? answer.get<std::string>() : answer.dump()}, json::object());
    ++r.samples;
  }
  if (r.samples == 0) throw InputError(file.string(), 0, response_key, "at least one response without an API error");
  r.score = python_round(100 * sum / static_cast<double>(r.samples), 5);
  return r;
}

}  // namespace loom::metrics::rescoring
