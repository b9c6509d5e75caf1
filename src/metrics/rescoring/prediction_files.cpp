#include "metrics/rescoring/prediction_files.h"

#include "common/error.h"
#include "metrics/rescoring/csv_table.h"
#include "metrics/scorer.h"
#include "metrics/scorers/babilong.h"
#include "metrics/scorers/leval.h"
#include "metrics/text/normalize.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>

namespace loom::metrics {

namespace {

using nlohmann::json;

std::string lower_ascii(const std::string& s) { return text::ascii_lower(s); }

std::vector<json> read_jsonl_records(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "a readable JSON-lines prediction file");
  std::vector<json> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (text::py_strip(line).empty()) continue;
    try {
      out.push_back(json::parse(line));
    } catch (const json::parse_error& e) {
      throw InputError(path.string(), line_no, "", std::string("one JSON object per line (") + e.what() + ")");
    }
    if (!out.back().is_object()) throw InputError(path.string(), line_no, "", "a JSON object");
  }
  if (out.empty()) throw InputError(path.string(), 0, "", "at least one prediction record");
  return out;
}

const json& field(const json& record, const std::vector<std::string>& keys, const std::filesystem::path& file,
                  int line) {
  for (const auto& k : keys)
    if (record.contains(k)) return record.at(k);
  std::string names;
  for (const auto& k : keys) names += (names.empty() ? "'" : " or '") + k + "'";
  throw InputError(file.string(), line, keys.front(), "a field " + names);
}

std::string string_field(const json& record, const std::vector<std::string>& keys, const std::filesystem::path& file,
                         int line) {
  const json& v = field(record, keys, file, line);
  if (!v.is_string()) throw InputError(file.string(), line, keys.front(), "a string");
  return v.get<std::string>();
}

std::string stem_before(const std::filesystem::path& file, const std::string& suffix) {
  std::string name = file.filename().string();
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    return name.substr(0, name.size() - suffix.size());
  return name;
}

// The scorer's official aggregation (the one the metrics pass prints) over the file's samples.
double official_task_score(const Scorer& scorer, const std::string& task, const std::vector<TaskSample>& samples) {
  const std::shared_ptr<const OfficialAggregation> aggregation = scorer.aggregation();
  LOOM_CHECK(aggregation != nullptr, "scorer '{}' has no official aggregation", scorer.name());
  return aggregation->task_score(task, samples);
}

RescoreResult make_result(std::string benchmark, std::string task, std::string file, std::string metric,
                          std::string scale) {
  RescoreResult r;
  r.benchmark = std::move(benchmark);
  r.task = std::move(task);
  r.file = std::move(file);
  r.metric = std::move(metric);
  r.scale = std::move(scale);
  return r;
}

// ------------------------------------------------------------------ BABILong
RescoreResult rescore_babilong(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = text::split_on(file.filename().string(), "_")[0];
  const auto& labels = babilong_task_labels(task);
  CsvTable table = read_csv(file);
  const size_t t = table.column("target", file.string()), o = table.column("output", file.string()),
               q = table.column("question", file.string());
  RescoreResult r = make_result("BABILong", task, file.string(), "babilong_compare_answers", "0-100");
  size_t correct = 0;
  for (const auto& row : table.rows) correct += babilong_compare_answers(row[t], row[o], row[q], labels);
  r.samples = table.rows.size();
  if (r.samples == 0) throw InputError(file.string(), 0, "", "at least one result row");
  r.score = 100.0 * static_cast<double>(correct) / static_cast<double>(r.samples);
  return r;
}

// ------------------------------------------------------------------ InfiniteBench
RescoreResult rescore_infinitebench(std::string task, const std::filesystem::path& file) {
  if (task.empty()) {
    task = stem_before(file, ".jsonl");
    if (task.rfind("preds_", 0) == 0) task = task.substr(6);
  }
  std::string metric_task = task;
  if (task == "kv_retrieval_prefix" || task == "kv_retrieval_both") metric_task = "kv_retrieval";
  auto scorer = make_scorer("infbench_" + metric_task);
  auto records = read_jsonl_records(file);
  RescoreResult r = make_result("InfiniteBench", task, file.string(), scorer->name(), "0-1");
  std::vector<TaskSample> samples;
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const json& label = field(rec, {"ground_truth", "label"}, file, line);
    const std::string pred = string_field(rec, {"prediction", "pred"}, file, line);
    json meta = {{"label", label}};
    if (rec.contains("model_name")) meta["model_name"] = rec.at("model_name");
    samples.push_back({line - 1, {{scorer->name(), 100 * scorer->score(pred, {}, meta)}}});
  }
  r.samples = records.size();
  r.score = official_task_score(*scorer, task, samples) / 100;
  return r;
}

