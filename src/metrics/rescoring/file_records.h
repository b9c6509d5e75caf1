// Shared pieces of the prediction-file readers (prediction_files.cpp and the per-harness *_predictions.cpp files):
// reading JSON lines or a JSON list, required fields with errors that name the file, line and key, the task from the
// file name, and Python's round() for the figures the official scripts print.
#pragma once

#include "metrics/rescoring/prediction_files.h"
#include "metrics/scorer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace loom::metrics::rescoring {

// One JSON object per non-empty line; throws InputError naming the file and line otherwise, or when there are none.
std::vector<nlohmann::json> read_jsonl_records(const std::filesystem::path& path);
// The whole file as one JSON list of objects, else JSON lines (what LongBench v2's result.py accepts).
std::vector<nlohmann::json> read_json_or_jsonl_records(const std::filesystem::path& path);
// The first of `keys` the record has; throws InputError naming file, line and key when none is there.
const nlohmann::json& field(const nlohmann::json& record, const std::vector<std::string>& keys,
                            const std::filesystem::path& file, int line);
std::string string_field(const nlohmann::json& record, const std::vector<std::string>& keys,
                         const std::filesystem::path& file, int line);
// The file name without `suffix` (the whole name when it does not end so).
std::string stem_before(const std::filesystem::path& file, const std::string& suffix);
// The scorer's official aggregation (the one the metrics pass prints) over the file's samples.
double official_task_score(const Scorer& scorer, const std::string& task, const std::vector<TaskSample>& samples);
RescoreResult make_result(std::string benchmark, std::string task, std::string file, std::string metric,
                          std::string scale);
// Python's round(x, digits) for the official scripts' printed figures (ties go to even, like nearbyint).
double python_round(double x, int digits);

}  // namespace loom::metrics::rescoring
