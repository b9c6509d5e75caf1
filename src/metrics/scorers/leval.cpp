// LEval scorers: leval_exam (EM with the per-task answer extraction of auto_eval.py; metadata "task" names the
// LEval task: coursera, quality, tpo, gsm100, codeU, sci_fi, topic_retrieval_longchat), leval_f1 (SQuAD-norm token
// F1, max over references) and leval_rouge1 / leval_rouge2 / leval_rougel (Google rouge-score F, no stemmer, max
// over references). The official rouge "LEval_score" is the geometric mean of the three task means (see
// rescoring/prediction_files.cpp).
#include "metrics/scorers/leval.h"

#include "metrics/scorers/scorer_support.h"
#include "metrics/text/normalize.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

namespace loom::metrics::leval {

namespace {

using text::contains;
using text::replace_all;

// em.py normalize_answer: no lowercasing; drop ASCII punctuation, remove a|an|the, collapse whitespace.
std::string em_normalize(const std::string& s) {
  std::string no_punct;
  for (char32_t c : text::to_u32(s))
    if (!text::is_ascii_punctuation(c)) no_punct += text::to_utf8(c);
  // squad_normalize lowercases; apply its article/whitespace steps on the un-lowered text instead.
  std::u32string u = text::to_u32(no_punct);
  std::u32string out;
  size_t i = 0;
  while (i < u.size()) {
    if (i == 0 || !text::py_is_word_char(u[i - 1])) {
      bool matched = false;
      for (const std::u32string alt : {U"a", U"an", U"the"}) {
        if (u.compare(i, alt.size(), alt) == 0 && !(i + alt.size() < u.size() && text::py_is_word_char(u[i + alt.size()]))) {
          out.push_back(U' ');
          i += alt.size();
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    out.push_back(u[i++]);
  }
  return text::collapse_whitespace(text::to_utf8(out));
}

// Python float(s): whitespace, sign, digits with '_' between digits, '.', exponent; inf / nan words.
std::optional<double> py_float(const std::string& raw) {
  std::string s = text::py_strip(raw);
  std::string lower = text::ascii_lower(s);
  std::string body = lower;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body = body.substr(1);
  if (body == "inf" || body == "infinity" || body == "nan") return std::strtod(lower.c_str(), nullptr);
  std::string cleaned;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) cleaned.push_back(s[i++]);
  bool digits = false, prev_digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      cleaned.push_back(c);
      digits = prev_digit = true;
    } else if (c == '_' && prev_digit && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
      prev_digit = false;
    } else if (c == '.' || c == 'e' || c == 'E' || ((c == '+' || c == '-') && !cleaned.empty() &&
                                                      (cleaned.back() == 'e' || cleaned.back() == 'E'))) {
      cleaned.push_back(c);
      prev_digit = false;
    } else {
      return std::nullopt;
    }
  }
  if (!digits) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(cleaned.c_str(), &end);
  if (end == nullptr || *end != '\0') return std::nullopt;
  // strtod accepts forms Python rejects ("1e", "."): require a digit right after an exponent sign/marker.
  size_t e = cleaned.find_first_of("eE");
  if (e != std::string::npos) {
    size_t k = e + 1;
    if (k < cleaned.size() && (cleaned[k] == '+' || cleaned[k] == '-')) ++k;
    if (k >= cleaned.size()) return std::nullopt;
  }
  return v;
}

bool is_abcd(char32_t c) { return c == U'A' || c == U'B' || c == U'C' || c == U'D'; }

std::string sorted_unique(const std::u32string& s) {
  std::set<char32_t> set(s.begin(), s.end());
  return text::to_utf8(std::u32string(set.begin(), set.end()));
}

}  // namespace

double exact_match(const std::string& prediction, const std::string& ground_truth) {
  const std::u32string gt_norm = text::to_u32(em_normalize(ground_truth));
  const bool option_mode = std::all_of(gt_norm.begin(), gt_norm.end(), is_abcd);
  if (option_mode) {
    const std::u32string pred_norm = text::to_u32(em_normalize(prediction));
    if (pred_norm == gt_norm) return 1.0;
    std::set<char32_t> gt_set(gt_norm.begin(), gt_norm.end());
    for (char32_t c : pred_norm)
      if (!gt_set.count(c)) return 0.0;
    return 0.25;
  }
  auto p = py_float(prediction);
  auto g = py_float(ground_truth);
  if (p && g) return *p == *g ? 1.0 : 0.0;
  const std::string gt = replace_all(text::py_lower(ground_truth), " ", "");
  const std::string pred = replace_all(text::py_lower(prediction), " ", "");
  return contains(pred, gt) ? 1.0 : 0.0;
}

std::string process_output_mc(const std::string& response_in, bool coursera) {
  if (text::py_strip(response_in).empty()) return "None";
  if (contains("ABCD", response_in)) return response_in;
  std::u32string response = text::to_u32(response_in);
  if (!coursera)
    for (char32_t c : response)
      if (is_abcd(c)) return text::to_utf8(c);
  std::u32string cleaned;
  size_t lead = 0;
  while (lead < response.size() && is_abcd(response[lead])) cleaned.push_back(response[lead++]);
  response = response.substr(lead);
  if (cleaned.size() > 1) return sorted_unique(cleaned);
  response = text::to_u32(text::split_on(text::to_utf8(response), "Question")[0]);
  // re.findall(r"\s*[A-Z](?=[\s.)])", response), joined by ' ' and stripped: only the letters survive [^A-D].
  std::u32string options;
  for (size_t i = 0; i < response.size(); ++i) {
    char32_t c = response[i];
    if (c >= U'A' && c <= U'Z' && i + 1 < response.size() &&
        (text::py_isspace(response[i + 1]) || response[i + 1] == U'.' || response[i + 1] == U')'))
      options.push_back(c);
  }
  for (char32_t c : options)
    if (is_abcd(c)) cleaned.push_back(c);
  std::u32string filtered;
  for (char32_t c : cleaned)
    if (is_abcd(c)) filtered.push_back(c);
  std::string result = sorted_unique(filtered);
  if (result.empty()) {
    bool has_answer = false;
    for (char32_t c : response) {
      if (is_abcd(c)) {
        result += text::to_utf8(c);
        has_answer = true;
      } else if (has_answer) {
        break;
      }
    }
  }
  if (result.empty()) result = "A";
  return result;
}

std::string process_gt_mc(const std::string& ground_truth) {
  auto tokens = text::py_split(ground_truth);
  std::string cleaned;
  if (!tokens.empty())
    for (char c : tokens[0])
      if (c >= 'A' && c <= 'D') cleaned.push_back(c);
  return cleaned.empty() ? "A" : cleaned;
}

std::string process_math(const std::string& response_in) {
  std::u32string ret;
  const std::string marker = "The answer is ";
  bool matched = false;
  for (size_t pos = response_in.find(marker); pos != std::string::npos; pos = response_in.find(marker, pos + 1)) {
    std::u32string rest = text::to_u32(response_in.substr(pos + marker.size()));
    size_t n = 0;
    while (n < rest.size() && !text::py_isspace(rest[n])) ++n;
    if (n > 0) {
      ret = rest.substr(0, n);
      matched = true;
      break;
    }
  }
  auto is_digit = [](char32_t c) {
    return text::py_is_decimal_digit(c) || (c >= 0xB2 && c <= 0xB3) || c == 0xB9 || (c >= 0x2070 && c <= 0x2079) ||
           (c >= 0x2080 && c <= 0x2089) || (c >= 0x2460 && c <= 0x2468) || (c >= 0x2474 && c <= 0x247C) ||
           (c >= 0x2488 && c <= 0x2490) || c == 0x24EA || (c >= 0x24F5 && c <= 0x24FD) || c == 0x24FF ||
           (c >= 0x2776 && c <= 0x277E) || (c >= 0x2780 && c <= 0x2788) || (c >= 0x278A && c <= 0x2792);
  };  // str.isdigit(): decimals plus the superscript / circled digits
  if (!matched) {
    auto words = text::split_on(text::split_on(response_in, "\n\n")[0], " ");
    for (auto it = words.rbegin(); it != words.rend(); ++it) {
      std::u32string w = text::to_u32(*it);
      if (std::any_of(w.begin(), w.end(), is_digit)) {
        ret = w;
        break;
      }
    }
  }
  std::u32string out;
  for (char32_t c : ret) {
    if (is_digit(c)) out.push_back(c);
    if (c == U'.') break;
  }
  return text::to_utf8(out);
}

std::string process_gt_code(const std::string& response) {
  std::string s;
  bool in_space = false;
  for (char32_t c : text::to_u32(response)) {
    if (text::py_isspace(c)) {
      in_space = true;
      continue;
    }
    if (in_space) s.push_back(' ');
    in_space = false;
    s += text::to_utf8(c);
  }
  if (in_space) s.push_back(' ');
  for (const char* from : {",", "'", "\\", ".0"}) s = replace_all(s, from, "");
  s = replace_all(s, "] [", "][");
  s = replace_all(s, "[ [", "[[");
  s = replace_all(s, "] ]", "]]");
  return s;
}

std::string process_output_code(const std::string& response_in, const std::string& ground_truth) {
  const size_t gt_len = text::py_split(ground_truth).size();
  std::string response = process_gt_code(response_in);
  for (const char* filler : {"will be", "of the code", "is", "would be", "the value of", "the result of", "printed"})
    response = replace_all(response, filler, "");
  // re.split(r'\s+', ...) after process_gt_code: whitespace is single spaces now (replacements can create "  ").
  auto split_ws = [](const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    std::u32string u = text::to_u32(s);
    for (size_t i = 0; i < u.size();) {
      if (text::py_isspace(u[i])) {
        out.push_back(cur);
        cur.clear();
        while (i < u.size() && text::py_isspace(u[i])) ++i;
      } else {
        cur += text::to_utf8(u[i++]);
      }
    }
    out.push_back(cur);
    return out;
  };
  std::vector<std::string> res;
  const size_t keep = gt_len + 3;
  const std::string marker = "the final output";
  size_t last = response.rfind(marker);
  if (last != std::string::npos) {
    auto parts = split_ws(response.substr(last + marker.size()));
    res.assign(parts.begin(), parts.begin() + static_cast<long>(std::min(keep, parts.size())));
  } else {
    auto parts = split_ws(response);
    size_t start = parts.size() > keep ? parts.size() - keep : 0;
    res.assign(parts.begin() + static_cast<long>(start), parts.end());
  }
  std::string out;
  for (size_t i = 0; i < res.size(); ++i) out += (i ? " " : "") + res[i];
  return out;
}

std::vector<std::string> process_gt_judge(const std::string& response) {
  const std::string lower = text::py_lower(response);
  auto parts = text::split_on(lower, "[fact:");
  std::string fact;
  if (parts.size() > 1) {
    std::u32string f = text::to_u32(parts[1]);
    if (!f.empty()) f.pop_back();  // drop the closing ']'
    fact = text::py_strip(text::to_utf8(f));
  }
  return {text::py_strip(parts[0]), fact};
}

std::vector<std::string> process_output_judge(const std::string& response) {
  auto lf = process_gt_judge(response);
  std::vector<std::string> out;
  for (const auto& part : lf) {
    std::string verdict = "<error>";
    for (const auto& word : text::py_split(part)) {
      if (contains(word, "true")) {
        verdict = "true";
        break;
      }
      if (contains(word, "false")) {
        verdict = "false";
        break;
      }
    }
    out.push_back(verdict);
  }
  return out;
}

bool is_option_task(const std::string& task) { return task == "coursera" || task == "quality" || task == "tpo"; }

double exam_score(const std::string& task, const std::string& prediction, const std::string& gt) {
  if (is_option_task(task)) return exact_match(process_output_mc(prediction, task == "coursera"), process_gt_mc(gt));
  if (task.find("gsm") != std::string::npos) return exact_match(process_math(prediction), process_math(gt));
  if (task == "codeU") return exact_match(process_output_code(prediction, gt), process_gt_code(gt));
  if (task == "sci_fi") {
    auto g = process_gt_judge(gt);
    auto p = process_output_judge(prediction);
    return (exact_match(p[0], g[0]) + exact_match(p[1], g[1])) / 2;
  }
  return exact_match(prediction, gt);
}

double official_exam_score(const std::string& task, const std::vector<TaskSample>& samples) {
  if (task.find("topic_retrieval_longchat") == std::string::npos) return mean_task_score(samples);
  std::vector<std::vector<TaskSample>> splits(3);
  for (const TaskSample& sample : samples) splits[static_cast<size_t>(sample.index % 3)].push_back(sample);
  double total = 0;
  for (const auto& split : splits) total += mean_task_score(split);
  return total / 3;
}

double official_rouge_score(const std::vector<TaskSample>& samples) {
  double product = 1;
  int metrics = 0;
  for (const char* metric : {"leval_rouge1", "leval_rouge2", "leval_rougel"}) {
    double sum = 0;
    size_t n = 0;
    for (const TaskSample& sample : samples) {
      const auto it = sample.metric_scores.find(metric);
      if (it == sample.metric_scores.end()) continue;
      sum += it->second;
      ++n;
    }
    if (n == 0) continue;
    product *= sum / static_cast<double>(n);
    ++metrics;
  }
  return metrics == 0 ? 0 : std::pow(product, 1.0 / metrics);
}

}  // namespace loom::metrics::leval

