// LongBench-Cite's judged metrics (THUDM/LongCite @ d7d772e, re-implemented; prompts in longcite_prompt.h):
//   longcite_citation: LongBench-Cite/auto_scorer.py get_citation_score(js, max_statement_num=40) as eval_cite.py
//     calls it. The row's statements (longcite_statements.h), the first 40. Citation recall: per statement with
//     citations, is_support over its citations joined by "\n\n" (stripped; empty: 0 without asking): Fully 1,
//     Partially 0.5, else 0; per statement without, need_citation: score 1 - (Yes 1 / No 0). Citation precision: per
//     citation, is_relevant: Unrelevant 0, else 1. Each a mean (0 when there is nothing to average);
//     F1 = 2RP/(R+P) (0 when R+P = 0). Requests: one user turn, max_tokens 10, stop "Analysis:", temperature 0, then
//     1 for each of up to 4 more tries while the answer has no [[rating]]; after 5 the row is dropped (upstream
//     raises): unparsed here.
//   longcite_correctness: LongBench-Cite/eval_correct.py process: the answer without <cite> parts and statement tags,
//     scored against every reference, the maximum kept (from 0): gpt_score_qa (multifieldqa_en/_zh, hotpotqa,
//     dureader: (r-1)/2 of a 1-3 rating), gpt_score_summ (gov_report: (r-1)/4 of 1-5), gpt_score_fewshot
//     (longbench-chat: r/10 of 1-10, with the record's 3 scored answers as examples). System prompt + user turn,
//     temperature 0, max_tokens 1024 (query_llm's default), few-shot stop "\n\n"; the rating is the first number of
//     the last [[...]]; no rating after 5 answers (few-shot: 2) scores 0.5 as upstream. Upstream shuffles the
//     few-shot examples with an unseeded random.shuffle: here they keep the record's order.
#include "metrics/judged/judged_metrics.h"
#include "metrics/judged/longcite_prompt.h"
#include "metrics/judged/longcite_statements.h"
#include "metrics/text/unicode_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace loom::metrics::judged {
namespace {

enum Kind { kSupport = 0, kNeedCitation = 1, kRelevant = 2, kQa = 3, kSumm = 4, kFewshot = 5 };

constexpr size_t kMaxStatements = 40;  // eval_cite.py: get_citation_score(js, max_statement_num=40)

std::string field(const nlohmann::json& metadata, const char* key, const char* metric, const char* why) {
  if (!metadata.is_object() || !metadata.contains(key) || !metadata[key].is_string())
    throw JudgeInputError(fmt::format("{} needs the row's metadata \"{}\" ({}); this row has none (rows written "
                                      "before it was added lack it: generate them again)",
                                      metric, key, why));
  return metadata[key].get<std::string>();
}

// str.format with positional {} fields, each replaced once (the templates have no other braces).
std::string format_positional(std::string_view tmpl, const std::vector<std::string>& values) {
  std::string out;
  size_t start = 0, k = 0;
  for (size_t at; (at = tmpl.find("{}", start)) != std::string_view::npos; start = at + 2) {
    out.append(tmpl.substr(start, at - start));
    out += values.at(k++);
  }
  out.append(tmpl.substr(start));
  return out;
}

std::string cat_qa_and_statement(const std::string& question, const std::string& answer, const std::string& s) {
  return "<question>\n" + text::py_strip(question) + "\n</question>\n\n<response>\n" + text::py_strip(answer) +
         "\n</response>\n\n<sentence>\n" + text::py_strip(s) + "\n</sentence>";
}

std::string cat_question_statement_context(const std::string& question, const std::string& statement,
                                           const std::string& context) {
  return "<question>\n" + text::py_strip(question) + "\n</question>\n\n<statement>\n" + text::py_strip(statement) +
         "\n</statement>\n\n<snippet>\n" + text::py_strip(context) + "\n</snippet>\n\n";
}

JudgePart citation_part(int kind, std::string_view tmpl, const std::string& body) {
  JudgePart part;
  part.kind = kind;
  part.request.messages = {{"user", format_positional(tmpl, {body})}};
  part.request.temperature = 0;
  part.request.max_tokens = 10;
  part.request.stop = {"Analysis:"};
  part.max_tries = 5;
  part.retry_temperature = 1;
  return part;
}

// Python str() of a few-shot example's score.
std::string python_str(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) {
    const double v = value.get<double>();
    std::string text = fmt::format("{}", v);
    if (std::isfinite(v) && text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
  }
  return value.dump();
}

// re.findall(pattern, s) for \[\[(X+)\]\] where X is a character class: every non-overlapping group, left to right.
template <class InClass>
std::vector<std::string> double_bracket_groups(const std::string& s, InClass in_class) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i + 1 < s.size()) {
    if (s[i] != '[' || s[i + 1] != '[') {
      ++i;
      continue;
    }
    size_t e = i + 2;
    while (e < s.size() && in_class(static_cast<unsigned char>(s[e]))) ++e;
    if (e > i + 2 && e + 1 < s.size() && s[e] == ']' && s[e + 1] == ']') {
      out.push_back(s.substr(i + 2, e - i - 2));
      i = e + 2;
    } else {
      ++i;
    }
  }
  return out;
}

