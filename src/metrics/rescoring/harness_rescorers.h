// Readers for the prediction files of harnesses beyond the first four (those stay in prediction_files.cpp), one
// file each: LongBench v2 result files, RULER, LV-Eval, LongWriter, LIBRA, Counting-Stars, LongIns and Ada-LEval
// predictions, LooGLE outputs, CLongEval inference results and NIAH result files. Each applies the official script's own aggregation
// (named in its file) and throws InputError naming the file, line and key on bad input.
#pragma once

#include "metrics/rescoring/prediction_files.h"

#include <filesystem>
#include <string>

namespace loom::metrics::rescoring {

RescoreResult rescore_longbench_v2(std::string task, const std::filesystem::path& file);
RescoreResult rescore_ruler(std::string task, const std::filesystem::path& file);
RescoreResult rescore_lveval(std::string task, const std::filesystem::path& file);
RescoreResult rescore_longwriter(std::string task, const std::filesystem::path& file);
RescoreResult rescore_libra(const std::string& task, const std::filesystem::path& file);
RescoreResult rescore_counting_stars(std::string task, const std::filesystem::path& file);
RescoreResult rescore_longins(std::string task, const std::filesystem::path& file);
RescoreResult rescore_ada_leval(std::string task, const std::filesystem::path& file);
RescoreResult rescore_loogle(std::string task, const std::filesystem::path& file);
RescoreResult rescore_clongeval(std::string task, const std::filesystem::path& file);
RescoreResult rescore_niah(std::string task, const std::filesystem::path& path);  // a file or a folder

}  // namespace loom::metrics::rescoring