namespace loom::metrics {

std::vector<ScorerEntry> leval_scorers() {
  std::vector<ScorerEntry> out;
  out.push_back({"leval_exam", [](const std::string& p, const std::vector<std::string>& refs, const nlohmann::json& m) {
                   const std::string task = metadata_string(m, "task");
                   return max_over_references(refs, [&](const std::string& r) { return leval::exam_score(task, p, r); });
                 }});
  out.push_back({"leval_f1", [](const std::string& p, const std::vector<std::string>& refs, const nlohmann::json&) {
                   return max_over_references(refs, [&](const std::string& r) { return text::squad_f1(p, r); });
                 }});
  out.push_back({"leval_rouge1", [](const std::string& p, const std::vector<std::string>& refs, const nlohmann::json&) {
                   return max_over_references(refs, [&](const std::string& r) { return text::google_rouge_n(r, p, 1).f; });
                 }});
  out.push_back({"leval_rouge2", [](const std::string& p, const std::vector<std::string>& refs, const nlohmann::json&) {
                   return max_over_references(refs, [&](const std::string& r) { return text::google_rouge_n(r, p, 2).f; });
                 }});
  out.push_back({"leval_rougel", [](const std::string& p, const std::vector<std::string>& refs, const nlohmann::json&) {
                   return max_over_references(refs, [&](const std::string& r) { return text::google_rouge_l(r, p).f; });
                 }});
  const auto exam = std::make_shared<const OfficialAggregation>(OfficialAggregation{
      "LEval auto_eval.py: 100 x mean (topic_retrieval_longchat: mean of its 3 per-position splits)",
      leval::official_exam_score});
  const auto rouge = std::make_shared<const OfficialAggregation>(OfficialAggregation{
      "LEval auto_eval.py LEval_score: geometric mean of the R1, R2, RL means",
      [](const std::string&, const std::vector<TaskSample>& samples) { return leval::official_rouge_score(samples); }});
  for (ScorerEntry& entry : out) entry.aggregation = entry.name.rfind("leval_rouge", 0) == 0 ? rouge : exam;
  return out;
}

}  // namespace loom::metrics
