// A Tokenizer over a SentencePiece model file (tokenizer.model) through libsentencepiece, for model directories
// that ship no tokenizer.json. libsentencepiece is reached through a small shim library loaded with dlopen (see
// sentencepiece_shim.h for why). add_special_tokens adds BOS / EOS as tokenizer_config.json's add_bos_token /
// add_eos_token say (defaults: BOS yes, EOS no). Control tokens are skipped on decode when asked.
#pragma once

#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace loom::text {

struct SentencePieceApi;

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Loads `model_file`; unreadable or malformed → InputError naming the file.
  SentencePieceTokenizer(const std::string& model_file, bool add_bos, bool add_eos);
  ~SentencePieceTokenizer() override;
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override;
  int64_t vocab_size() const override { return piece_size_; }
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int32_t id) const override;

 private:
  std::string decode_run(const std::vector<int>& run) const;

  const SentencePieceApi* api_;
  void* processor_ = nullptr;
  int piece_size_ = 0, bos_id_ = -1, eos_id_ = -1;
  bool add_bos_;
  bool add_eos_;
};

}  // namespace loom::text
