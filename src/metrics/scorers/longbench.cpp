// LongBench v1 / LongBench-E scorers (THUDM/LongBench, LongBench/metrics.py + eval.py):
// per sample = max(0, metric(pred, answer) for answer in answers). For the datasets trec, triviaqa, samsum and
// lsht the prediction is first cut to pred.lstrip('\n').split('\n')[0]; the loader marks those samples with
// metadata {"first_line": true} (metadata {"dataset": name} has the same effect).
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/fuzzy_ratio.h"
#include "metrics/text/jieba_segmenter.h"
#include "metrics/text/normalize.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include <algorithm>

namespace loom::metrics {

namespace {

using namespace text;

std::string longbench_prediction(const std::string& prediction, const nlohmann::json& metadata) {
  const std::string dataset = metadata_string(metadata, "dataset");
  const bool first_line = metadata_bool(metadata, "first_line") || dataset == "trec" || dataset == "triviaqa" ||
                          dataset == "samsum" || dataset == "lsht";
  if (!first_line) return prediction;
  return split_on(lstrip_chars(prediction, "\n"), "\n")[0];
}

ScoreFunction per_reference(std::function<double(const std::string&, const std::string&, const nlohmann::json&)> fn) {
  return [fn](const std::string& prediction, const std::vector<std::string>& references, const nlohmann::json& meta) {
    const std::string pred = longbench_prediction(prediction, meta);
    return max_over_references(references, [&](const std::string& ref) { return fn(pred, ref, meta); });
  };
}

double fraction_equal(const std::vector<std::string>& numbers, const std::string& target) {
  if (numbers.empty()) return 0.0;
  size_t right = 0;
  for (const auto& n : numbers) right += n == target;
  return static_cast<double>(right) / static_cast<double>(numbers.size());
}

// First capture of `prefix(\d+)` (Unicode \d) in text; empty when none.
std::string first_numbered(const std::string& text, const std::string& prefix) {
  size_t pos = 0;
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    std::u32string rest = to_u32(std::string_view(text).substr(pos + prefix.size()));
    size_t n = 0;
    while (n < rest.size() && py_is_decimal_digit(rest[n])) ++n;
    if (n > 0) return to_utf8(std::u32string_view(rest).substr(0, n));
    pos += 1;
  }
  return {};
}

double retrieval(const std::string& pred, const std::string& ref, const std::string& prefix) {
  const std::string id = first_numbered(ref, prefix);
  if (id.empty()) return 0.0;  // upstream raises IndexError on such a reference
  return fraction_equal(find_digit_runs(pred), id);
}

std::vector<std::string> zh_tokens(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& token : JiebaSegmenter::shared().cut(s)) {
    std::string norm = zh_normalize(token);
    if (!norm.empty()) out.push_back(std::move(norm));
  }
  return out;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out.push_back(' ');
    out += words[i];
  }
  return out;
}

// caller_depth: stack depth of the function calling Rouge.get_scores in eval.py (<module> -> scorer ->
// rouge_score = 3; rouge_zh_score -> rouge_score = 4).
double longbench_rouge_l(const std::string& prediction, const std::string& reference, int caller_depth) {
  auto scores = pltrdy_rouge(prediction, reference, pltrdy_budget_for_caller_depth(caller_depth));
  return scores ? scores->rougel.f : 0.0;
}

double longbench_classification(const std::string& prediction, const std::string& reference,
                                const std::vector<std::string>& all_classes) {
  std::vector<std::string> matches;
  for (const auto& c : all_classes)
    if (contains(prediction, c)) matches.push_back(c);
  // Python runs `for t in list: ... list.remove(t)`: remove() drops the first equal element and the loop index
  // still advances, so the element after each removal is skipped.
  for (size_t i = 0; i < matches.size(); ++i) {
    const std::string term = matches[i];
    if (contains(reference, term) && term != reference)
      matches.erase(std::find(matches.begin(), matches.end(), term));
  }
  for (const auto& m : matches)
    if (m == reference) return 1.0 / static_cast<double>(matches.size());
  return 0.0;
}

}  // namespace

std::vector<ScorerEntry> longbench_scorers() {
  std::vector<ScorerEntry> out;
  out.push_back({"qa_f1", per_reference([](const std::string& p, const std::string& r, const nlohmann::json&) {
                   return squad_f1(p, r);
                 })});
  out.push_back({"qa_f1_zh", per_reference([](const std::string& p, const std::string& r, const nlohmann::json&) {
                   return token_f1(zh_tokens(p), zh_tokens(r));
                 })});
  out.push_back({"rouge", per_reference([](const std::string& p, const std::string& r, const nlohmann::json&) {
                   return longbench_rouge_l(p, r, 3);
                 })});
  out.push_back({"rouge_zh", per_reference([](const std::string& p, const std::string& r, const nlohmann::json&) {
                   const auto& jieba = JiebaSegmenter::shared();
                   return longbench_rouge_l(join_words(jieba.cut(p)), join_words(jieba.cut(r)), 4);
                 })});
  out.push_back({"classification",
                 per_reference([](const std::string& p, const std::string& r, const nlohmann::json& meta) {
                   return longbench_classification(p, r, metadata_strings(meta, "all_classes"));
                 })});
  out.push_back({"retrieval", per_reference([](const std::string& p, const std::string& r, const nlohmann::json&) {
                   return retrieval(p, r, "Paragraph ");
                 })});
  out.push_back({"retrieval_zh", per_reference([](const std::string& p, const std::string& r, const nlohmann::json&) {
                   return retrieval(p, r, "段落");
                 })});
  out.push_back({"count", per_reference([](const std::string& p, const std::string& r, const nlohmann::json&) {
                   return fraction_equal(find_digit_runs(p), r);
                 })});
  out.push_back({"code_sim", per_reference([](const std::string& p, const std::string& r, const nlohmann::json&) {
                   std::string line;
                   for (const auto& l : split_on(lstrip_chars(p, "\n"), "\n")) {
                     if (!contains(l, "`") && !contains(l, "#") && !contains(l, "//")) {
                       line = l;
                       break;
                     }
                   }
                   return fuzz_ratio(line, r) / 100.0;
                 })});
  // eval.py: round(100 * mean, 2) per dataset (LongBench-E's buckets are not part of the task score).
  return with_aggregation(std::move(out), mean_aggregation("LongBench eval.py: 100 x mean per dataset"));
}

}  // namespace loom::metrics
