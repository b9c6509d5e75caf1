// CLongEval scorers (zexuanqiu/CLongEval @ 81ba789, metrics.py + post_processing_for_stacked_tasks.py), scored as
// eval.py's dataset2metric and LOOM-Scope's CLongEval eval.py call them: metric(prediction, answer), the record's
// one answer (references[0]). Chinese text goes through jieba 0.42.1 (precise mode) and Python str / re semantics.
//  clongeval_qa_f1_zh        LStQA, LCvMem: strip; keep the first line; cut at "问题："; jieba tokens, each
//                            normalize_zh_answer'd (lower, ASCII + CJK punctuation, whitespace removed), empties
//                            dropped; token F1.
//  clongeval_rouge_zh        LStSum: "" → 0; jieba tokens joined by spaces; pltrdy rouge 1.0.1 rouge-l F (eval.py
//                            raises the recursion limit to 10000).
//  clongeval_news_labeling   StNLab: "新闻<id>，<label>" pairs from each prediction line (the three
//                            news_labeling_pattern_match patterns), |pred ∩ gold| / #gold lines.
//  clongeval_typo_detection  StTDet as eval.py scores every model but GPT-4-Turbo (all of the README's other
//                            figures): the answer is first rewritten as "，".join([a[0], a[2], a[0]]) of
//                            answer.split("，") (a file-wide split: only the first typo line survives), then
//                            typo_detection_zh_score: typo_detection_pattern_match's six line patterns (a line is cut
//                            at "（"); a prediction holding "\n\n" yields nothing (upstream's fallback patterns need a
//                            "\n" inside one line); id + first character field compared with the gold lines',
//                            / #gold lines.
//  clongeval_typo_detection_raw  the same without the rewrite: metrics.py on the answer as stored (LOOM-Scope's
//                            CLongEval eval.py; upstream eval.py for gpt4-turbo-128k).
//  clongeval_retrieval_edit  KpRet: cut at "键："; punctuation removed; 1 − Levenshtein / max length (code points).
//  clongeval_table_match     TblQry: punctuation removed; 1 when the gold is a substring of the prediction.
// Where upstream raises (a gold StNLab line without "新闻 <n>：<label>", both KpRet strings empty, a pltrdy
// exception, an StTDet answer with fewer than three "，"-separated fields for the rewrite) the score is 0.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/jieba_segmenter.h"
#include "metrics/text/normalize.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <optional>
#include <set>

namespace loom::metrics {

namespace {

using namespace text;

// string.punctuation + metrics.py's cn_punctuation (the same set as LongBench's).
bool is_punctuation(char32_t c) { return is_ascii_punctuation(c) || is_zh_punctuation(c); }

std::u32string remove_punc(const std::u32string& s) {
  std::u32string out;
  for (char32_t c : s)
    if (!is_punctuation(c)) out.push_back(c);
  return out;
}

std::string cut_before(const std::string& text, const std::string& marker) {
  const size_t at = text.find(marker);
  return at == std::string::npos ? text : text.substr(0, at);
}

std::vector<std::string> zh_tokens(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& token : JiebaSegmenter::shared().cut(s)) {
    std::string norm = zh_normalize(token);
    if (!norm.empty()) out.push_back(std::move(norm));
  }
  return out;
}

double qa_f1_zh(const std::string& prediction, const std::string& answer) {
  std::string pred = py_strip(prediction);
  if (contains(pred, "\n")) pred = split_on(pred, "\n")[0];
  pred = cut_before(pred, "问题：");
  return token_f1(zh_tokens(pred), zh_tokens(answer));
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) out += (i ? " " : "") + words[i];
  return out;
}

double rouge_zh(const std::string& prediction, const std::string& answer) {
  if (prediction.empty()) return 0.0;
  const auto& jieba = JiebaSegmenter::shared();
  // eval.py: sys.setrecursionlimit(10000); <module> -> scorer -> rouge_zh_score (depth 3) -> Rouge.get_scores.
  constexpr int kBudget = 10000 - 3 - kPltrdyFramesFromGetScores;
  const auto scores = pltrdy_rouge(join_words(jieba.cut(prediction)), join_words(jieba.cut(answer)), kBudget);
  return scores ? scores->rougel.f : 0.0;
}

// ---- the regular expressions of post_processing_for_stacked_tasks.py / metrics.py, as linear matchers.
// Every pattern is a sequence of: literal text, \d+ or \w+ runs (optionally captured), a one-of class ([，,]),
// an optional \s. In each pattern the element after a run cannot start with a character of the run's class, so the
// greedy maximal run is the only one that can match and re.search's leftmost match is found without backtracking.
struct Element {
  enum Kind { kLiteral, kDigits, kWord, kOneOf, kOptionalSpace, kSpace } kind;
  std::u32string text;  // literal / class characters
  bool capture = false;
};