JudgeParse accepted(double score) {
  JudgeParse out;
  out.ok = true;
  out.score = score;
  return out;
}

JudgeParse rejected(std::string error, bool retry = true) {
  JudgeParse out;
  out.error = std::move(error);
  out.retry = retry;
  return out;
}

// auto_scorer.py: re.findall(r'\[\[([ /a-zA-Z]+)\]\]', s)[0], lower-cased.
std::optional<std::string> rating_word(const std::string& answer) {
  const auto groups = double_bracket_groups(answer, [](unsigned char c) {
    return c == ' ' || c == '/' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
  if (groups.empty()) return std::nullopt;
  return text::ascii_lower(groups.front());
}

// eval_correct.py: re.findall(r"\[\[([^\]]+)\]\]", response)[-1], then re.findall(r"\d+\.\d+|\d+", ...)[0], int().
JudgeParse numeric_rating(const std::string& answer, int kind) {
  const auto groups = double_bracket_groups(answer, [](unsigned char c) { return c != ']'; });
  if (groups.empty()) return rejected("no [[rating]] in the answer");
  const std::string& g = groups.back();
  size_t d = 0;
  while (d < g.size() && !(g[d] >= '0' && g[d] <= '9')) ++d;
  if (d == g.size()) return rejected(fmt::format("no number in [[{}]]", g));
  size_t e = d;
  while (e < g.size() && g[e] >= '0' && g[e] <= '9') ++e;
  if (e + 1 < g.size() && g[e] == '.' && g[e + 1] >= '0' && g[e + 1] <= '9')
    return rejected(fmt::format("the rating in [[{}]] is not an integer (upstream's int() raises)", g), false);
  double r = 0;
  for (size_t k = d; k < e; ++k) r = r * 10 + (g[k] - '0');
  if (kind == kQa) return accepted((r - 1.0) / 2);
  if (kind == kSumm) return accepted((r - 1.0) / 4);
  return accepted(r / 10);
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return 0;
  double total = 0;
  for (double v : values) total += v;
  return total / static_cast<double>(values.size());
}

}  // namespace

std::vector<JudgePart> render_longcite_citation_parts(const std::string& prediction, const std::vector<std::string>&,
                                                      const nlohmann::json& metadata) {
  const std::string question = field(metadata, "query", "longcite_citation", "the user's question");
  const std::string context = field(metadata, "context", "longcite_citation", "the document the citations point to");
  std::vector<LongCiteStatement> statements = longcite_statements(prediction, context);
  if (statements.size() > kMaxStatements) statements.resize(kMaxStatements);
  const std::string answer = longcite_plain_answer(longcite_fix_output(prediction));
  std::vector<JudgePart> parts;
  for (const LongCiteStatement& s : statements) {  // score_recall
    if (!s.citation.empty()) {
      std::string joined;
      for (size_t k = 0; k < s.citation.size(); ++k) joined += (k ? "\n\n" : "") + s.citation[k].cite;
      joined = text::py_strip(joined);
      if (joined.empty()) {
        JudgePart part;
        part.kind = kSupport;
        part.asked = false;  // is_support: "No matched citation", 0
        parts.push_back(part);
        continue;
      }
      parts.push_back(citation_part(kSupport, kLongCiteSupportTemplate,
                                    cat_question_statement_context(question, s.statement, joined)));
    } else {
      parts.push_back(citation_part(kNeedCitation, kLongCiteNeedCitationTemplate,
                                    cat_qa_and_statement(question, answer, s.statement)));
    }
  }
  for (const LongCiteStatement& s : statements)  // score_precision
    for (const LongCiteCitation& c : s.citation)
      parts.push_back(citation_part(kRelevant, kLongCiteRelevantTemplate,
                                    cat_question_statement_context(question, s.statement, c.cite)));
  return parts;
}

std::vector<JudgePart> render_longcite_correctness_parts(const std::string& prediction,
                                                         const std::vector<std::string>& references,
                                                         const nlohmann::json& metadata) {
  const std::string dataset = field(metadata, "dataset", "longcite_correctness", "the LongBench-Cite dataset");
  const std::string question = field(metadata, "query", "longcite_correctness", "the user's question");
  const std::string answer = longcite_plain_answer(longcite_fix_output(prediction));
  int kind;
  if (dataset == "longbench-chat") kind = kFewshot;
  else if (dataset == "gov_report") kind = kSumm;
  else if (dataset == "multifieldqa_en" || dataset == "multifieldqa_zh" || dataset == "hotpotqa" || dataset == "dureader")
    kind = kQa;
  else
    throw JudgeInputError(fmt::format("longcite_correctness has no rating prompt for dataset \"{}\" (eval_correct.py "
                                      "dataset2metric: longbench-chat, multifieldqa_en, multifieldqa_zh, hotpotqa, "
                                      "dureader, gov_report)",
                                      dataset));
  std::vector<std::string> shots;
  if (kind == kFewshot) {
    const nlohmann::json examples = metadata.is_object() && metadata.contains("few_shot_scores")
                                        ? metadata["few_shot_scores"]
                                        : nlohmann::json();
    if (!examples.is_array() || examples.size() < 3)
      throw JudgeInputError("longcite_correctness needs the row's metadata \"few_shot_scores\": 3 scored answers "
                            "(answer, score) for longbench-chat's few-shot rating prompt");
    for (size_t k = 0; k < 3; ++k) {
      const nlohmann::json& ex = examples[k];
      if (!ex.is_object() || !ex.contains("answer") || !ex.contains("score"))
        throw JudgeInputError("longcite_correctness: each of \"few_shot_scores\" needs \"answer\" and \"score\"");
      shots.push_back(python_str(ex["answer"]));
      shots.push_back(python_str(ex["score"]));
    }
  }
  std::vector<JudgePart> parts;
  for (const std::string& truth : references) {
    JudgePart part;
    part.kind = kind;
    std::string prompt;
    if (kind == kQa) {
      prompt = text::replace_all(text::replace_all(text::replace_all(kLongCiteQaTemplate, "$Q$", question), "$A$", truth),
                                 "$P$", answer);
    } else if (kind == kSumm) {
      prompt = text::replace_all(text::replace_all(kLongCiteSummTemplate, "$A$", truth), "$P$", answer);
    } else {
      std::vector<std::string> values = {question, truth};
      values.insert(values.end(), shots.begin(), shots.end());
      values.push_back(text::py_strip(text::replace_all(answer, "\n", " ")));
      prompt = format_positional(kLongCiteFewshotTemplate, values);
      part.request.stop = {"\n\n"};
    }
    part.request.messages = {{"system", std::string(kLongCiteCorrectSystemPrompt)}, {"user", prompt}};
    part.request.temperature = 0;
    part.request.max_tokens = 1024;
    part.max_tries = kind == kFewshot ? 2 : 5;
    part.exhausted_score = 0.5;
    parts.push_back(std::move(part));
  }
  return parts;
}

JudgeParse parse_longcite_part(int kind, const std::string& answer) {
  if (kind == kQa || kind == kSumm || kind == kFewshot) return numeric_rating(answer, kind);
  const std::optional<std::string> word = rating_word(answer);
  if (!word) return rejected("no [[rating]] of letters in the answer");
  if (kind == kSupport) {
    if (word->find("fully") != std::string::npos) return accepted(1);
    if (word->find("partially") != std::string::npos) return accepted(0.5);
    return accepted(0);
  }
  if (kind == kNeedCitation) return accepted(word->find("yes") != std::string::npos ? 0 : 1);  // 1 - need
  return accepted(word->find("unrelevant") != std::string::npos ? 0 : 1);
}

std::vector<double> combine_longcite_citation(const std::vector<JudgePart>& parts, const std::vector<double>& scores) {
  std::vector<double> recall, precision;
  for (size_t k = 0; k < parts.size(); ++k) (parts[k].kind == kRelevant ? precision : recall).push_back(scores[k]);
  const double r = mean(recall), p = mean(precision);
  const double f1 = r + p == 0 ? 0.0 : 2 * r * p / (r + p);
  return {f1, r, p};
}

std::vector<double> combine_longcite_correctness(const std::vector<JudgePart>&, const std::vector<double>& scores) {
  double best = 0;
  for (double s : scores) best = std::max(best, s);
  return {best};
}

namespace {

JudgeRequest render_longcite_check(const std::string& prediction, const std::vector<std::string>& references,
                                   const nlohmann::json& metadata) {
  render_longcite_citation_parts(prediction, references, metadata);
  return {};
}

JudgeRequest render_longcite_correctness_check(const std::string& prediction,
                                               const std::vector<std::string>& references,
                                               const nlohmann::json& metadata) {
  render_longcite_correctness_parts(prediction, references, metadata);
  return {};
}

JudgeParse parse_longcite_unused(const std::string&) { return rejected("a fan-out metric parses its parts"); }

}  // namespace

JudgedMetric longcite_citation_metric() {
  JudgedMetric m;
  m.name = "longcite_citation";
  m.benchmark = "LongCite";
  m.source = "THUDM/LongCite LongBench-Cite/auto_scorer.py + eval_cite.py @ d7d772e (GPT-4o judge: citation "
             "recall, precision, F1)";
  m.max_tries = 5;
  m.render = &render_longcite_check;
  m.parse = &parse_longcite_unused;
  m.render_parts = &render_longcite_citation_parts;
  m.parse_part = &parse_longcite_part;
  m.combine = &combine_longcite_citation;
  m.outputs = {"longcite_citation_f1", "longcite_citation_recall", "longcite_citation_precision"};
  return m;
}

JudgedMetric longcite_correctness_metric() {
  JudgedMetric m;
  m.name = "longcite_correctness";
  m.benchmark = "LongCite";
  m.source = "THUDM/LongCite LongBench-Cite/eval_correct.py @ d7d772e (GPT-4o judge: correctness)";
  m.max_tries = 5;
  m.render = &render_longcite_correctness_check;
  m.parse = &parse_longcite_unused;
  m.render_parts = &render_longcite_correctness_parts;
  m.parse_part = &parse_longcite_part;
  m.combine = &combine_longcite_correctness;
  m.outputs = {"longcite_correctness"};
  return m;
}

FanOutScores score_fan_out(const JudgedMetric& metric, const std::vector<JudgePart>& parts,
                           const std::vector<std::string>& answers) {
  FanOutScores out;
  if (answers.size() != parts.size()) {
    out.error = fmt::format("the stored verdict has {} answers for {} requests: run the judge again", answers.size(),
                            parts.size());
    return out;
  }
  std::vector<double> scores;
  for (size_t k = 0; k < parts.size(); ++k) {
    if (!parts[k].asked) {
      scores.push_back(parts[k].fixed_score);
      continue;
    }
    const JudgeParse parse = metric.parse_part(parts[k].kind, answers[k]);
    if (parse.ok) {
      scores.push_back(parse.score);
    } else if (parse.retry && parts[k].exhausted_score) {
      scores.push_back(*parts[k].exhausted_score);
    } else {
      out.error = fmt::format("upstream's parser rejects the judge's answer to request {} of {}: {}", k + 1,
                              parts.size(), parse.error);
      return out;
    }
  }
  const std::vector<double> values = metric.combine(parts, scores);
  for (size_t k = 0; k < values.size() && k < metric.outputs.size(); ++k)
    out.scores.emplace_back(metric.outputs[k], values[k]);
  out.ok = true;
  return out;
}

}  // namespace loom::metrics::judged