// ------------------------------------------------------------------ LEval
RescoreResult rescore_leval(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = text::split_on(file.filename().string(), ".")[0];
  auto records = read_jsonl_records(file);
  std::string pred_key;
  for (auto it = records[0].begin(); it != records[0].end(); ++it)
    if (text::contains(it.key(), "_pred")) {
      pred_key = it.key();
      break;
    }
  if (pred_key.empty()) throw InputError(file.string(), 1, "<model>_pred", "a prediction field whose name contains '_pred'");
  // auto_eval.py picks the per-task processing by substrings of the prediction file path; we match the task name
  // (which defaults to the file name), so directory names cannot change the rule.
  const std::string path_text = task;
  RescoreResult r = make_result("LEval", task, file.string(), "", "0-100");
  std::string evaluation;
  // Split-wise accumulation for topic_retrieval_longchat (3) and sci_fi (2); one split otherwise.
  std::vector<double> split_sum(3, 0.0), rouge_sum(3, 0.0);
  std::vector<size_t> split_n(3, 0);
  const bool topic = text::contains(path_text, "topic_retrieval_longchat");
  const bool sci_fi = text::contains(path_text, "sci_fi");
  bool with_options = false;
  for (const char* t : {"coursera", "quality", "tpo"}) with_options = with_options || text::contains(path_text, t);
  std::vector<TaskSample> samples;  // for the official aggregation the metrics pass uses too
  int line = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const json& rec = records[i];
    ++line;
    const std::string eval = string_field(rec, {"evaluation"}, file, line);
    if (eval != "exam" && eval != "f1" && eval != "rouge") {
      ++r.skipped;
      continue;
    }
    evaluation = eval;
    const std::string gt = string_field(rec, {"gt"}, file, line);
    const std::string pred = string_field(rec, {pred_key}, file, line);
    auto metric = [&](const std::string& p, const std::string& g) {
      if (eval == "exam") return leval::exact_match(p, g);
      if (eval == "f1") return text::squad_f1(p, g);
      return 0.0;
    };
    const std::vector<double> split_before = split_sum;
    if (eval == "rouge") {
      const double r1 = text::google_rouge_n(gt, pred, 1).f, r2 = text::google_rouge_n(gt, pred, 2).f,
                   rl = text::google_rouge_l(gt, pred).f;
      rouge_sum[0] += r1;
      rouge_sum[1] += r2;
      rouge_sum[2] += rl;
      ++split_n[0];
      samples.push_back({static_cast<int64_t>(i),
                         {{"leval_rouge1", 100 * r1}, {"leval_rouge2", 100 * r2}, {"leval_rougel", 100 * rl}}});
      continue;
    }
    if (with_options) {
      split_sum[0] += metric(leval::process_output_mc(pred, text::contains(path_text, "coursera")), leval::process_gt_mc(gt));
      ++split_n[0];
    } else if (text::contains(path_text, "gsm")) {
      split_sum[0] += metric(leval::process_math(pred), leval::process_math(gt));
      ++split_n[0];
    } else if (text::contains(path_text, "codeU")) {
      split_sum[0] += metric(leval::process_output_code(pred, gt), leval::process_gt_code(gt));
      ++split_n[0];
    } else if (topic) {
      split_sum[i % 3] += metric(pred, gt);
      ++split_n[i % 3];
    } else if (sci_fi) {
      auto g = leval::process_gt_judge(gt);
      auto p = leval::process_output_judge(pred);
      split_sum[0] += metric(p[0], g[0]);
      split_sum[1] += metric(p[1], g[1]);
      ++split_n[0];
      ++split_n[1];
    } else {
      split_sum[0] += metric(pred, gt);
      ++split_n[0];
    }
    // The sample's score: what it added to its split(s), averaged over them (sci_fi: loyalty and fact).
    double added = 0;
    for (size_t s = 0; s < split_sum.size(); ++s) added += split_sum[s] - split_before[s];
    const double per_sample = sci_fi ? added / 2 : added;
    samples.push_back({static_cast<int64_t>(i), {{eval == "exam" ? "leval_exam" : "leval_f1", 100 * per_sample}}});
  }
  if (evaluation.empty()) throw InputError(file.string(), 0, "evaluation", "at least one row with evaluation exam, f1 or rouge");
  r.samples = records.size() - r.skipped;
  if (evaluation == "rouge") {
    const double n = static_cast<double>(split_n[0]);
    const double r1 = 100 * rouge_sum[0] / n, r2 = 100 * rouge_sum[1] / n, rl = 100 * rouge_sum[2] / n;
    r.metric = "leval_rouge (geometric mean of R1, R2, RL)";
    r.breakdown = {{"rouge1", r1}, {"rouge2", r2}, {"rougeL", rl}};
    r.score = official_task_score(*make_scorer("leval_rouge1"), task, samples);
    return r;
  }
  r.metric = evaluation == "exam" ? "leval_exam" : "leval_f1";
  const size_t splits = topic ? 3 : sci_fi ? 2 : 1;
  for (size_t s = 0; splits > 1 && s < splits; ++s) {
    const double v = split_n[s] ? 100.0 * split_sum[s] / static_cast<double>(split_n[s]) : 0.0;
    r.breakdown.emplace_back(topic ? "sentence_" + std::to_string(s + 1) : (s == 0 ? "loyalty" : "fact"), v);
  }
  r.score = official_task_score(*make_scorer(r.metric), task, samples);
  return r;
}

