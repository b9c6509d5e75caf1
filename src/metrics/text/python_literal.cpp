#include "metrics/text/python_literal.h"

#include "metrics/text/unicode_text.h"

#include <cctype>
#include <cstring>
#include <cstdint>
#include <stdexcept>

namespace loom::metrics::text {
namespace {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  nlohmann::json parse_top() {
    // eval() strips leading spaces and tabs; then blank and comment lines may precede an unindented expression.
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
    for (;;) {
      size_t line = i_;
      bool indented = false;
      while (line < s_.size() && (s_[line] == ' ' || s_[line] == '\t' || s_[line] == '\f')) {
        indented = s_[line] != '\f' ? true : false;
        ++line;
      }
      if (line < s_.size() && s_[line] == '#') {
        while (line < s_.size() && s_[line] != '\n') ++line;
      }
      if (line < s_.size() && (s_[line] == '\n' || s_[line] == '\r')) {
        i_ = line + 1;
        continue;
      }
      if (line >= s_.size()) throw ParseError("no expression");
      if (indented) throw ParseError("unexpected indent");
      i_ = line;
      break;
    }
    nlohmann::json value = expression(0);
    skip_space(0);
    if (i_ != s_.size()) throw ParseError("text after the expression");
    return value;
  }

 private:
  // Inside brackets (depth > 0) newlines are whitespace; at top level only a trailing newline may end the input.
  void skip_space(int depth) {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\f') {
        ++i_;
      } else if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == '\\' && i_ + 1 < s_.size() && (s_[i_ + 1] == '\n' || s_[i_ + 1] == '\r')) {
        i_ += 2;
        if (s_[i_ - 1] == '\r' && i_ < s_.size() && s_[i_] == '\n') ++i_;
      } else if (c == '\n' || c == '\r') {
        if (depth == 0) {
          // Only blank lines (and comments) may follow the expression.
          size_t j = i_;
          while (j < s_.size() && (std::isspace(static_cast<unsigned char>(s_[j])) != 0)) ++j;
          if (j < s_.size() && s_[j] != '#') throw ParseError("a second line");
        }
        ++i_;
      } else {
        break;
      }
    }
  }

  bool peek(char c, int depth) {
    skip_space(depth);
    return i_ < s_.size() && s_[i_] == c;
  }

  void expect(char c, int depth) {
    if (!peek(c, depth)) throw ParseError(std::string("expected '") + c + "'");
    ++i_;
  }

  nlohmann::json expression(int depth) {
    skip_space(depth);
    if (i_ >= s_.size()) throw ParseError("unexpected end");
    const char c = s_[i_];
    if (c == '{') return braces(depth);
    if (c == '[') return sequence(depth, '[', ']', false);
    if (c == '(') return sequence(depth, '(', ')', true);
    if (c == '-' || c == '+') {
      ++i_;
      nlohmann::json v = expression(depth);
      if (!v.is_number() || v.is_boolean()) {
        if (!v.is_boolean()) throw ParseError("unary sign on a non-number");
        v = v.get<bool>() ? 1 : 0;
      }
      if (c == '+') return v;
      if (v.is_number_float()) return -v.get<double>();
      return -v.get<int64_t>();
    }
    if (c == '.' || std::isdigit(static_cast<unsigned char>(c))) return number();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i_;
      while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_')) ++j;
      const std::string_view word = s_.substr(i_, j - i_);
      if (j < s_.size() && (s_[j] == '\'' || s_[j] == '"') && word.size() <= 2) return strings(depth);
      i_ = j;
      if (word == "True") return true;
      if (word == "False") return false;
      if (word == "None") return nullptr;
      throw ParseError("a name (" + std::string(word) + ")");
    }
    if (c == '\'' || c == '"') return strings(depth);
    throw ParseError(std::string("unexpected '") + c + "'");
  }

  nlohmann::json braces(int depth) {
    ++i_;  // '{'
    if (peek('}', depth + 1)) {
      ++i_;
      return nlohmann::json::object();
    }
    nlohmann::json first = expression(depth + 1);
    if (peek(':', depth + 1)) {  // dict
      nlohmann::json out = nlohmann::json::object();
      ++i_;
      nlohmann::json value = expression(depth + 1);
      if (first.is_string()) out[first.get<std::string>()] = value;
      while (peek(',', depth + 1)) {
        ++i_;
        if (peek('}', depth + 1)) break;
        nlohmann::json key = expression(depth + 1);
        expect(':', depth + 1);
        value = expression(depth + 1);
        if (key.is_string()) out[key.get<std::string>()] = value;
      }
      expect('}', depth + 1);
      return out;
    }
    nlohmann::json out = nlohmann::json::array({first});  // set
    while (peek(',', depth + 1)) {
      ++i_;
      if (peek('}', depth + 1)) break;
      out.push_back(expression(depth + 1));
    }
    expect('}', depth + 1);
    return out;
  }

  nlohmann::json sequence(int depth, char open, char close, bool tuple) {
    (void)open;
    ++i_;
    nlohmann::json out = nlohmann::json::array();
    if (peek(close, depth + 1)) {
      ++i_;
      return out;
    }
    out.push_back(expression(depth + 1));
    bool comma = false;
    while (peek(',', depth + 1)) {
      ++i_;
      comma = true;
      if (peek(close, depth + 1)) break;
      out.push_back(expression(depth + 1));
    }
    expect(close, depth + 1);
    if (tuple && !comma) return out[0];  // (x) is x
    return out;
  }

  nlohmann::json number() {
    size_t j = i_;
    std::string digits;
    if (s_[j] == '0' && j + 1 < s_.size() && std::strchr("xXoObB", s_[j + 1]) != nullptr) {
      const int base = (s_[j + 1] == 'x' || s_[j + 1] == 'X') ? 16 : (s_[j + 1] == 'o' || s_[j + 1] == 'O') ? 8 : 2;
      j += 2;
      while (j < s_.size() && (std::isxdigit(static_cast<unsigned char>(s_[j])) || s_[j] == '_')) {
        if (s_[j] != '_') digits += s_[j];
        ++j;
      }
      i_ = j;
      try {
        return static_cast<int64_t>(std::stoull(digits, nullptr, base));
      } catch (const std::exception&) {
        throw ParseError("an integer out of range");
      }
    }
    bool is_float = false;
    while (j < s_.size()) {
      const char c = s_[j];
      if (std::isdigit(static_cast<unsigned char>(c)) || c == '_') {
        if (c != '_') digits += c;
      } else if (c == '.') {
        is_float = true;
        digits += c;
      } else if ((c == 'e' || c == 'E') && j + 1 < s_.size()) {
        is_float = true;
        digits += c;
        if (s_[j + 1] == '+' || s_[j + 1] == '-') digits += s_[++j];
      } else {
        break;
      }
      ++j;
    }
    if (j < s_.size() && (s_[j] == 'j' || s_[j] == 'J')) throw ParseError("a complex number");
    i_ = j;
    try {
      if (is_float) return std::stod(digits);
      return static_cast<int64_t>(std::stoll(digits));
    } catch (const std::exception&) {
      if (!is_float) return std::stod(digits);  // beyond int64: its float value
      throw ParseError("a malformed number");
    }
  }

  // One or more adjacent string literals, concatenated.
  nlohmann::json strings(int depth) {
    std::string out;
    bool any = false;
    for (;;) {
      skip_space(depth);
      size_t j = i_;
      bool raw = false, bytes = false;
      while (j < s_.size() && std::strchr("rRuUbB", s_[j]) != nullptr && j - i_ < 2) {
        raw = raw || s_[j] == 'r' || s_[j] == 'R';
        bytes = bytes || s_[j] == 'b' || s_[j] == 'B';
        ++j;
      }
      if (j >= s_.size() || (s_[j] != '\'' && s_[j] != '"')) {
        if (!any) throw ParseError("a string");
        break;
      }
      if (bytes) throw ParseError("a bytes literal");
      i_ = j;
      out += string_literal(raw);
      any = true;
    }
    return out;
  }

  static void append(std::string& out, uint32_t cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate has no UTF-8 form
    out += to_utf8(static_cast<char32_t>(cp));
  }

  std::string string_literal(bool raw) {
    const char quote = s_[i_];
    const bool triple = i_ + 2 < s_.size() && s_[i_ + 1] == quote && s_[i_ + 2] == quote;
    i_ += triple ? 3 : 1;
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) throw ParseError("an unterminated string");
      const char c = s_[i_];
      if (c == quote) {
        if (!triple) {
          ++i_;
          return out;
        }
        if (i_ + 2 < s_.size() && s_[i_ + 1] == quote && s_[i_ + 2] == quote) {
          i_ += 3;
          return out;
        }
      }
      if (!triple && (c == '\n' || c == '\r')) throw ParseError("a newline in a string");
      if (c != '\\') {
        out += c;
        ++i_;
        continue;
      }
      if (i_ + 1 >= s_.size()) throw ParseError("an unterminated string");
      const char e = s_[i_ + 1];
      if (raw) {  // the backslash stays; it only keeps the next character from closing the string
        out += c;
        out += e;
        i_ += 2;
        continue;
      }
      i_ += 2;
      switch (e) {
        case '\n': break;
        case '\r':
          if (i_ < s_.size() && s_[i_] == '\n') ++i_;
          break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': append(out, hex(2)); break;
        case 'u': append(out, hex(4)); break;
        case 'U': {
          const uint32_t cp = hex(8);
          if (cp > 0x10FFFF) throw ParseError("an escape beyond U+10FFFF");
          append(out, cp);
          break;
        }
        case 'N': throw ParseError("a \\N{...} escape");
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '7'; ++k)
              v = v * 8 + static_cast<uint32_t>(s_[i_++] - '0');
            append(out, v);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
  }

  uint32_t hex(int n) {
    if (i_ + static_cast<size_t>(n) > s_.size()) throw ParseError("a truncated escape");
    uint32_t v = 0;
    for (int k = 0; k < n; ++k) {
      const char h = s_[i_++];
      if (!std::isxdigit(static_cast<unsigned char>(h))) throw ParseError("a malformed escape");
      v = v * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
    }
    return v;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<nlohmann::json> parse_python_literal(std::string_view source, std::string* error) {
  try {
    return Parser(source).parse_top();
  } catch (const ParseError& e) {
    if (error != nullptr) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace loom::metrics::text
