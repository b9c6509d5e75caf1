// InfiniteBench scorers (OpenBMB/InfiniteBench, src/compute_scores.py), one per task, named infbench_<task>.
// The official functions compare Python values, so the label's JSON type matters (int vs str, list vs str):
// the label is metadata["label"] when present (the prediction file's ground_truth / label, or the dataset's
// answer as get_answer() returns it), otherwise the references as a JSON list of strings.
// metadata["model_name"] == "gpt4" drops the first number in math_calc, as upstream.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/normalize.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <optional>

namespace loom::metrics {

namespace {

using nlohmann::json;
using text::contains;
using text::replace_all;

json label_of(const std::vector<std::string>& references, const json& meta) {
  if (meta.is_object() && meta.contains("label")) return meta.at("label");
  return json(references);
}

json first_if_list(const json& label) {
  if (label.is_array()) return label.empty() ? json() : label[0];
  return label;
}

// Python `x in container` for a list (element equality) or a str (substring).
bool py_in(const std::string& x, const json& container) {
  if (container.is_string()) return contains(container.get_ref<const std::string&>(), x);
  if (container.is_array())
    for (const auto& e : container)
      if (e.is_string() && e.get_ref<const std::string&>() == x) return true;
  return false;
}

// Python `for item in value`: list elements, or the characters of a str.
std::vector<json> py_iterate(const json& value) {
  std::vector<json> out;
  if (value.is_array()) {
    for (const auto& e : value) out.push_back(e);
  } else if (value.is_string()) {
    for (char32_t c : text::to_u32(value.get_ref<const std::string&>())) out.emplace_back(text::to_utf8(c));
  }
  return out;
}

std::string py_string(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

std::string replace_each(std::string s, std::initializer_list<const char*> chars, const char* by = " ") {
  for (const char* c : chars) s = replace_all(s, c, by);
  return s;
}

std::string squeeze_spaces(std::string s) {
  while (contains(s, "  ")) s = replace_all(s, "  ", " ");
  return s;
}

// re.split("[^0-9]", s) non-empty pieces.
std::vector<std::string> ascii_digit_runs(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      cur.push_back(c);
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string strip_leading_zeros(const std::string& digits) {
  size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  return digits.substr(i);
}

// Python int(s) for ASCII text: optional whitespace and sign, digits with single '_' between them.
std::optional<std::string> py_int(const std::string& raw) {
  std::string s = text::py_strip(raw);
  bool negative = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string digits;
  bool last_underscore = true;  // no leading '_'
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      digits.push_back(s[i]);
      last_underscore = false;
    } else if (s[i] == '_' && !last_underscore) {
      last_underscore = true;
    } else {
      return std::nullopt;
    }
  }
  if (digits.empty() || last_underscore) return std::nullopt;
  digits = strip_leading_zeros(digits);
  return (negative && digits != "0" ? "-" : "") + digits;
}

// Integer value of a JSON label as a canonical decimal string (int, or float with an integral value).
std::optional<std::string> json_integer(const json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number_unsigned()) return std::to_string(v.get<unsigned long long>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<long long>(d))) return std::to_string(static_cast<long long>(d));
  }
  return std::nullopt;
}

// A string reference standing for a number (when no typed label was given): "12" -> 12, "1.5" -> 1.5.
json numeric_label(const json& label) {
  if (!label.is_string()) return label;
  const std::string s = label.get<std::string>();
  if (auto i = py_int(s)) {
    try {
      return json(std::stoll(*i));
    } catch (const std::exception&) {
      return label;
    }
  }
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (!s.empty() && end && *end == '\0') return json(d);
  return label;
}

double score_first_int(const json& label_raw, const std::string& pred) {
  const json label = first_if_list(label_raw);
  auto runs = ascii_digit_runs(pred);
  std::string value = runs.empty() ? "" : runs[0];
  return label.is_string() && label.get<std::string>() == value ? 1.0 : 0.0;
}

double score_kv_retrieval(const json& label_raw, const std::string& pred_raw, bool from_references) {
  // With untyped references the label is the first reference string (the dataset's answer).
  const json label = from_references ? first_if_list(label_raw) : label_raw;
  if (!label.is_string()) return 0.0;
  std::string pred = replace_each(pred_raw, {"\n", ":", "\"", "'", ".", ",", "?", "!", "{", "}"});
  for (const auto& w : text::py_split(pred))
    if (w == label.get<std::string>()) return 1.0;
  return 0.0;
}

