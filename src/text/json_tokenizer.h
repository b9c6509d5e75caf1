// A Tokenizer built from a Hugging Face tokenizer.json: added tokens → normalizer → pre-tokenizer → BPE model →
// post-processor for encode, and id → token → decoder for decode, following the `tokenizers` library step by step
// so that ids equal its output. Covers byte-level BPE (Llama-3, Qwen2/3, GPT-2 style), SentencePiece-style BPE
// (Llama-2: Prepend/Replace normalizer, byte_fallback) and BERT's WordPiece (BertNormalizer, BertPreTokenizer,
// WordPiece model and decoder). Immutable after construction; encode/decode are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "text/added_vocabulary.h"
#include "text/bpe_model.h"
#include "text/subword_model.h"
#include "text/decoder.h"
#include "text/normalizer.h"
#include "text/post_processor.h"
#include "text/pre_tokenizer.h"
#include "text/regex.h"
#include "text/tokenizer.h"
#include "text/word_cache.h"

namespace loom::text {

class JsonTokenizer final : public Tokenizer {
 public:
  // Parses tokenizer.json at `file`; every problem is an InputError naming the file and the key.
  static std::unique_ptr<JsonTokenizer> from_file(const std::string& file);
  JsonTokenizer(const Json& root, const std::string& file);

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override;
  std::pair<std::vector<int32_t>, std::vector<int32_t>> special_frame() const override {
    return {post_processor_.prefix, post_processor_.suffix};
  }
  int64_t vocab_size() const override { return vocab_size_; }
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int32_t id) const override;

 private:
  // Normalizes and tokenizes one span of text that holds no non-normalized added token.
  void encode_span(std::string text, bool at_start, std::vector<int32_t>& ids) const;
  void tokenize_words(std::string text, bool at_start, std::vector<int32_t>& ids) const;
  void tokenize_byte_level_words(const std::string& text, std::vector<int32_t>& ids) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<SubwordModel> model_;
  const BpeModel* bpe_ = nullptr;  // model_ when it is BPE (the byte-level fast path needs it)
  std::unique_ptr<Decoder> decoder_;
  PostProcessor post_processor_;
  AddedVocabulary added_;
  bool has_normalized_added_ = false;
  // Fast path for "regex split + byte-level map" pre-tokenizers: words are cached by their raw bytes.
  const Regex* byte_level_word_regex_ = nullptr;
  mutable WordCache raw_word_cache_;
  int64_t vocab_size_ = 0;
};

}  // namespace loom::text
