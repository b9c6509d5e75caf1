#include "metrics/rescoring/prediction_files.h"

#include "common/error.h"
#include "metrics/rescoring/csv_table.h"
#include "metrics/rescoring/file_records.h"
#include "metrics/rescoring/harness_rescorers.h"
#include "metrics/scorer.h"
#include "metrics/scorers/babilong.h"
#include "metrics/scorers/leval.h"
#include "metrics/text/normalize.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>

namespace loom::metrics {

namespace {

using nlohmann::json;
using namespace rescoring;  // NOLINT: the shared file readers

std::string lower_ascii(const std::string& s) { return text::ascii_lower(s); }

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

}  // namespace

std::vector<std::string> rescorable_benchmarks() {
  return {"Ada_LEval", "BABILong",   "CLongEval", "Counting_Stars", "InfiniteBench", "LEval", "LIBRA",
          "LongBench", "LongBench_v2", "LongIns",   "LongWriter",     "LooGLE",        "LVEval", "NIAH", "RULER"};
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
  if (b == "libra") return rescore_libra(task, predictions);
  if (b == "counting_stars" || b == "counting-stars") return rescore_counting_stars(task, predictions);
  if (b == "longins") return rescore_longins(task, predictions);
  if (b == "ada_leval" || b == "ada-leval") return rescore_ada_leval(task, predictions);
  if (b == "loogle") return rescore_loogle(task, predictions);
  if (b == "clongeval") return rescore_clongeval(task, predictions);
  if (b == "niah") return rescore_niah(task, predictions);
  std::string names;
  for (const auto& n : rescorable_benchmarks()) names += (names.empty() ? "" : ", ") + n;
  throw InputError("", 0, "benchmark", "one of " + names + " (got '" + benchmark + "')");
}

}  // namespace loom::metrics