double score_code_run(const json& label_raw, const std::string& pred_raw, bool from_references) {
  json label = first_if_list(label_raw);
  if (from_references) label = numeric_label(label);
  std::string pred = replace_each(text::py_strip(pred_raw), {"\n", ".", "`", "'", "\"", ":"});
  auto words = text::py_split(pred);
  if (words.empty()) return 0.0;
  auto value = py_int(words.back());
  auto expected = json_integer(label);
  return value && expected && *value == *expected ? 1.0 : 0.0;
}

double score_code_debug(const json& label, const std::string& pred_raw) {
  if (!label.is_array() || label.size() < 2) return 0.0;
  const std::string letter = py_string(label[1]);
  const std::string fn_name = py_string(label[0]);
  std::string pred = text::py_strip(pred_raw);
  const std::string head = text::to_utf8(std::u32string_view(text::to_u32(pred)).substr(0, 2));
  if (head == letter + "." || head == letter + ":") return 1.0;
  pred = replace_each(pred, {"\n", "`", "'", "\"", "-", "*", "Option", "option"});
  pred = squeeze_spaces(pred);
  for (const char* prefix : {"answer is:", "is:", "answer:", "correct option is:"}) {
    size_t idx = pred.find(prefix);
    if (idx == std::string::npos) continue;
    const std::u32string u = text::to_u32(pred);
    const size_t idx_cp = text::to_u32(pred.substr(0, idx)).size();
    const size_t plen = std::char_traits<char>::length(prefix);
    if (u.size() < idx_cp + plen + 1) return 0.0;
    const std::string after = text::to_utf8(std::u32string_view(u).substr(idx_cp + plen + 1));
    for (const auto& s : {letter, fn_name})
      if (after.rfind(s, 0) == 0) return 1.0;
    return 0.0;
  }
  return 0.0;
}

double score_choice(const json& label, const std::string& pred_raw) {
  std::string pred = text::py_strip(pred_raw);
  if (pred.empty()) return 0.0;
  const std::string first = text::to_utf8(text::to_u32(pred)[0]);
  if (first == "A" || first == "B" || first == "C" || first == "D") return py_in(first, label) ? 1.0 : 0.0;
  if (py_in(pred, label)) return 1.0;
  pred = replace_each(pred, {"\n", "\"", "'", ".", ",", "?", "!", "{", "}"});
  pred = squeeze_spaces(pred);
  for (const char* prefix : {"answer is:", "answer:", "answer is", "option is"}) {
    size_t idx = pred.find(prefix);
    if (idx == std::string::npos) continue;
    const std::u32string u = text::to_u32(pred);
    const size_t idx_cp = text::to_u32(pred.substr(0, idx)).size();
    const size_t plen = std::char_traits<char>::length(prefix);
    if (u.size() < idx_cp + plen + 1) return 0.0;
    const std::string after = text::to_utf8(std::u32string_view(u).substr(idx_cp + plen + 1));
    for (const auto& s : py_iterate(label))
      if (s.is_string() && after.rfind(s.get<std::string>(), 0) == 0) return 1.0;
    return 0.0;
  }
  for (const auto& word : text::py_split(pred))
    if (contains("ABCD", word)) return py_in(word, label) ? 1.0 : 0.0;
  return 0.0;
}

double score_dialogue(const json& label_raw, const std::string& pred_raw) {
  const json label = first_if_list(label_raw.is_string() ? json(py_iterate(label_raw)) : label_raw);
  if (!label.is_string()) return 0.0;
  std::string pred = replace_each(text::py_strip(pred_raw), {"\n", ":", "\"", "'", ".", ",", "?", "!", "{", "}"});
  for (const auto& w : text::py_split(pred))
    if (text::py_upper(w) == label.get<std::string>()) return 1.0;
  return 0.0;
}

// First match of \d+\.\d+|\d+ (ASCII digits).
std::string first_number(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!(s[i] >= '0' && s[i] <= '9')) continue;
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j + 1 < s.size() && s[j] == '.' && s[j + 1] >= '0' && s[j + 1] <= '9') {
      size_t k = j + 1;
      while (k < s.size() && s[k] >= '0' && s[k] <= '9') ++k;
      return s.substr(i, k - i);
    }
    return s.substr(i, j - i);
  }
  return {};
}

double score_math_find(const json& label_raw, const std::string& pred, bool from_references) {
  json label = first_if_list(label_raw);
  if (from_references) label = numeric_label(label);
  const std::string num = first_number(pred);
  if (num.empty()) return 0.0;
  if (label.is_number_integer() || label.is_number_unsigned()) {
    if (num.find('.') != std::string::npos) return 0.0;  // int("1.5") raises upstream
    return *py_int(num) == *json_integer(label) ? 1.0 : 0.0;
  }
  if (label.is_number_float()) return std::strtod(num.c_str(), nullptr) == label.get<double>() ? 1.0 : 0.0;
  return 0.0;
}

