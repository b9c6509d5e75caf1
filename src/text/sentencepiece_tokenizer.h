// A Tokenizer over a SentencePiece model file (tokenizer.model) through libsentencepiece, for model directories
// that ship no tokenizer.json. add_special_tokens adds BOS / EOS as tokenizer_config.json's add_bos_token /
// add_eos_token say (defaults: BOS yes, EOS no). Special (control) tokens are skipped on decode when asked.
#pragma once

#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace loom::text {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Loads `model_file`; unreadable or malformed → InputError naming the file.
  SentencePieceTokenizer(const std::string& model_file, bool add_bos, bool add_eos);
  ~SentencePieceTokenizer() override;

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override;
  int64_t vocab_size() const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int32_t id) const override;

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  bool add_bos_;
  bool add_eos_;
};

}  // namespace loom::text
