#include "metrics/text/jieba_segmenter.h"

#include "common/error.h"
#include "metrics/text/unicode_text.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

namespace loom::metrics::text {

namespace {

constexpr double kMinFloat = -3.14e100;  // jieba finalseg MIN_FLOAT
constexpr int kB = 0, kE = 1, kM = 2, kS = 3;

int state_index(char32_t c) {
  switch (c) {
    case U'B': return kB;
    case U'E': return kE;
    case U'M': return kM;
    case U'S': return kS;
    default: return -1;
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path.string(), 0, "",
                     "cannot read jieba's model file; install the Debian package python3-jieba "
                     "(tools/install-deps.sh) or set LOOM_JIEBA_DIR to a jieba package directory");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A minimal reader for the Python dict literals in finalseg/prob_*.py: {'key': number | {...}, ...}.
class PyLiteralReader {
 public:
  PyLiteralReader(std::u32string text, std::string file) : s_(std::move(text)), file_(std::move(file)) {}

  void seek_assignment() {
    size_t p = s_.find(U"P=");
    if (p == std::u32string::npos) fail("a 'P=' assignment");
    pos_ = p + 2;
  }

  // Calls on_entry(path_of_keys, value) for every numeric leaf.
  template <class F>
  void read_dict(std::vector<std::u32string>& keys, F&& on_entry) {
    expect(U'{');
    skip_ws();
    if (peek() == U'}') {
      ++pos_;
      return;
    }
    while (true) {
      keys.push_back(read_string());
      expect(U':');
      skip_ws();
      if (peek() == U'{') {
        read_dict(keys, on_entry);
      } else {
        on_entry(keys, read_number());
      }
      keys.pop_back();
      skip_ws();
      char32_t c = next();
      if (c == U'}') return;
      if (c != U',') fail("',' or '}'");
      skip_ws();
      if (peek() == U'}') {
        ++pos_;
        return;
      }
    }
  }

 private:
  char32_t peek() const { return pos_ < s_.size() ? s_[pos_] : 0; }
  char32_t next() { return pos_ < s_.size() ? s_[pos_++] : 0; }
  void skip_ws() {
    while (pos_ < s_.size() && py_isspace(s_[pos_])) ++pos_;
  }
  void expect(char32_t c) {
    skip_ws();
    if (next() != c) fail(std::string("'") + static_cast<char>(c) + "'");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(file_, 0, "", "malformed jieba probability table: expected " + what + " at character " +
                                       std::to_string(pos_));
  }
  std::u32string read_string() {
    skip_ws();
    char32_t quote = next();
    if (quote != U'\'' && quote != U'"') fail("a quoted string");
    std::u32string out;
    while (true) {
      char32_t c = next();
      if (c == 0) fail("a closing quote");
      if (c == quote) return out;
      if (c != U'\\') {
        out.push_back(c);
        continue;
      }
      char32_t e = next();
      auto hex = [&](int n) {
        char32_t v = 0;
        for (int i = 0; i < n; ++i) {
          char32_t h = next();
          v <<= 4;
          if (h >= U'0' && h <= U'9') v |= h - U'0';
          else if (h >= U'a' && h <= U'f') v |= h - U'a' + 10;
          else if (h >= U'A' && h <= U'F') v |= h - U'A' + 10;
          else fail("a hexadecimal digit");
        }
        return v;
      };
      switch (e) {
        case U'u': out.push_back(hex(4)); break;
        case U'U': out.push_back(hex(8)); break;
        case U'x': out.push_back(hex(2)); break;
        case U'n': out.push_back(U'\n'); break;
        case U't': out.push_back(U'\t'); break;
        case U'r': out.push_back(U'\r'); break;
        default: out.push_back(e); break;
      }
    }
  }
  double read_number() {
    skip_ws();
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isdigit(static_cast<int>(s_[pos_] < 128 ? s_[pos_] : 0)) || s_[pos_] == U'-' ||
                                s_[pos_] == U'+' || s_[pos_] == U'.' || s_[pos_] == U'e' || s_[pos_] == U'E'))
      ++pos_;
    if (pos_ == start) fail("a number");
    std::string num = to_utf8(std::u32string_view(s_).substr(start, pos_ - start));
    return std::strtod(num.c_str(), nullptr);
  }

  std::u32string s_;
  std::string file_;
  size_t pos_ = 0;
};

template <class F>
void read_prob_file(const std::filesystem::path& path, F&& on_entry) {
  PyLiteralReader reader(to_u32(read_file(path)), path.string());
  reader.seek_assignment();
  std::vector<std::u32string> keys;
  reader.read_dict(keys, on_entry);
}

// re_han_default: [\u4E00-\u9FD5a-zA-Z0-9+#&._%-]
bool is_block_char(char32_t c) {
  return is_han(c) || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9') || c == U'+' ||
         c == U'#' || c == U'&' || c == U'.' || c == U'_' || c == U'%' || c == U'-';
}

bool is_ascii_alnum(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9');
}

}  // namespace

