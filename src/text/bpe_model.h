// The BPE model of tokenizer.json ("model": {"type": "BPE", ...}): vocabulary, ranked merges, unk / fuse_unk,
// byte_fallback, ignore_merges, continuing_subword_prefix and end_of_word_suffix, with the merge order of the
// `tokenizers` library (lowest rank first, leftmost on ties). Words already seen are served from a bounded cache.
// tokenize() is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/json_fields.h"

namespace loom::text {

class BpeModel {
 public:
  // `model` is tokenizer.json's "model" object; errors name `path` (normally "model").
  BpeModel(const Json& model, const JsonPath& path);

  // Appends the ids of one pre-tokenized word.
  void tokenize(const std::string& word, std::vector<int32_t>& ids) const;

  std::optional<int32_t> token_to_id(const std::string& token) const;
  const std::string* id_to_token(int32_t id) const;
  int64_t vocab_size() const { return static_cast<int64_t>(vocab_.size()); }
  // Largest id in the vocabulary plus one.
  int64_t id_limit() const { return static_cast<int64_t>(id_to_token_.size()); }

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  void merge_word(const std::string& word, std::vector<int32_t>& ids) const;
  // Initial symbols of a word: one per character (or per byte with byte_fallback, or unk).
  void initial_symbols(const std::string& word, std::vector<int32_t>& symbol_ids, std::vector<uint32_t>& lengths) const;
  std::optional<int32_t> char_id(const std::string& word, size_t begin, size_t end, bool first, bool last) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::unordered_map<char32_t, int32_t> single_char_ids_;  // used when no prefix/suffix applies
  std::optional<int32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::array<int32_t, 256> byte_fallback_ids_{};

  static constexpr size_t kCacheMaxWordBytes = 256;
  static constexpr size_t kCacheCapacity = 200000;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace loom::text
