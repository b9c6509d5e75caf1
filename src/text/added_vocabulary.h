// Added tokens of tokenizer.json ("added_tokens"): found in the input before normalization (normalized=false) or
// after it (normalized=true), leftmost-longest, with the lstrip / rstrip / single_word rules of `tokenizers`
// (AddedVocabulary::find_matches). Special tokens (special=true) are the ones decode can skip.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "text/json_fields.h"

namespace loom::text {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// A span of text: either an added token (token_id >= 0) or plain text to tokenize.
struct Segment {
  size_t begin = 0, end = 0;
  int32_t token_id = -1;
};

// Finds a set of strings in text, leftmost-longest (a byte trie).
class TokenMatcher {
 public:
  void add(const std::string& content, int32_t index);
  bool empty() const { return nodes_.size() <= 1; }
  // Matches [begin, end) with the index given to add(), non-overlapping, left to right.
  struct Match {
    size_t begin, end;
    int32_t index;
  };
  void find_all(std::string_view text, std::vector<Match>& matches) const;

 private:
  struct Node {
    int32_t terminal = -1;
    std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
  };
  int32_t child(int32_t node, unsigned char byte) const;
  std::vector<Node> nodes_{Node{}};
  std::array<bool, 256> first_byte_{};
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // `tokens`: tokenizer.json's "added_tokens" array.
  AddedVocabulary(const Json& tokens, const JsonPath& path);

  // Splits `text` on the added tokens of one kind (normalized or not), appending segments with offsets in `text`.
  void split(std::string_view text, bool normalized_tokens, std::vector<Segment>& out) const;
  // Must be called once with the normalizer before split(..., true): normalized tokens are matched in their
  // normalized form.
  template <typename NormalizeFn>
  void build_normalized_matcher(NormalizeFn normalize) {
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (!tokens_[i].normalized) continue;
      std::string content = tokens_[i].content;
      normalize(content);
      normalized_matcher_.add(content, static_cast<int32_t>(i));
    }
  }

  std::optional<int32_t> token_to_id(const std::string& token) const;
  const AddedToken* find_by_id(int32_t id) const;
  bool is_special(int32_t id) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, int32_t> by_content_;
  std::unordered_map<int32_t, size_t> by_id_;
  TokenMatcher raw_matcher_;
  TokenMatcher normalized_matcher_;
};

}  // namespace loom::text