Element lit(const char* s) { return {Element::kLiteral, to_u32(s), false}; }
Element digits(bool capture) { return {Element::kDigits, {}, capture}; }
Element word() { return {Element::kWord, {}, true}; }
Element one_of(const char* s) { return {Element::kOneOf, to_u32(s), false}; }
Element optional_space() { return {Element::kOptionalSpace, {}, false}; }
Element space() { return {Element::kSpace, {}, false}; }

using Pattern = std::vector<Element>;

std::optional<std::vector<std::u32string>> match_at(const std::u32string& s, size_t pos, const Pattern& pattern) {
  std::vector<std::u32string> groups;
  for (const Element& e : pattern) {
    switch (e.kind) {
      case Element::kLiteral:
        if (s.compare(pos, e.text.size(), e.text) != 0) return std::nullopt;
        pos += e.text.size();
        break;
      case Element::kDigits:
      case Element::kWord: {
        size_t end = pos;
        while (end < s.size() && (e.kind == Element::kDigits ? py_is_decimal_digit(s[end]) : py_is_word_char(s[end])))
          ++end;
        if (end == pos) return std::nullopt;
        if (e.capture) groups.push_back(s.substr(pos, end - pos));
        pos = end;
        break;
      }
      case Element::kOneOf:
        if (pos >= s.size() || e.text.find(s[pos]) == std::u32string::npos) return std::nullopt;
        ++pos;
        break;
      case Element::kOptionalSpace:
        if (pos < s.size() && py_isspace(s[pos])) ++pos;
        break;
      case Element::kSpace:
        if (pos >= s.size() || !py_isspace(s[pos])) return std::nullopt;
        ++pos;
        break;
    }
  }
  return groups;
}

// re.search: the match at the leftmost start position.
std::optional<std::vector<std::u32string>> search(const std::u32string& s, const Pattern& pattern) {
  for (size_t start = 0; start <= s.size(); ++start)
    if (auto groups = match_at(s, start, pattern)) return groups;
  return std::nullopt;
}

std::string joined(const std::vector<std::u32string>& groups) {
  std::string out;
  for (size_t i = 0; i < groups.size(); ++i) out += (i ? "，" : "") + to_utf8(groups[i]);
  return out;
}

std::vector<std::string> news_labeling_pattern_match(const std::string& prediction) {
  static const std::vector<Pattern> patterns = {
      {lit("新闻"), digits(true), lit("，类别名："), word()},
      {lit("新闻"), digits(true), lit("，类别名"), digits(false), lit("："), word()},
      {lit("新闻"), optional_space(), digits(true), one_of("，："), word()},
  };
  std::vector<std::string> out;
  for (const std::string& line : split_on(prediction, "\n")) {
    const std::u32string u = to_u32(line);
    for (const Pattern& p : patterns)
      if (auto groups = search(u, p)) {
        out.push_back(joined(*groups));
        break;
      }
  }
  return out;
}

double news_labeling(const std::string& prediction, const std::string& answer) {
  const std::vector<std::string> predicted = news_labeling_pattern_match(py_strip(prediction));
  if (predicted.empty()) return 0.0;
  static const Pattern gold_pattern = {lit("新闻"), space(), digits(true), one_of("："), word()};
  std::vector<std::string> gold;
  for (const std::string& line : split_on(answer, "\n")) {
    auto groups = search(to_u32(line), gold_pattern);
    if (!groups) return 0.0;  // upstream: match.group on None raises
    gold.push_back(joined(*groups));
  }
  const std::set<std::string> p(predicted.begin(), predicted.end()), g(gold.begin(), gold.end());
  size_t same = 0;
  for (const auto& x : p) same += g.count(x);
  return same == 0 ? 0.0 : static_cast<double>(same) / static_cast<double>(gold.size());
}

