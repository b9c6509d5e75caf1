#include "text/pre_tokenizer.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

#include "text/regex.h"
#include "text/utf8.h"

namespace loom::text {

namespace {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

SplitBehavior parse_behavior(const Json& spec, const JsonPath& path, SplitBehavior fallback) {
  const std::string name = optional_string(spec, "behavior", path);
  if (name.empty()) return fallback;
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  (path / "behavior").fail("expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous, got '" +
                           name + "'");
}

struct Span {
  size_t begin, end;
  bool flag;  // is_match before the behavior is applied; "remove" after.
};

// Applies a split behavior to spans covering the whole text (the rules of tokenizers' NormalizedString::split)
// and appends the non-empty, non-removed sub-pieces.
void emit_splits(const Piece& piece, std::vector<Span>& spans, SplitBehavior behavior, std::vector<Piece>& out) {
  std::vector<Span> splits;
  splits.reserve(spans.size());
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (auto s : spans) splits.push_back({s.begin, s.end, false});
      break;
    case SplitBehavior::kRemoved:
      splits = spans;
      break;
    case SplitBehavior::kContiguous: {
      bool previous = false;
      for (const auto& s : spans) {
        if (s.flag == previous && !splits.empty()) {
          splits.back().end = s.end;
        } else {
          splits.push_back({s.begin, s.end, false});
        }
        previous = s.flag;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous = false;
      for (const auto& s : spans) {
        if (s.flag && !previous && !splits.empty()) {
          splits.back().end = s.end;
        } else {
          splits.push_back({s.begin, s.end, false});
        }
        previous = s.flag;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->flag && !previous && !splits.empty()) {
          splits.back().begin = it->begin;
        } else {
          splits.push_back({it->begin, it->end, false});
        }
        previous = it->flag;
      }
      std::reverse(splits.begin(), splits.end());
      break;
    }
  }
  for (const auto& s : splits) {
    if (s.flag || s.end <= s.begin) continue;
    out.push_back({piece.text.substr(s.begin, s.end - s.begin), piece.at_start && s.begin == 0});
  }
}

// Spans for a list of matches: gaps are non-matches (flag false), matches flag true (or inverted).
void spans_from_matches(size_t length, const std::vector<std::pair<size_t, size_t>>& matches, bool invert,
                        std::vector<Span>& spans) {
  spans.clear();
  size_t previous = 0;
  for (const auto& [begin, end] : matches) {
    if (previous != begin) spans.push_back({previous, begin, invert});
    spans.push_back({begin, end, !invert});
    previous = end;
  }
  if (previous != length || length == 0) spans.push_back({previous, length, invert});
}

// Spans for a character predicate: each matching character is its own match.
void spans_from_predicate(const std::string& text, const std::function<bool(char32_t)>& predicate,
                          std::vector<Span>& spans) {
  spans.clear();
  if (text.empty()) {
    spans.push_back({0, 0, false});
    return;
  }
  size_t last_offset = 0, pos = 0;
  while (pos < text.size()) {
    const size_t begin = pos;
    const char32_t c = next_code_point(text, pos);
    if (predicate(c)) {
      if (last_offset < begin) spans.push_back({last_offset, begin, false});
      spans.push_back({begin, pos, true});
      last_offset = pos;
    }
  }
  if (pos > last_offset) spans.push_back({last_offset, pos, false});
}

class RegexSplit final : public PreTokenizer {
 public:
  RegexSplit(const std::string& regex, SplitBehavior behavior, bool invert)
      : regex_(regex), behavior_(behavior), invert_(invert) {}
  void split(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    out.reserve(pieces.size() * 4);
    std::vector<std::pair<size_t, size_t>> matches;
    std::vector<Span> spans;
    for (const auto& piece : pieces) {
      matches.clear();
      regex_.find_all(piece.text, matches);
      spans_from_matches(piece.text.size(), matches, invert_, spans);
      emit_splits(piece, spans, behavior_, out);
    }
    pieces.swap(out);
  }
  const Regex* isolated_regex() const {
    return (behavior_ == SplitBehavior::kIsolated && !invert_) ? &regex_ : nullptr;
  }

