// The BPE model of tokenizer.json ("model": {"type": "BPE", ...}): vocabulary, ranked merges, unk / fuse_unk,
// byte_fallback, ignore_merges, continuing_subword_prefix and end_of_word_suffix, with the merge order of the
// `tokenizers` library (lowest rank first, leftmost on ties). Words already seen are served from a bounded cache.
// tokenize() is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/json_fields.h"
#include "text/merge_table.h"
#include "text/subword_model.h"
#include "text/word_cache.h"

namespace loom::text {

class BpeModel final : public SubwordModel {
 public:
  // `model` is tokenizer.json's "model" object; errors name `path` (normally "model").
  BpeModel(const Json& model, const JsonPath& path);

  // Appends the ids of one pre-tokenized word (through the word cache).
  void tokenize(const std::string& word, std::vector<int32_t>& ids) const;
  // The same without the cache (for callers that keep their own).
  void tokenize_uncached(const std::string& word, std::vector<int32_t>& ids) const;

  // Tokenizes a word that may be long (no pre-tokenizer as in Llama-2's "▁Hello▁world", or Metaspace without
  // split) in chunks when that provably gives the
  // same ids: chunks start at each word marker "▁" that follows another character, which is safe when no vocabulary
  // token holds "▁" after a different character (then no merge can cross such a boundary).
  void tokenize_long(const std::string& word, std::vector<int32_t>& ids) const override;

  std::optional<int32_t> token_to_id(const std::string& token) const override;
  const std::string* id_to_token(int32_t id) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.size()); }
  // Largest id in the vocabulary plus one.
  int64_t id_limit() const { return static_cast<int64_t>(id_to_token_.size()); }

 private:
  void merge_word(const std::string& word, std::vector<int32_t>& ids) const;
  // Initial symbols of a word: one per character (or per byte with byte_fallback, or unk).
  void initial_symbols(const std::string& word, std::vector<int32_t>& symbol_ids, std::vector<uint32_t>& lengths) const;
  std::optional<int32_t> char_id(const std::string& word, size_t begin, size_t end, bool first, bool last) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  MergeTable merges_;
  std::vector<int32_t> bmp_char_ids_;                      // id of each single-character token below U+10000, or -1
  std::unordered_map<char32_t, int32_t> astral_char_ids_;  // single-character tokens above U+FFFF
  std::optional<int32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool marker_split_safe_ = false;
  std::array<int32_t, 256> byte_fallback_ids_{};

  mutable WordCache cache_;
};

}  // namespace loom::text