double score_math_calc(const json& label_raw, const std::string& pred, bool drop_first, bool from_references) {
  json label = label_raw;
  if (label.is_array() && !label.empty() && label[0].is_array()) label = label[0];
  if (!label.is_array() || label.empty()) return 0.0;
  auto nums = ascii_digit_runs(pred);
  if (drop_first && !nums.empty()) nums.erase(nums.begin());
  size_t cnt = 0;
  for (size_t i = 0; i < label.size() && i < nums.size(); ++i) {
    const json l = from_references ? numeric_label(label[i]) : label[i];
    auto expected = json_integer(l);
    if (expected && *expected == strip_leading_zeros(nums[i])) {
      ++cnt;
    } else {
      break;
    }
  }
  return static_cast<double>(cnt) / static_cast<double>(label.size());
}

double score_qa_eng(const json& label, const std::string& pred) {
  double best = 0;
  for (const auto& gt : py_iterate(label))
    if (gt.is_string()) best = std::max(best, text::squad_f1(pred, gt.get<std::string>()));
  return best;
}

std::vector<std::string> characters(const std::string& s) {
  std::vector<std::string> out;
  for (char32_t c : text::to_u32(s)) out.push_back(text::to_utf8(c));
  return out;
}

double score_qa_chn(const json& label, const std::string& pred) {
  double best = 0;
  const auto p = characters(text::zh_normalize(pred));
  for (const auto& gt : py_iterate(label))
    if (gt.is_string()) best = std::max(best, text::token_f1(p, characters(text::zh_normalize(gt.get<std::string>()))));
  return best;
}

double score_summary(const json& label, const std::string& pred) {
  // HF evaluate rouge: a list label is a multi-reference -> max fmeasure; rougeLsum splits sentences on "\n".
  double best = 0;
  if (label.is_string()) return text::google_rouge_lsum(label.get<std::string>(), pred).f;
  bool first = true;
  for (const auto& ref : py_iterate(label)) {
    if (!ref.is_string()) continue;
    double f = text::google_rouge_lsum(ref.get<std::string>(), pred).f;
    if (first || f > best) best = f;
    first = false;
  }
  return best;
}

ScorerEntry entry(const std::string& task, std::function<double(const json&, const std::string&, const json&, bool)> fn) {
  return {"infbench_" + task,
          [fn](const std::string& prediction, const std::vector<std::string>& references, const json& meta) {
            const bool from_references = !(meta.is_object() && meta.contains("label"));
            return fn(label_of(references, meta), prediction, meta, from_references);
          }};
}

}  // namespace

std::vector<ScorerEntry> infinitebench_scorers() {
  std::vector<ScorerEntry> out;
  out.push_back(entry("passkey", [](const json& l, const std::string& p, const json&, bool) { return score_first_int(l, p); }));
  out.push_back(entry("number_string", [](const json& l, const std::string& p, const json&, bool) { return score_first_int(l, p); }));
  out.push_back(entry("kv_retrieval", [](const json& l, const std::string& p, const json&, bool r) { return score_kv_retrieval(l, p, r); }));
  out.push_back(entry("code_run", [](const json& l, const std::string& p, const json&, bool r) { return score_code_run(l, p, r); }));
  out.push_back(entry("code_debug", [](const json& l, const std::string& p, const json&, bool) { return score_code_debug(l, p); }));
  out.push_back(entry("longbook_choice_eng", [](const json& l, const std::string& p, const json&, bool) { return score_choice(l, p); }));
  out.push_back(entry("longdialogue_qa_eng", [](const json& l, const std::string& p, const json&, bool) { return score_dialogue(l, p); }));
  out.push_back(entry("longbook_qa_eng", [](const json& l, const std::string& p, const json&, bool) { return score_qa_eng(l, p); }));
  out.push_back(entry("longbook_qa_chn", [](const json& l, const std::string& p, const json&, bool) { return score_qa_chn(l, p); }));
  out.push_back(entry("longbook_sum_eng", [](const json& l, const std::string& p, const json&, bool) { return score_summary(l, p); }));
  out.push_back(entry("math_find", [](const json& l, const std::string& p, const json&, bool r) { return score_math_find(l, p, r); }));
  out.push_back(entry("math_calc", [](const json& l, const std::string& p, const json& m, bool r) {
    return score_math_calc(l, p, metadata_string(m, "model_name") == "gpt4", r);
  }));
  // compute_scores.py: the mean per task (printed on 0-1; the report uses percent).
  return with_aggregation(std::move(out), mean_aggregation("InfiniteBench compute_scores.py: mean per task"));
}

}  // namespace loom::metrics