// ------------------------------------------------------------------ LongBench
const std::map<std::string, std::string>& longbench_dataset_metrics() {
  static const std::map<std::string, std::string> m = {
      {"narrativeqa", "qa_f1"}, {"qasper", "qa_f1"}, {"multifieldqa_en", "qa_f1"}, {"multifieldqa_zh", "qa_f1_zh"},
      {"hotpotqa", "qa_f1"}, {"2wikimqa", "qa_f1"}, {"musique", "qa_f1"}, {"dureader", "rouge_zh"},
      {"gov_report", "rouge"}, {"qmsum", "rouge"}, {"multi_news", "rouge"}, {"vcsum", "rouge_zh"},
      {"trec", "classification"}, {"triviaqa", "qa_f1"}, {"samsum", "rouge"}, {"lsht", "classification"},
      {"passage_retrieval_en", "retrieval"}, {"passage_count", "count"}, {"passage_retrieval_zh", "retrieval_zh"},
      {"lcc", "code_sim"}, {"repobench-p", "code_sim"}};
  return m;
}

RescoreResult rescore_longbench(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = text::split_on(file.filename().string(), ".")[0];
  bool e_variant = false;
  std::string dataset = task;
  if (dataset.size() > 2 && dataset.compare(dataset.size() - 2, 2, "_e") == 0) {
    dataset = dataset.substr(0, dataset.size() - 2);
    e_variant = true;
  }
  auto it = longbench_dataset_metrics().find(dataset);
  if (it == longbench_dataset_metrics().end()) throw InputError("", 0, "task", "a LongBench dataset name (got '" + task + "')");
  auto scorer = make_scorer(it->second);
  auto records = read_jsonl_records(file);
  RescoreResult r = make_result("LongBench", task, file.string(), it->second, "0-100");
  std::vector<TaskSample> samples;
  std::vector<double> bucket_sum(3, 0.0);
  std::vector<size_t> bucket_n(3, 0);
  json meta_template = {{"dataset", dataset}};
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const std::string pred = string_field(rec, {"pred"}, file, line);
    const json& answers = field(rec, {"answers"}, file, line);
    if (!answers.is_array()) throw InputError(file.string(), line, "answers", "a list of answer strings");
    std::vector<std::string> refs;
    for (const auto& a : answers) refs.push_back(a.is_string() ? a.get<std::string>() : a.dump());
    json meta = meta_template;
    if (rec.contains("all_classes")) meta["all_classes"] = rec.at("all_classes");
    const double s = scorer->score(pred, refs, meta);
    samples.push_back({line - 1, {{scorer->name(), 100 * s}}});
    if (e_variant) {
      const json& length = field(rec, {"length"}, file, line);
      const double len = length.is_number() ? length.get<double>() : 0;
      const size_t b = len < 4000 ? 0 : len < 8000 ? 1 : 2;
      bucket_sum[b] += s;
      ++bucket_n[b];
    }
  }
  r.samples = records.size();
  r.score = official_task_score(*scorer, task, samples);
  if (e_variant) {
    const char* names[3] = {"0-4k", "4-8k", "8k+"};
    for (size_t b = 0; b < 3; ++b)
      r.breakdown.emplace_back(names[b], bucket_n[b] ? 100 * bucket_sum[b] / static_cast<double>(bucket_n[b]) : NAN);
  }
  return r;
}