std::filesystem::path JiebaSegmenter::default_dir() {
  if (const char* env = std::getenv("LOOM_JIEBA_DIR"); env && *env) return env;
  return "/usr/lib/python3/dist-packages/jieba";
}

const JiebaSegmenter& JiebaSegmenter::shared() {
  static const JiebaSegmenter instance(default_dir());
  return instance;
}

JiebaSegmenter::JiebaSegmenter(const std::filesystem::path& jieba_dir) {
  const auto dict_path = jieba_dir / "dict.txt";
  std::string dict = read_file(dict_path);
  int64_t total = 0;
  size_t pos = 0;
  int line_no = 0;
  while (pos < dict.size()) {
    size_t end = dict.find('\n', pos);
    if (end == std::string::npos) end = dict.size();
    std::string line = strip_chars(std::string_view(dict).substr(pos, end - pos), " \t\r\n\v\f");
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    auto fields = split_on(line, " ");
    char* num_end = nullptr;
    if (fields.size() < 2) throw InputError(dict_path.string(), line_no, "", "'word frequency [tag]'");
    long long f = std::strtoll(fields[1].c_str(), &num_end, 10);
    if (fields[1].empty() || *num_end != '\0')
      throw InputError(dict_path.string(), line_no, "", "an integer frequency after the word");
    std::u32string word = to_u32(fields[0]);
    freq_[word] = f;
    total += f;
    for (size_t n = 1; n < word.size(); ++n) freq_.try_emplace(word.substr(0, n), 0);
  }
  log_total_ = std::log(static_cast<double>(total));

  start_.fill(kMinFloat);
  for (auto& row : trans_) row.fill(kMinFloat);
  const auto seg_dir = jieba_dir / "finalseg";
  read_prob_file(seg_dir / "prob_start.py", [&](const std::vector<std::u32string>& k, double v) {
    if (k.size() == 1 && k[0].size() == 1 && state_index(k[0][0]) >= 0) start_[state_index(k[0][0])] = v;
  });
  read_prob_file(seg_dir / "prob_trans.py", [&](const std::vector<std::u32string>& k, double v) {
    if (k.size() == 2 && k[0].size() == 1 && k[1].size() == 1 && state_index(k[0][0]) >= 0 &&
        state_index(k[1][0]) >= 0)
      trans_[state_index(k[0][0])][state_index(k[1][0])] = v;
  });
  read_prob_file(seg_dir / "prob_emit.py", [&](const std::vector<std::u32string>& k, double v) {
    if (k.size() == 2 && k[0].size() == 1 && k[1].size() == 1 && state_index(k[0][0]) >= 0)
      emit_[state_index(k[0][0])][k[1][0]] = v;
  });
}

int64_t JiebaSegmenter::frequency(const std::u32string& word) const {
  auto it = freq_.find(word);
  return it == freq_.end() ? 0 : it->second;
}

std::vector<std::string> JiebaSegmenter::cut(std::string_view utf8) const {
  std::vector<std::string> out;
  for (const auto& w : cut(to_u32(utf8))) out.push_back(to_utf8(w));
  return out;
}

std::vector<std::u32string> JiebaSegmenter::cut(const std::u32string& text) const {
  std::vector<std::u32string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    if (is_block_char(text[i])) {
      while (i < text.size() && is_block_char(text[i])) ++i;
      cut_block(text.substr(start, i - start), out);
      continue;
    }
    while (i < text.size() && !is_block_char(text[i])) ++i;
    // re_skip_default "(\r\n|\s)": separators are tokens, every other character is its own token.
    for (size_t k = start; k < i;) {
      if (text[k] == U'\r' && k + 1 < i && text[k + 1] == U'\n') {
        out.push_back(U"\r\n");
        k += 2;
      } else {
        out.emplace_back(1, text[k]);
        ++k;
      }
    }
  }
  return out;
}

