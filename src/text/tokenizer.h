// Tokenizer contract (implemented in this module; used by the scheduler to tokenize prompts and by the engine to
// decode outputs). Token ids must equal those of the Python `tokenizers` library for the same tokenizer.json.
//
// Supported: byte-level BPE from tokenizer.json (Llama-3, Qwen2/3: pre-tokenizer split regex, merges, added and
// special tokens), SentencePiece-style BPE from tokenizer.json (Llama-2: Metaspace/Prepend normalizer, byte
// fallback), BERT WordPiece from tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece; Contriever, BGE), and
// tokenizer.model through libsentencepiece (Llama-2, Mistral).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loom::text {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // add_special_tokens: apply the post-processor (e.g. BOS for Llama) exactly as `tokenizers` does.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const = 0;
  // skip_special_tokens: drop special (added, special=true) tokens, as `tokenizers` decode does.
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const = 0;

  // The ids the post-processor puts before and after one sequence (BERT: [CLS] and [SEP]), so that a caller can
  // truncate the text's own ids and frame them as encode(text, true) would; both empty when there are none.
  virtual std::pair<std::vector<int32_t>, std::vector<int32_t>> special_frame() const { return {}; }

  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(int32_t id) const = 0;
};

// Loads <dir>/tokenizer.json if present, otherwise <dir>/tokenizer.model. Throws loom::InputError naming the file
// and the JSON key on malformed input.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model_dir);

// transformers' decode applies this after `tokenizers` decode when tokenizer_config.json sets
// "clean_up_tokenization_spaces": true (Llama-3.x does): " ." → ".", " n't" → "n't", and so on.
std::string clean_up_tokenization_spaces(std::string_view text);
// tokenizer_config.json's "clean_up_tokenization_spaces" (false when the file or the key is absent).
bool config_cleans_up_tokenization_spaces(const std::filesystem::path& model_dir);

}  // namespace loom::text