// ------------------------------------------------------------------ LongBench v2
// result.py reads the whole file as one JSON value first and falls back to JSON lines.
std::vector<json> read_json_or_jsonl_records(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "a readable prediction file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const json whole = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (whole.is_discarded()) return read_jsonl_records(path);
  if (!whole.is_array()) throw InputError(path.string(), 1, "", "a JSON list of prediction records or JSON lines");
  if (whole.empty()) throw InputError(path.string(), 0, "", "at least one prediction record");
  for (size_t i = 0; i < whole.size(); ++i)
    if (!whole[i].is_object())
      throw InputError(path.string(), 0, "", "a JSON object at list index " + std::to_string(i));
  return std::vector<json>(whole.begin(), whole.end());
}

// Python's round(x, 1) for the figures result.py prints (ties are rare in these ratios; nearbyint rounds them to even).
double round_1(double x) { return std::nearbyint(x * 10) / 10; }

// result.py: acc = int(judge) (0.25 for pred None in its compensated mode, off by default); Overall over all
// rows; Easy = difficulty "easy", Hard = everything else; Short / Medium by `length`, Long = everything else.
// Each figure is round(100 * acc / n, 1); a column without rows is NaN here (result.py divides by zero).
RescoreResult rescore_longbench_v2(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = stem_before(file, ".jsonl");
  auto records = read_json_or_jsonl_records(file);
  RescoreResult r =
      make_result("LongBench_v2", task, file.string(), "longbench_v2_accuracy (result.py judge)", "0-100");
  enum { kEasy, kHard, kShort, kMedium, kLong, kColumns };
  std::vector<double> acc(kColumns, 0.0), n(kColumns, 0.0);
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const json& judge = field(rec, {"judge"}, file, line);
    if (!judge.is_boolean() && !judge.is_number())
      throw InputError(file.string(), line, "judge", "true / false (the answer letter equals the gold letter)");
    const double a = judge.is_boolean() ? (judge.get<bool>() ? 1.0 : 0.0) : std::trunc(judge.get<double>());
    const std::string difficulty = string_field(rec, {"difficulty"}, file, line);
    const std::string length = string_field(rec, {"length"}, file, line);
    const int d = difficulty == "easy" ? kEasy : kHard;
    const int l = length == "short" ? kShort : length == "medium" ? kMedium : kLong;
    acc[d] += a;
    n[d] += 1;
    acc[l] += a;
    n[l] += 1;
  }
  r.samples = records.size();
  r.score = round_1(100 * (acc[kEasy] + acc[kHard]) / static_cast<double>(records.size()));
  const char* names[kColumns] = {"easy", "hard", "short", "medium", "long"};
  for (int c = 0; c < kColumns; ++c) r.breakdown.emplace_back(names[c], n[c] > 0 ? round_1(100 * acc[c] / n[c]) : NAN);
  return r;
}

// ------------------------------------------------------------------ RULER
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
  r.score = std::nearbyint(100 * sum / static_cast<double>(records.size()) * 100) / 100;
  r.breakdown = {{"nulls", nulls}};
  return r;
}

