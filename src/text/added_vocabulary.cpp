#include "text/added_vocabulary.h"

#include <cstdint>
#include <utf8proc.h>

#include <algorithm>

#include "text/utf8.h"

namespace loom::text {

int32_t TokenMatcher::child(int32_t node, unsigned char byte) const {
  const auto& children = nodes_[static_cast<size_t>(node)].children;
  const auto it = std::lower_bound(children.begin(), children.end(), byte,
                                   [](const auto& entry, unsigned char b) { return entry.first < b; });
  return (it != children.end() && it->first == byte) ? it->second : -1;
}

void TokenMatcher::add(const std::string& content, int32_t index) {
  if (content.empty()) return;
  int32_t node = 0;
  for (const char c : content) {
    const auto byte = static_cast<unsigned char>(c);
    int32_t next = child(node, byte);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& children = nodes_[static_cast<size_t>(node)].children;
      const auto it = std::lower_bound(children.begin(), children.end(), byte,
                                       [](const auto& entry, unsigned char b) { return entry.first < b; });
      children.insert(it, {byte, next});
    }
    node = next;
  }
  // The first token added with a given content wins, as in a map built in order.
  if (nodes_[static_cast<size_t>(node)].terminal < 0) nodes_[static_cast<size_t>(node)].terminal = index;
  first_byte_[static_cast<unsigned char>(content[0])] = true;
}

void TokenMatcher::find_all(std::string_view text, std::vector<Match>& matches) const {
  if (empty()) return;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    int32_t node = 0, best = -1;
    size_t best_end = pos;
    for (size_t i = pos; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node < 0) break;
      if (nodes_[static_cast<size_t>(node)].terminal >= 0) {
        best = nodes_[static_cast<size_t>(node)].terminal;
        best_end = i + 1;
      }
    }
    if (best >= 0) {
      matches.push_back({pos, best_end, best});
      pos = best_end;
    } else {
      ++pos;
    }
  }
}

AddedVocabulary::AddedVocabulary(const Json& tokens, const JsonPath& path) {
  if (!tokens.is_array()) path.fail("expected a list of added tokens");
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Json& entry = tokens[i];
    const JsonPath entry_path = path[i];
    AddedToken token;
    const Json& id = require_member(entry, "id", entry_path);
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      (entry_path / "id").fail("expected a non-negative 32-bit integer");
    token.id = id.get<int32_t>();
    token.content = require_string(entry, "content", entry_path);
    if (token.content.empty()) (entry_path / "content").fail("expected a non-empty token");
    token.single_word = optional_bool(entry, "single_word", false, entry_path);
    token.lstrip = optional_bool(entry, "lstrip", false, entry_path);
    token.rstrip = optional_bool(entry, "rstrip", false, entry_path);
    token.normalized = optional_bool(entry, "normalized", true, entry_path);
    token.special = optional_bool(entry, "special", false, entry_path);
    by_content_.emplace(token.content, token.id);
    by_id_[token.id] = tokens_.size();
    tokens_.push_back(std::move(token));
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (!tokens_[i].normalized) raw_matcher_.add(tokens_[i].content, static_cast<int32_t>(i));
  }
}

namespace {

// A word character for single_word (Rust regex \w): letters, marks, decimal digits, connector punctuation.
bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ME) || cat == UTF8PROC_CATEGORY_ND ||
         cat == UTF8PROC_CATEGORY_PC;
}

char32_t last_code_point(std::string_view s) {
  size_t begin = s.size() - 1;
  while (begin > 0 && (static_cast<unsigned char>(s[begin]) & 0xC0) == 0x80) --begin;
  return next_code_point(s, begin);
}

}  // namespace

void AddedVocabulary::split(std::string_view text, bool normalized_tokens, std::vector<Segment>& out) const {
  const TokenMatcher& matcher = normalized_tokens ? normalized_matcher_ : raw_matcher_;
  std::vector<TokenMatcher::Match> matches;
  matcher.find_all(text, matches);
  size_t start_offset = 0;
  for (const auto& match : matches) {
    const AddedToken& token = tokens_[static_cast<size_t>(match.index)];
    size_t start = match.begin, stop = match.end;
    if (token.single_word) {
      const bool start_space = start == 0 || !is_word_char(last_code_point(text.substr(0, start)));
      size_t next = stop;
      const bool stop_space = stop == text.size() || !is_word_char(next_code_point(text, next));
      if (!start_space || !stop_space) continue;
    }
    if (token.lstrip) {
      // Extend left over whitespace, but not into the previous match.
      size_t new_start = start;
      while (new_start > 0) {
        size_t char_begin = new_start - 1;
        while (char_begin > 0 && (static_cast<unsigned char>(text[char_begin]) & 0xC0) == 0x80) --char_begin;
        size_t p = char_begin;
        if (!is_unicode_whitespace(next_code_point(text, p))) break;
        new_start = char_begin;
      }
      start = std::max(new_start, start_offset);
    }
    if (token.rstrip) {
      size_t p = stop;
      while (p < text.size()) {
        size_t q = p;
        if (!is_unicode_whitespace(next_code_point(text, q))) break;
        p = q;
      }
      stop = p;
    }
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, token.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({start_offset, text.size(), -1});
}

std::optional<int32_t> AddedVocabulary::token_to_id(const std::string& token) const {
  const auto it = by_content_.find(token);
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

const AddedToken* AddedVocabulary::find_by_id(int32_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

bool AddedVocabulary::is_special(int32_t id) const {
  const AddedToken* token = find_by_id(id);
  return token != nullptr && token->special;
}

}  // namespace loom::text
