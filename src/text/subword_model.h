// The model step of a tokenizer.json ("model" key) as the tokenizer sees it: one pre-tokenized word in, its ids out,
// plus the vocabulary lookups. Implemented by BpeModel (bpe_model.h) and WordPieceModel (wordpiece_model.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom::text {

class SubwordModel {
 public:
  virtual ~SubwordModel() = default;
  // Appends the ids of one word (a word of any length; see BpeModel::tokenize_long).
  virtual void tokenize_long(const std::string& word, std::vector<int32_t>& ids) const = 0;
  virtual std::optional<int32_t> token_to_id(const std::string& token) const = 0;
  virtual const std::string* id_to_token(int32_t id) const = 0;
  virtual int64_t vocab_size() const = 0;
};

}  // namespace loom::text