std::vector<std::string> typo_detection_pattern_match(const std::string& prediction) {
  static const std::vector<Pattern> patterns = {
      {lit("段落ID："), digits(true), one_of("，,"), lit("错别字"), digits(false), lit("，"), word(), one_of("，,"),
       lit("正确字"), digits(false), lit("，"), word()},
      {lit("段落ID："), digits(true), one_of("，,"), lit("错别字，"), word(), one_of("，,"), lit("正确字，"), word()},
      {lit("段落ID："), digits(true), one_of("，,"), lit("错别字："), word(), one_of("，,"), lit("正确字："), word()},
      {lit("段落ID："), digits(true), one_of("，,"), lit("错别字"), digits(false), lit("，"), word(), one_of("，,"),
       word()},
      {lit("段落ID："), digits(true), one_of("，,"), word(), one_of("，,"), word()},
      {digits(true), one_of("，,"), word(), one_of("，,"), word()},
  };
  std::vector<std::string> out;
  for (const std::string& full_line : split_on(prediction, "\n")) {
    const std::string line = cut_before(full_line, "（");
    const std::u32string u = to_u32(line);
    for (const Pattern& p : patterns)
      if (auto groups = search(u, p)) {
        out.push_back(joined(*groups));
        break;
      }
  }
  // Upstream then splits on "\n\n"; with more than one block it keeps only results its two multi-line patterns
  // also find in the last single line, which they never can (each needs a "\n"): the result is empty.
  if (split_on(prediction, "\n\n").size() > 1) return {};
  return out;
}

// "".join(item.split("，")[0:2])
std::string id_and_typo(const std::string& item) {
  const std::vector<std::string> parts = split_on(item, "，");
  return parts.size() >= 2 ? parts[0] + parts[1] : parts[0];
}

double typo_detection(const std::string& prediction, const std::string& answer) {
  const std::vector<std::string> predicted = typo_detection_pattern_match(py_strip(prediction));
  if (predicted.empty()) return 0.0;
  std::set<std::string> p, g;
  for (const auto& item : predicted) p.insert(id_and_typo(item));
  const std::vector<std::string> gold_lines = split_on(py_strip(answer), "\n");
  for (const auto& line : gold_lines) g.insert(id_and_typo(line));
  size_t same = 0;
  for (const auto& x : p) same += g.count(x);
  return same == 0 ? 0.0 : static_cast<double>(same) / static_cast<double>(gold_lines.size());
}

// eval.py get_prediction_answer for a model other than gpt4-turbo-128k.
double typo_detection_eval(const std::string& prediction, const std::string& answer) {
  const std::vector<std::string> a = split_on(answer, "，");
  if (a.size() < 3) return 0.0;  // upstream: IndexError
  return typo_detection(prediction, a[0] + "，" + a[2] + "，" + a[0]);
}

size_t levenshtein(const std::u32string& a, const std::u32string& b) {
  const std::u32string& s1 = a.size() >= b.size() ? a : b;
  const std::u32string& s2 = a.size() >= b.size() ? b : a;
  std::vector<size_t> previous(s2.size() + 1), current(s2.size() + 1);
  for (size_t j = 0; j <= s2.size(); ++j) previous[j] = j;
  for (size_t i = 0; i < s1.size(); ++i) {
    current[0] = i + 1;
    for (size_t j = 0; j < s2.size(); ++j)
      current[j + 1] = std::min({previous[j + 1] + 1, current[j] + 1, previous[j] + (s1[i] != s2[j] ? 1 : 0)});
    std::swap(previous, current);
  }
  return previous[s2.size()];
}

double retrieval_edit(const std::string& prediction, const std::string& answer) {
  const std::u32string pred = remove_punc(to_u32(cut_before(prediction, "键：")));
  const std::u32string gold = remove_punc(to_u32(answer));
  const size_t max_len = std::max(pred.size(), gold.size());
  if (max_len == 0) return 0.0;  // upstream divides by zero
  return 1.0 - static_cast<double>(levenshtein(pred, gold)) / static_cast<double>(max_len);
}

double table_match(const std::string& prediction, const std::string& answer) {
  const std::string pred = to_utf8(remove_punc(to_u32(prediction)));
  const std::string gold = to_utf8(remove_punc(to_u32(answer)));
  return pred.find(gold) != std::string::npos ? 1.0 : 0.0;
}

ScorerEntry on_answer(const std::string& name, double (*fn)(const std::string&, const std::string&)) {
  return {name, [fn](const std::string& p, const std::vector<std::string>& refs, const nlohmann::json&) {
            return refs.empty() ? 0.0 : fn(p, refs[0]);
          }};
}

}  // namespace

std::vector<ScorerEntry> clongeval_scorers() {
  std::vector<ScorerEntry> out = {on_answer("clongeval_qa_f1_zh", qa_f1_zh),
                                  on_answer("clongeval_rouge_zh", rouge_zh),
                                  on_answer("clongeval_news_labeling", news_labeling),
                                  on_answer("clongeval_typo_detection", typo_detection_eval),
                                  on_answer("clongeval_typo_detection_raw", typo_detection),
                                  on_answer("clongeval_retrieval_edit", retrieval_edit),
                                  on_answer("clongeval_table_match", table_match)};
  return with_aggregation(std::move(out),
                          mean_aggregation("CLongEval eval.py: 100 x mean per task and size (small/medium/large)"));
}

}  // namespace loom::metrics
