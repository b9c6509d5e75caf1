// LEval's answer processing and exact-match rule (OpenLMLab/LEval, Evaluation/auto_eval.py + em.py), shared by the
// per-sample scorers (scorers/leval.cpp) and by `loom_mpi score` on *.pred.jsonl files.
#pragma once

#include "metrics/scorer.h"

#include <string>
#include <vector>

namespace loom::metrics::leval {

double exact_match(const std::string& prediction, const std::string& ground_truth);  // em.py: 1, 0.25 or 0
std::string process_output_mc(const std::string& response, bool coursera);
std::string process_gt_mc(const std::string& ground_truth);
std::string process_math(const std::string& response);
std::string process_gt_code(const std::string& response);
std::string process_output_code(const std::string& response, const std::string& ground_truth);
// "loyalty [fact: x]" -> {loyalty, fact}; a text without "[fact:" gives an empty fact (upstream raises).
std::vector<std::string> process_gt_judge(const std::string& response);
std::vector<std::string> process_output_judge(const std::string& response);

bool is_option_task(const std::string& task);  // coursera, quality, tpo
// Per-sample exam score for a task (everything but topic_retrieval_longchat's 3-way split is per sample).
double exam_score(const std::string& task, const std::string& prediction, const std::string& ground_truth);

// auto_eval.py's task scores (0-100) from per-sample scores (0-100), shared by the metrics pass (the scorers'
// official aggregation) and `loom_mpi score`:
//   exam / F1: the mean; topic_retrieval_longchat the mean of its three per-position splits (index mod 3)
//   rouge:     LEval_score, the geometric mean of the leval_rouge1 / leval_rouge2 / leval_rougel means
double official_exam_score(const std::string& task, const std::vector<TaskSample>& samples);
double official_rouge_score(const std::vector<TaskSample>& samples);

}  // namespace loom::metrics::leval