void JiebaSegmenter::cut_block(const std::u32string& s, std::vector<std::u32string>& out) const {
  const size_t n = s.size();
  // DAG: for each start k, the end indices of dictionary words starting at k.
  std::vector<std::vector<size_t>> dag(n);
  std::u32string frag;
  for (size_t k = 0; k < n; ++k) {
    size_t i = k;
    frag.assign(1, s[k]);
    while (i < n) {
      auto it = freq_.find(frag);
      if (it == freq_.end()) break;
      if (it->second) dag[k].push_back(i);
      ++i;
      if (i < n) frag.push_back(s[i]);
    }
    if (dag[k].empty()) dag[k].push_back(k);
  }
  // Maximum-probability route from the right; ties prefer the larger end index (Python tuple max).
  std::vector<double> route_prob(n + 1, 0.0);
  std::vector<size_t> route_end(n + 1, 0);
  for (size_t idx = n; idx-- > 0;) {
    bool first = true;
    for (size_t x : dag[idx]) {
      int64_t f = frequency(s.substr(idx, x + 1 - idx));
      double p = std::log(static_cast<double>(f ? f : 1)) - log_total_ + route_prob[x + 1];
      if (first || p > route_prob[idx] || (p == route_prob[idx] && x > route_end[idx])) {
        route_prob[idx] = p;
        route_end[idx] = x;
        first = false;
      }
    }
  }
  std::u32string buf;
  auto flush = [&]() {
    if (buf.empty()) return;
    if (buf.size() == 1) {
      out.push_back(buf);
    } else if (!frequency(buf)) {
      cut_unknown(buf, out);
    } else {
      for (char32_t c : buf) out.emplace_back(1, c);
    }
    buf.clear();
  };
  size_t x = 0;
  while (x < n) {
    size_t y = route_end[x] + 1;
    if (y - x == 1) {
      buf.push_back(s[x]);
    } else {
      flush();
      out.push_back(s.substr(x, y - x));
    }
    x = y;
  }
  flush();
}

void JiebaSegmenter::cut_unknown(const std::u32string& text, std::vector<std::u32string>& out) const {
  // finalseg.cut: Han runs go to Viterbi; elsewhere re_skip "([a-zA-Z0-9]+(?:\.\d+)?%?)" pieces and the text
  // between them are yielded as they are.
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    if (is_han(text[i])) {
      while (i < text.size() && is_han(text[i])) ++i;
      viterbi_cut(text.substr(start, i - start), out);
      continue;
    }
    while (i < text.size() && !is_han(text[i])) ++i;
    const std::u32string other = text.substr(start, i - start);
    size_t k = 0, pending = 0;
    while (k < other.size()) {
      if (!is_ascii_alnum(other[k])) {
        ++k;
        continue;
      }
      size_t m = k;
      while (m < other.size() && is_ascii_alnum(other[m])) ++m;
      if (m + 1 < other.size() && other[m] == U'.' && py_is_decimal_digit(other[m + 1])) {
        m += 1;
        while (m < other.size() && py_is_decimal_digit(other[m])) ++m;
      }
      if (m < other.size() && other[m] == U'%') ++m;
      if (k > pending) out.push_back(other.substr(pending, k - pending));
      out.push_back(other.substr(k, m - k));
      k = pending = m;
    }
    if (pending < other.size()) out.push_back(other.substr(pending));
  }
}

void JiebaSegmenter::viterbi_cut(const std::u32string& obs, std::vector<std::u32string>& out) const {
  static const int prev_states[4][2] = {{kE, kS}, {kB, kM}, {kM, kB}, {kS, kE}};  // B, E, M, S
  const size_t n = obs.size();
  auto emit = [&](int state, char32_t c) {
    auto it = emit_[state].find(c);
    return it == emit_[state].end() ? kMinFloat : it->second;
  };
  std::vector<std::array<double, 4>> v(n);
  std::vector<std::array<int, 4>> back(n);
  for (int y = 0; y < 4; ++y) v[0][y] = start_[y] + emit(y, obs[0]);
  for (size_t t = 1; t < n; ++t) {
    for (int y = 0; y < 4; ++y) {
      double em = emit(y, obs[t]);
      double best = 0;
      int best_state = -1;
      for (int y0 : prev_states[y]) {
        double p = v[t - 1][y0] + trans_[y0][y] + em;
        if (best_state < 0 || p > best || (p == best && y0 > best_state)) {
          best = p;
          best_state = y0;
        }
      }
      v[t][y] = best;
      back[t][y] = best_state;
    }
  }
  int state = (v[n - 1][kS] >= v[n - 1][kE]) ? kS : kE;
  std::vector<int> path(n);
  for (size_t t = n; t-- > 0;) {
    path[t] = state;
    if (t > 0) state = back[t][state];
  }
  size_t begin = 0, next = 0;
  for (size_t i = 0; i < n; ++i) {
    if (path[i] == kB) {
      begin = i;
    } else if (path[i] == kE) {
      out.push_back(obs.substr(begin, i + 1 - begin));
      next = i + 1;
    } else if (path[i] == kS) {
      out.emplace_back(1, obs[i]);
      next = i + 1;
    }
  }
  if (next < n) out.push_back(obs.substr(next));
}

}  // namespace loom::metrics::text
