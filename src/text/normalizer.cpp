#include "text/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "text/regex.h"
#include "text/utf8.h"

namespace loom::text {

namespace {

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(utf8proc_option_t options) : options_(options) {}
  // Only runs of non-ASCII characters, each with the ASCII character before it, go through utf8proc: an ASCII
  // character is a starter that never composes with what precedes it, so the text may be cut before it.
  void normalize(std::string& text) const override {
    size_t first = 0;
    while (first < text.size() && static_cast<unsigned char>(text[first]) < 0x80) ++first;
    if (first == text.size()) return;
    std::string out;
    out.reserve(text.size() + 16);
    size_t copied = 0;
    size_t pos = first;
    while (pos < text.size()) {
      if (static_cast<unsigned char>(text[pos]) < 0x80) {
        ++pos;
        continue;
      }
      const size_t run_begin = pos > 0 ? pos - 1 : 0;  // the ASCII character before the run, if any
      size_t run_end = pos;
      while (run_end < text.size() && static_cast<unsigned char>(text[run_end]) >= 0x80) ++run_end;
      out.append(text, copied, run_begin - copied);
      append_normalized(std::string_view(text).substr(run_begin, run_end - run_begin), out);
      copied = run_end;
      pos = run_end;
    }
    out.append(text, copied, std::string::npos);
    text.swap(out);
  }

 private:
  void append_normalized(std::string_view run, std::string& out) const {
    utf8proc_uint8_t* result = nullptr;
    const auto length = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(run.data()),
                                     static_cast<utf8proc_ssize_t>(run.size()), &result, options_);
    if (length < 0) throw std::runtime_error(std::string("Unicode normalization failed: ") + utf8proc_errmsg(length));
    out.append(reinterpret_cast<const char*>(result), static_cast<size_t>(length));
    std::free(result);
  }

  utf8proc_option_t options_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) append_utf8(out, utf8proc_tolower(next_code_point(text, pos)));
    text.swap(out);
  }
};

// tokenizers' BertNormalizer: clean_text drops NUL, U+FFFD and control characters (category C*, except tab, newline
// and carriage return) and turns whitespace into a space; handle_chinese_chars puts spaces around CJK ideographs;
// strip_accents (null: as lowercase) decomposes (NFD) and drops non-spacing marks (Mn); lowercase last.
class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_(chinese), strip_accents_(strip_accents), lowercase_(lowercase) {}
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size() + 8);
    size_t pos = 0;
    while (pos < text.size()) {
      char32_t c = next_code_point(text, pos);
      if (clean_text_) {
        if (c == 0 || c == 0xFFFD || is_control(c)) continue;
        if (c == '\t' || c == '\n' || c == '\r' || is_unicode_whitespace(c)) c = ' ';
      }
      if (chinese_ && is_chinese(c)) {
        out += ' ';
        append_utf8(out, c);
        out += ' ';
      } else {
        append_utf8(out, c);
      }
    }
    if (strip_accents_) out = without_marks(out);
    if (lowercase_) {
      std::string lower;
      lower.reserve(out.size());
      pos = 0;
      while (pos < out.size()) append_utf8(lower, utf8proc_tolower(next_code_point(out, pos)));
      out.swap(lower);
    }
    text.swap(out);
  }

 private:
  static bool is_control(char32_t c) {
    if (c == '\t' || c == '\n' || c == '\r') return false;
    const utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(c));
    return category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF || category == UTF8PROC_CATEGORY_CN ||
           category == UTF8PROC_CATEGORY_CO || category == UTF8PROC_CATEGORY_CS;
  }
  static bool is_chinese(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
  }
  static std::string without_marks(const std::string& text) {
    utf8proc_uint8_t* decomposed = nullptr;
    const auto length = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                     static_cast<utf8proc_ssize_t>(text.size()), &decomposed,
                                     static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
    if (length < 0) throw std::runtime_error(std::string("Unicode normalization failed: ") + utf8proc_errmsg(length));
    const std::string nfd(reinterpret_cast<const char*>(decomposed), static_cast<size_t>(length));
    std::free(decomposed);
    std::string out;
    out.reserve(nfd.size());
    size_t pos = 0;
    while (pos < nfd.size()) {
      const char32_t c = next_code_point(nfd, pos);
      if (utf8proc_category(static_cast<utf8proc_int32_t>(c)) != UTF8PROC_CATEGORY_MN) append_utf8(out, c);
    }
    return out;
  }

  bool clean_text_, chinese_, strip_accents_, lowercase_;
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      size_t pos = 0;
      while (pos < text.size()) {
        const size_t before = pos;
        if (!is_unicode_whitespace(next_code_point(text, pos))) {
          begin = before;
          break;
        }
        begin = pos;
      }
    }
    if (right_) {
      // Scan forward remembering the end of the last non-whitespace character.
      size_t pos = begin, last = begin;
      while (pos < text.size()) {
        if (!is_unicode_whitespace(next_code_point(text, pos))) last = pos;
      }
      end = last;
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(const std::string& pattern, std::string content) : regex_(pattern), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    std::vector<std::pair<size_t, size_t>> matches;
    regex_.find_all(text, matches);
    if (matches.empty()) return;
    std::string out;
    out.reserve(text.size() + matches.size() * content_.size());
    size_t last = 0;
    for (const auto& [begin, end] : matches) {
      out.append(text, last, begin - last);
      out += content_;
      last = end;
    }
    out.append(text, last, std::string::npos);
    text.swap(out);
  }

 private:
  Regex regex_;
  std::string content_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(std::string& text) const override {
    for (const auto& part : parts_) part->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const Json& spec, const JsonPath& path) {
  const std::string type = component_type(spec, path);
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
  if (type == "NFKC") {
    return std::make_unique<UnicodeNormalizer>(
        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
  }
  if (type == "NFKD") {
    return std::make_unique<UnicodeNormalizer>(
        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT));
  }
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(optional_bool(spec, "strip_left", false, path),
                                             optional_bool(spec, "strip_right", false, path));
  }
  if (type == "Replace") {
    const std::string regex = pattern_to_regex(require_member(spec, "pattern", path), path / "pattern");
    try {
      return std::make_unique<ReplaceNormalizer>(regex, require_string(spec, "content", path));
    } catch (const std::invalid_argument& e) {
      (path / "pattern").fail(e.what());
    }
  }
  if (type == "BertNormalizer") {
    const bool lowercase = optional_bool(spec, "lowercase", true, path);
    const bool strip_accents = spec.contains("strip_accents") && !spec["strip_accents"].is_null()
                                   ? optional_bool(spec, "strip_accents", lowercase, path)
                                   : lowercase;
    return std::make_unique<BertNormalizer>(optional_bool(spec, "clean_text", true, path),
                                            optional_bool(spec, "handle_chinese_chars", true, path), strip_accents,
                                            lowercase);
  }
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(require_string(spec, "prepend", path));
  if (type == "Sequence") {
    const Json& list = require_member(spec, "normalizers", path);
    if (!list.is_array()) (path / "normalizers").fail("expected a list of normalizers");
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < list.size(); ++i) parts.push_back(make_normalizer(list[i], (path / "normalizers")[i]));
    return std::make_unique<SequenceNormalizer>(std::move(parts));
  }
  (path / "type").fail("unsupported normalizer type '" + type +
                       "' (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, Replace, Prepend, BertNormalizer, "
                       "Sequence)");
}

}  // namespace loom::text