// ------------------------------------------------------------------ LV-Eval
// evaluation.py: the dataset name is the file stem before the first match of `_.{1,3}k` (the length level);
// config.py's DATASET_METRIC on `pred`, answers[0] only (the loop breaks) and `gold_ans`; round(100 * mean, 2).
RescoreResult rescore_lveval(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = stem_before(file, ".jsonl");
  static const std::map<std::string, std::string> kMetrics = {
      {"hotpotwikiqa_mixup", "lveval_qa_f1_gold"},     {"loogle_SD_mixup", "lveval_qa_f1_gold"},
      {"loogle_CR_mixup", "lveval_qa_f1_gold"},        {"loogle_MIR_mixup", "lveval_qa_f1_gold"},
      {"multifieldqa_en_mixup", "lveval_qa_f1_gold"},  {"multifieldqa_zh_mixup", "lveval_qa_f1_zh_gold"},
      {"factrecall_en", "lveval_qa_f1"},               {"factrecall_zh", "lveval_qa_f1_zh"},
      {"cmrc_mixup", "lveval_qa_f1_zh_gold"},          {"lic_mixup", "lveval_qa_f1_zh_gold"},
      {"dureader_mixup", "lveval_rouge_zh_blacklist"}};
  std::smatch level;
  const std::string dataset =
      std::regex_search(task, level, std::regex("_.{1,3}k")) ? task.substr(0, level.position(0)) : task;
  auto it = kMetrics.find(dataset);
  if (it == kMetrics.end())
    throw InputError(file.string(), 0, "task",
                     "an LV-Eval dataset with its length level, e.g. hotpotwikiqa_mixup_16k (got '" + task + "')");
  auto scorer = make_scorer(it->second);
  auto records = read_jsonl_records(file);
  RescoreResult r = make_result("LVEval", task, file.string(), scorer->name(), "0-100");
  double sum = 0;
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const std::string pred = string_field(rec, {"pred"}, file, line);
    const json& answers = field(rec, {"answers"}, file, line);
    if (!answers.is_array() || answers.empty() || !answers[0].is_string())
      throw InputError(file.string(), line, "answers", "a non-empty list of answer strings");
    json meta = json::object();
    if (rec.contains("gold_ans") && rec.at("gold_ans").is_string()) meta["gold_ans"] = rec.at("gold_ans");
    sum += scorer->score(pred, {answers[0].get<std::string>()}, meta);
  }
  r.samples = records.size();
  r.score = std::nearbyint(100 * sum / static_cast<double>(records.size()) * 100) / 100;
  return r;
}

// ------------------------------------------------------------------ LongWriter
// evaluation/eval_length.py: mean over rows of S_l(length, response_length) on 0-100. response_length is what
// pred.py's count_words gave the response; the longwriter_length scorer recounts it from `response` the same way.
// The quality score S_q needs a GPT-4o judge and is not computed.
RescoreResult rescore_longwriter(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = "longbench_write";
  auto scorer = make_scorer("longwriter_length");
  auto records = read_jsonl_records(file);
  RescoreResult r =
      make_result("LongWriter", task, file.string(), "longwriter_length (S_l; S_q needs a judge)", "0-100");
  double sum = 0;
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const json& length = field(rec, {"length"}, file, line);
    if (!length.is_number() || length.get<double>() <= 0)
      throw InputError(file.string(), line, "length", "the required length, a positive number");
    sum += scorer->score(string_field(rec, {"response"}, file, line), {}, {{"length", length}});
  }
  r.samples = records.size();
  r.score = 100 * sum / static_cast<double>(records.size());
  return r;
}

}  // namespace

std::vector<std::string> rescorable_benchmarks() {
  return {"BABILong", "InfiniteBench", "LEval", "LongBench", "LongBench_v2", "LongWriter", "LVEval", "RULER"};
}

RescoreResult rescore_predictions(const std::string& benchmark, const std::string& task,
                                  const std::filesystem::path& predictions) {
  const std::string b = lower_ascii(benchmark);
  if (b == "babilong") return rescore_babilong(task, predictions);
  if (b == "infinitebench") return rescore_infinitebench(task, predictions);
  if (b == "leval") return rescore_leval(task, predictions);
  if (b == "longbench" || b == "longbench-e" || b == "longbench_e") return rescore_longbench(task, predictions);
  if (b == "longbench_v2" || b == "longbench-v2" || b == "longbenchv2") return rescore_longbench_v2(task, predictions);
  if (b == "ruler") return rescore_ruler(task, predictions);
  if (b == "lveval" || b == "lv-eval") return rescore_lveval(task, predictions);
  if (b == "longwriter") return rescore_longwriter(task, predictions);
  throw InputError("", 0, "benchmark",
                   "one of BABILong, InfiniteBench, LEval, LongBench, LongBench_v2, LongWriter, LVEval, RULER (got '" +
                       benchmark + "')");
}

}  // namespace loom::metrics
