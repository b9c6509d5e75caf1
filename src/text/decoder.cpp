#include "text/decoder.h"

#include <unordered_map>

#include "text/pre_tokenizer.h"
#include "text/regex.h"
#include "text/utf8.h"

namespace loom::text {

namespace {

class ByteLevelDecoder final : public Decoder {
 public:
  ByteLevelDecoder() {
    const auto& chars = byte_level_chars();
    for (int b = 0; b < 256; ++b) {
      size_t pos = 0;
      char_to_byte_[next_code_point(chars[static_cast<size_t>(b)], pos)] = static_cast<unsigned char>(b);
    }
  }
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& token : tokens) {
      // A token whose characters are all byte-level characters is mapped back to bytes; any other token (an added
      // token in plain text) is kept as it is.
      const size_t mark = bytes.size();
      size_t pos = 0;
      bool mapped = true;
      while (pos < token.size()) {
        const auto it = char_to_byte_.find(next_code_point(token, pos));
        if (it == char_to_byte_.end()) {
          mapped = false;
          break;
        }
        bytes.push_back(static_cast<char>(it->second));
      }
      if (!mapped) {
        bytes.resize(mark);
        bytes += token;
      }
    }
    tokens.assign(1, to_valid_utf8(bytes));
  }

 private:
  std::unordered_map<char32_t, unsigned char> char_to_byte_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(const std::string& regex, std::string content) : regex_(regex), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::pair<size_t, size_t>> matches;
    for (auto& token : tokens) {
      matches.clear();
      regex_.find_all(token, matches);
      if (matches.empty()) continue;
      std::string out;
      size_t last = 0;
      for (const auto& [begin, end] : matches) {
        out.append(token, last, begin - last);
        out += content_;
        last = end;
      }
      out.append(token, last, std::string::npos);
      token.swap(out);
    }
  }

 private:
  Regex regex_;
  std::string content_;
};

class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (is_valid_utf8(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (auto& token : tokens) {
      int byte = -1;
      if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>') byte = parse_hex(token[3], token[4]);
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    tokens.swap(out);
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  static int parse_hex(char hi, char lo) {
    const int h = hex_digit(hi), l = hex_digit(lo);
    return (h < 0 || l < 0) ? -1 : h * 16 + l;
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const auto& token : tokens) joined += token;
    tokens.assign(1, std::move(joined));
  }
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& token : tokens) {
      std::vector<size_t> offsets;  // byte offset of each character, plus the end
      size_t pos = 0;
      std::vector<char32_t> chars;
      while (pos < token.size()) {
        offsets.push_back(pos);
        chars.push_back(next_code_point(token, pos));
      }
      offsets.push_back(token.size());
      size_t start_cut = 0;
      for (size_t i = 0; i < start_ && i < chars.size() && chars[i] == content_; ++i) start_cut = i + 1;
      size_t stop_cut = chars.size();
      for (size_t i = 0; i < stop_ && i < chars.size(); ++i) {
        const size_t index = chars.size() - i - 1;
        if (chars[index] != content_) break;
        stop_cut = index;
      }
      if (stop_cut < start_cut) stop_cut = start_cut;
      token = token.substr(offsets[start_cut], offsets[stop_cut] - offsets[start_cut]);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, bool strip_first) : replacement_(replacement), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      size_t pos = 0;
      while (pos < tokens[i].size()) {
        const char32_t c = next_code_point(tokens[i], pos);
        if (c == replacement_) {
          if (!(i == 0 && strip_first_)) out += ' ';
        } else {
          append_utf8(out, c);
        }
      }
      tokens[i].swap(out);
    }
  }

 private:
  char32_t replacement_;
  bool strip_first_;
};

class BpeSuffixDecoder final : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string replacement = (i + 1 == tokens.size()) ? "" : " ";
      std::string& token = tokens[i];
      std::string out;
      size_t pos = 0;
      while (true) {
        const size_t found = suffix_.empty() ? std::string::npos : token.find(suffix_, pos);
        if (found == std::string::npos) break;
        out.append(token, pos, found - pos);
        out += replacement;
        pos = found + suffix_.size();
      }
      out.append(token, pos, std::string::npos);
      token.swap(out);
    }
  }

 private:
  std::string suffix_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& part : parts_) part->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