 private:
  Regex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class PredicateSplit final : public PreTokenizer {
 public:
  PredicateSplit(std::function<bool(char32_t)> predicate, SplitBehavior behavior)
      : predicate_(std::move(predicate)), behavior_(behavior) {}
  void split(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    std::vector<Span> spans;
    for (const auto& piece : pieces) {
      spans_from_predicate(piece.text, predicate_, spans);
      emit_splits(piece, spans, behavior_, out);
    }
    pieces.swap(out);
  }

 private:
  std::function<bool(char32_t)> predicate_;
  SplitBehavior behavior_;
};

constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_split_ = std::make_unique<RegexSplit>(kGpt2Pattern, SplitBehavior::kIsolated, false);
  }
  void split(std::vector<Piece>& pieces) const override {
    if (add_prefix_space_) {
      for (auto& piece : pieces) {
        if (piece.text.empty() || piece.text[0] != ' ') piece.text.insert(0, " ");
      }
    }
    if (regex_split_) regex_split_->split(pieces);
    for (auto& piece : pieces) piece.text = to_byte_level(piece.text);
  }
  bool is_plain_byte_map() const { return !add_prefix_space_ && !regex_split_; }
  const Regex* byte_level_word_regex() const override {
    return add_prefix_space_ || !regex_split_ ? nullptr : regex_split_->isolated_regex();
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<RegexSplit> regex_split_;
};

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  MetaspacePreTokenizer(std::string replacement, Prepend prepend, bool split_words)
      : replacement_(std::move(replacement)), prepend_(prepend), split_words_(split_words) {
    size_t pos = 0;
    replacement_cp_ = next_code_point(replacement_, pos);
  }
  void split(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    std::vector<Span> spans;
    for (auto& piece : pieces) {
      std::string text;
      text.reserve(piece.text.size() + replacement_.size());
      for (const char c : piece.text) {
        if (c == ' ') {
          text += replacement_;
        } else {
          text += c;
        }
      }
      const bool starts_with_replacement = text.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts_with_replacement &&
          (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && piece.at_start))) {
        text.insert(0, replacement_);
      }
      Piece replaced{std::move(text), piece.at_start};
      if (!split_words_) {
        if (!replaced.text.empty()) out.push_back(std::move(replaced));
        continue;
      }
      const char32_t r = replacement_cp_;
      spans_from_predicate(replaced.text, [r](char32_t c) { return c == r; }, spans);
      emit_splits(replaced, spans, SplitBehavior::kMergedWithNext, out);
    }
    pieces.swap(out);
  }

 private:
  std::string replacement_;
  char32_t replacement_cp_ = 0;
  Prepend prepend_;
  bool split_words_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void split(std::vector<Piece>& pieces) const override {
    for (const auto& part : parts_) part->split(pieces);
  }
  const Regex* byte_level_word_regex() const override {
    if (parts_.size() == 1) return parts_[0]->byte_level_word_regex();
    if (parts_.size() != 2) return nullptr;
    const auto* split = dynamic_cast<const RegexSplit*>(parts_[0].get());
    const auto* byte_level = dynamic_cast<const ByteLevelPreTokenizer*>(parts_[1].get());
    if (split == nullptr || byte_level == nullptr || !byte_level->is_plain_byte_map()) return nullptr;
    return split->isolated_regex();
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

std::unique_ptr<PreTokenizer> make_regex_split(const std::string& regex, SplitBehavior behavior, bool invert,
                                               const JsonPath& path) {
  try {
    return std::make_unique<RegexSplit>(regex, behavior, invert);
  } catch (const std::invalid_argument& e) {
    path.fail(e.what());
  }
}

}  // namespace

const std::array<std::string, 256>& byte_level_chars() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char32_t cp = static_cast<char32_t>(b);
      if (!printable) cp = static_cast<char32_t>(256 + next++);
      append_utf8(t[b], cp);
    }
    return t;
  }();
  return table;
}

std::string to_byte_level(std::string_view text) {
  const auto& table = byte_level_chars();
  std::string out;
  out.reserve(text.size() * 2);
  for (const char c : text) out += table[static_cast<unsigned char>(c)];
  return out;
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& spec, const JsonPath& path) {
  const std::string type = component_type(spec, path);
  if (type == "Sequence") {
    const Json& list = require_member(spec, "pretokenizers", path);
    if (!list.is_array()) (path / "pretokenizers").fail("expected a list of pre-tokenizers");
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      parts.push_back(make_pre_tokenizer(list[i], (path / "pretokenizers")[i]));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(parts));
  }
  if (type == "Split") {
    const std::string regex = pattern_to_regex(require_member(spec, "pattern", path), path / "pattern");
    return make_regex_split(regex, parse_behavior(spec, path, SplitBehavior::kIsolated),
                            optional_bool(spec, "invert", false, path), path / "pattern");
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(optional_bool(spec, "add_prefix_space", true, path),
                                                   optional_bool(spec, "use_regex", true, path));
  }
  if (type == "Metaspace") {
    std::string replacement = optional_string(spec, "replacement", path);
    if (replacement.empty()) replacement = "\xE2\x96\x81";
    auto prepend = MetaspacePreTokenizer::Prepend::kAlways;
    const std::string scheme = optional_string(spec, "prepend_scheme", path);
    if (scheme == "first") {
      prepend = MetaspacePreTokenizer::Prepend::kFirst;
    } else if (scheme == "never") {
      prepend = MetaspacePreTokenizer::Prepend::kNever;
    } else if (scheme.empty()) {
      if (!optional_bool(spec, "add_prefix_space", true, path)) prepend = MetaspacePreTokenizer::Prepend::kNever;
    } else if (scheme != "always") {
      (path / "prepend_scheme").fail("expected always, first or never, got '" + scheme + "'");
    }
    return std::make_unique<MetaspacePreTokenizer>(replacement, prepend, optional_bool(spec, "split", true, path));
  }
  if (type == "Digits") {
    const bool individual = optional_bool(spec, "individual_digits", false, path);
    return std::make_unique<PredicateSplit>([](char32_t c) { return c >= '0' && c <= '9'; },
                                            individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
  }
  if (type == "Whitespace") {
    return make_regex_split(R"([\p{L}\p{M}\p{Nd}\p{Pc}]+|[^\p{L}\p{M}\p{Nd}\p{Pc}\s]+)", SplitBehavior::kRemoved,
                            true, path);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<PredicateSplit>(is_unicode_whitespace, SplitBehavior::kRemoved);
  }
  if (type == "Punctuation") {
    return std::make_unique<PredicateSplit>(is_unicode_punctuation,
                                            parse_behavior(spec, path, SplitBehavior::kIsolated));
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    parts.push_back(std::make_unique<PredicateSplit>(is_unicode_whitespace, SplitBehavior::kRemoved));
    parts.push_back(std::make_unique<PredicateSplit>(is_unicode_punctuation, SplitBehavior::kIsolated));
    return std::make_unique<SequencePreTokenizer>(std::move(parts));
  }
  (path / "type").fail("unsupported pre-tokenizer type '" + type +
                       "' (supported: Sequence, Split, ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit, "
                       "Punctuation, BertPreTokenizer)");
}

}  // namespace loom::text
