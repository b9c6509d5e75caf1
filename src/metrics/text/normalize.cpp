#include "metrics/text/normalize.h"

#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <unordered_map>

namespace loom::metrics::text {

namespace {

const std::u32string& cn_punctuation() {
  static const std::u32string set = to_u32(
      "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏.");
  return set;
}

// re.sub(r"\b(a|an|the)\b", " ", text) with Unicode word boundaries.
std::u32string remove_articles(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  auto word_at = [&](size_t i) { return i < s.size() && py_is_word_char(s[i]); };
  size_t i = 0;
  while (i < s.size()) {
    if (i == 0 || !py_is_word_char(s[i - 1])) {
      // try the alternatives in regex order: a, an, the
      static const std::u32string alts[] = {U"a", U"an", U"the"};
      bool matched = false;
      for (const auto& alt : alts) {
        if (s.compare(i, alt.size(), alt) == 0 && !word_at(i + alt.size())) {
          out.push_back(U' ');
          i += alt.size();
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    out.push_back(s[i]);
    ++i;
  }
  return out;
}

}  // namespace

bool is_zh_punctuation(char32_t c) { return cn_punctuation().find(c) != std::u32string::npos; }

std::string squad_normalize(std::string_view utf8) {
  std::u32string lowered = py_lower(to_u32(utf8));
  std::u32string no_punct;
  no_punct.reserve(lowered.size());
  for (char32_t c : lowered)
    if (!is_ascii_punctuation(c)) no_punct.push_back(c);
  std::u32string no_articles = remove_articles(no_punct);
  std::string out;
  for (const auto& piece : py_split(no_articles)) {
    if (!out.empty()) out.push_back(' ');
    out += to_utf8(piece);
  }
  return out;
}

std::string zh_normalize(std::string_view utf8) {
  std::u32string lowered = py_lower(to_u32(utf8));
  std::u32string out;
  for (char32_t c : lowered)
    if (!is_ascii_punctuation(c) && !is_zh_punctuation(c) && !py_isspace(c)) out.push_back(c);
  return to_utf8(out);
}

OverlapScore token_overlap(const std::vector<std::string>& prediction, const std::vector<std::string>& reference) {
  std::unordered_map<std::string, long> counts;
  for (const auto& t : reference) ++counts[t];
  long same = 0;
  for (const auto& t : prediction) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  OverlapScore s;
  if (same == 0) return s;
  s.precision = 1.0 * same / static_cast<double>(prediction.size());
  s.recall = 1.0 * same / static_cast<double>(reference.size());
  s.f1 = (2 * s.precision * s.recall) / (s.precision + s.recall);
  return s;
}

double token_f1(const std::vector<std::string>& prediction, const std::vector<std::string>& reference) {
  return token_overlap(prediction, reference).f1;
}

double squad_f1(std::string_view prediction, std::string_view reference) {
  return token_f1(py_split(squad_normalize(prediction)), py_split(squad_normalize(reference)));
}

}  // namespace loom::metrics::text