char32_t single_char(const std::string& text, const JsonPath& path) {
  size_t pos = 0;
  if (text.empty()) path.fail("expected a single character");
  const char32_t c = next_code_point(text, pos);
  if (pos != text.size()) path.fail("expected a single character");
  return c;
}

// tokenizers' WordPiece decoder: a token after the first loses its prefix ("##") or gets a space before it; with
// cleanup, the spaces before punctuation and English contractions are removed (tokenizers' cleanup()).
class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& token = tokens[i];
      if (i != 0) {
        if (!prefix_.empty() && token.compare(0, prefix_.size(), prefix_) == 0) {
          token.erase(0, prefix_.size());
        } else {
          token.insert(0, " ");
        }
      }
      if (cleanup_) {
        for (const auto& [from, to] : kCleanup) token = replace_all(token, from, to);
      }
    }
  }

 private:
  static std::string replace_all(const std::string& text, const char* from, const char* to) {
    const std::string needle(from);
    std::string out;
    size_t last = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, last)) {
      out.append(text, last, at - last);
      out += to;
      last = at + needle.size();
    }
    out.append(text, last, std::string::npos);
    return out;
  }
  static constexpr std::pair<const char*, const char*> kCleanup[] = {
      {" .", "."},   {" ?", "?"},   {" !", "!"},   {" ,", ","},   {" ' ", "'"},         {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"},       {" 's", "'s"}, {" 've", "'ve"},     {" 're", "'re"}};
  std::string prefix_;
  bool cleanup_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Json& spec, const JsonPath& path) {
  const std::string type = component_type(spec, path);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Replace") {
    const std::string regex = pattern_to_regex(require_member(spec, "pattern", path), path / "pattern");
    try {
      return std::make_unique<ReplaceDecoder>(regex, require_string(spec, "content", path));
    } catch (const std::invalid_argument& e) {
      (path / "pattern").fail(e.what());
    }
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const Json& start = require_member(spec, "start", path);
    const Json& stop = require_member(spec, "stop", path);
    if (!start.is_number_unsigned() && !(start.is_number_integer() && start.get<int64_t>() >= 0)) {
      (path / "start").fail("expected a non-negative integer");
    }
    if (!stop.is_number_unsigned() && !(stop.is_number_integer() && stop.get<int64_t>() >= 0)) {
      (path / "stop").fail("expected a non-negative integer");
    }
    return std::make_unique<StripDecoder>(single_char(require_string(spec, "content", path), path / "content"),
                                          start.get<size_t>(), stop.get<size_t>());
  }
  if (type == "Metaspace") {
    std::string replacement = optional_string(spec, "replacement", path);
    if (replacement.empty()) replacement = "\xE2\x96\x81";
    const std::string scheme = optional_string(spec, "prepend_scheme", path);
    bool strip_first = scheme.empty() ? optional_bool(spec, "add_prefix_space", true, path) : scheme != "never";
    return std::make_unique<MetaspaceDecoder>(single_char(replacement, path / "replacement"), strip_first);
  }
  if (type == "BPEDecoder") {
    std::string suffix = optional_string(spec, "suffix", path);
    if (!spec.contains("suffix")) suffix = "</w>";
    return std::make_unique<BpeSuffixDecoder>(suffix);
  }
  if (type == "WordPiece") {
    const std::string prefix = spec.contains("prefix") ? optional_string(spec, "prefix", path) : std::string("##");
    return std::make_unique<WordPieceDecoder>(prefix, optional_bool(spec, "cleanup", true, path));
  }
  if (type == "Sequence") {
    const Json& list = require_member(spec, "decoders", path);
    if (!list.is_array()) (path / "decoders").fail("expected a list of decoders");
    std::vector<std::unique_ptr<Decoder>> parts;
    for (size_t i = 0; i < list.size(); ++i) parts.push_back(make_decoder(list[i], (path / "decoders")[i]));
    return std::make_unique<SequenceDecoder>(std::move(parts));
  }
  (path / "type").fail("unsupported decoder type '" + type +
                       "' (supported: ByteLevel, Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace, BPEDecoder, "
                       "WordPiece)");
}

std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens) {
  std::string text;
  if (decoder == nullptr) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) text += ' ';
      text += tokens[i];
    }
    return text;
  }
  decoder->decode_chain(tokens);
  for (const auto& token : tokens) text += token;
  return text;
}

}  // namespace loom::text
