// LongBench v2 results/<model>.jsonl (pred.py) re-scored as THUDM/LongBench result.py does.
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"

#include <cmath>
#include <vector>

namespace loom::metrics::rescoring {

using nlohmann::json;

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
  r.score = python_round(100 * (acc[kEasy] + acc[kHard]) / static_cast<double>(records.size()), 1);
  const char* names[kColumns] = {"easy", "hard", "short", "medium", "long"};
  for (int c = 0; c < kColumns; ++c)
    r.breakdown.emplace_back(names[c], n[c] > 0 ? python_round(100 * acc[c] / n[c], 1) : NAN);
  return r;
}

}  // namespace loom::metrics::rescoring
