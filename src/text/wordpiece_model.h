// The WordPiece model of tokenizer.json ("model": {"type": "WordPiece", ...}; BERT, Contriever, BGE): each word is
// cut greedily into the longest vocabulary entries from the left, every piece after the first looked up with the
// continuing_subword_prefix ("##"); a word with a part no entry covers, or longer than max_input_chars_per_word
// characters, becomes unk_token alone — the rules of the `tokenizers` library's WordPiece::tokenize.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "text/json_fields.h"
#include "text/subword_model.h"

namespace loom::text {

class WordPieceModel final : public SubwordModel {
 public:
  // `model` is tokenizer.json's "model" object; errors (InputError) name `path`, e.g. an unk_token missing from
  // the vocabulary.
  WordPieceModel(const Json& model, const JsonPath& path);

  void tokenize_long(const std::string& word, std::vector<int32_t>& ids) const override;
  std::optional<int32_t> token_to_id(const std::string& token) const override;
  const std::string* id_to_token(int32_t id) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.size()); }

 private:
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::string prefix_;
  int32_t unk_id_ = 0;
  size_t max_chars_ = 100;
};

}  // namespace loom::text
