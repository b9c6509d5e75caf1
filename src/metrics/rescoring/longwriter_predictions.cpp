// LongWriter models/<model>/pred.jsonl re-scored as THUDM/LongWriter evaluation/eval_length.py does.
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"

namespace loom::metrics::rescoring {

using nlohmann::json;

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

}  // namespace loom::metrics::rescoring
