#include "metrics/judged/longcite_statements.h"

#include "metrics/judged/longcite_sentences.h"
#include "metrics/text/unicode_text.h"

#include <limits>

namespace loom::metrics::judged {
namespace {

struct Chunk {
  std::string content;
};

// re.sub(r'<cite>(.*?)</cite>', '', text, flags=re.DOTALL), collecting the groups (re.findall) on the way.
std::string remove_cites(const std::string& text, std::vector<std::string>* groups) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t open = text.find("<cite>", pos);
    const size_t close = open == std::string::npos ? std::string::npos : text.find("</cite>", open + 6);
    if (close == std::string::npos) break;
    out.append(text, pos, open - pos);
    if (groups) groups->push_back(text.substr(open + 6, close - open - 6));
    pos = close + 7;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

bool ascii_digit(char c) { return c >= '0' && c <= '9'; }

// int() of a run of ASCII digits, saturated (a value past the last chunk is skipped either way).
int64_t to_int(const std::string& digits) {
  int64_t v = 0;
  for (char c : digits) {
    if (v > std::numeric_limits<int64_t>::max() / 16) return std::numeric_limits<int64_t>::max() / 16;
    v = v * 10 + (c - '0');
  }
  return v;
}

// re.findall(r"\[([0-9]+\-[0-9]+)\]", text): (a, b) pairs.
std::vector<std::pair<std::string, std::string>> find_spans(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '[') {
      ++i;
      continue;
    }
    size_t a = i + 1;
    while (a < text.size() && ascii_digit(text[a])) ++a;
    if (a == i + 1 || a >= text.size() || text[a] != '-') {
      ++i;
      continue;
    }
    size_t b = a + 1;
    while (b < text.size() && ascii_digit(text[b])) ++b;
    if (b == a + 1 || b >= text.size() || text[b] != ']') {
      ++i;
      continue;
    }
    out.emplace_back(text.substr(i + 1, a - i - 1), text.substr(a + 1, b - a - 1));
    i = b + 1;
  }
  return out;
}

LongCiteStatement get_citations(const std::string& statement, const std::vector<Chunk>& chunks) {
  std::vector<std::string> c_texts;
  LongCiteStatement out;
  out.statement = remove_cites(statement, &c_texts);
  const int64_t n = static_cast<int64_t>(chunks.size());
  std::vector<LongCiteCitation> merged;
  const auto joined = [&](int64_t st, int64_t ed) {
    std::string text;
    for (int64_t k = st; k <= ed; ++k) text += chunks[static_cast<size_t>(k)].content;
    return text;
  };
  for (const std::string& c_text : c_texts)
    for (const auto& [a, b] : find_spans(c_text)) {
      int64_t st = to_int(a), ed = to_int(b);
      if (st > n - 1 || ed < st) continue;
      st = std::max<int64_t>(0, st);
      ed = std::min(ed, n - 1);
      if (!merged.empty() && st == merged.back().ed_sent + 1) {
        merged.back().ed_sent = ed;
        merged.back().cite = joined(merged.back().st_sent, ed);
      } else {
        merged.push_back({st, ed, joined(st, ed)});
      }
    }
  if (merged.size() > 3) merged.resize(3);
  out.citation = std::move(merged);
  return out;
}

}  // namespace

std::string longcite_fix_output(const std::string& output) {
  return output.rfind("statement>", 0) == 0 ? "<" + output : output;
}

std::string longcite_plain_answer(const std::string& answer) {
  return text::replace_all(text::replace_all(remove_cites(answer, nullptr), "<statement>", ""), "</statement>", "");
}

std::vector<LongCiteStatement> longcite_statements(const std::string& raw_answer, const std::string& context) {
  const std::string answer = longcite_fix_output(raw_answer);
  const std::vector<LongCiteSentence> sents = longcite_split_sentences(context);
  std::vector<Chunk> chunks;
  for (size_t k = 0; k < sents.size(); ++k) {
    const size_t end = k + 1 < sents.size() ? sents[k + 1].start : sents[k].end;
    chunks.push_back({context.substr(sents[k].start, end - sents[k].start)});
  }
  const auto length = [](const std::string& s) { return text::to_u32(s).size(); };
  std::vector<LongCiteStatement> res;
  size_t pos = 0;
  for (;;) {
    size_t st = answer.find("<statement>", pos);
    if (st == std::string::npos) st = answer.size();
    const size_t ed = answer.find("</statement>", st);
    const std::string before = text::py_strip(answer.substr(pos, st - pos));
    if (length(before) > 5) res.push_back({before, {}});
    if (ed == std::string::npos) break;
    const std::string inner = answer.substr(st + 11, ed - st - 11);
    if (!text::py_strip(inner).empty()) {
      LongCiteStatement s = get_citations(inner, chunks);
      s.statement = text::py_strip(s.statement);
      res.push_back(std::move(s));
    }
    pos = ed + 12;
  }
  return res;
}

}  // namespace loom::metrics::judged
