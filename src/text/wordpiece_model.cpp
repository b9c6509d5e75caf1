#include "text/wordpiece_model.h"

#include <fmt/format.h>

#include <algorithm>

#include "text/utf8.h"

namespace loom::text {

WordPieceModel::WordPieceModel(const Json& model, const JsonPath& path) {
  const Json& vocab = require_member(model, "vocab", path);
  if (!vocab.is_object()) (path / "vocab").fail("expected an object mapping tokens to ids");
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab.items()) {
    const int64_t limit = 16 * static_cast<int64_t>(vocab.size()) + 65536;  // id_to_token_ is dense
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= limit) {
      (path / "vocab" / token).fail(fmt::format("expected an integer id in [0, {})", limit));
    }
    vocab_[token] = id.get<int32_t>();
    max_id = std::max(max_id, id.get<int32_t>());
  }
  id_to_token_.resize(static_cast<size_t>(max_id + 1));
  for (const auto& [token, id] : vocab_) id_to_token_[static_cast<size_t>(id)] = token;
  prefix_ = model.contains("continuing_subword_prefix") ? optional_string(model, "continuing_subword_prefix", path)
                                                        : std::string("##");
  std::string unk = optional_string(model, "unk_token", path);
  if (!model.contains("unk_token")) unk = "[UNK]";
  const auto it = vocab_.find(unk);
  if (it == vocab_.end()) (path / "unk_token").fail("the unk_token '" + unk + "' is not in the vocabulary");
  unk_id_ = it->second;
  if (model.contains("max_input_chars_per_word") && !model["max_input_chars_per_word"].is_null()) {
    const Json& limit = model["max_input_chars_per_word"];
    if (!limit.is_number_integer() || limit.get<int64_t>() < 0)
      (path / "max_input_chars_per_word").fail("expected a non-negative integer");
    max_chars_ = limit.get<size_t>();
  }
}

void WordPieceModel::tokenize_long(const std::string& word, std::vector<int32_t>& ids) const {
  size_t chars = 0;
  for (size_t pos = 0; pos < word.size(); pos += utf8_sequence_length(static_cast<unsigned char>(word[pos])))
    ++chars;
  if (chars > max_chars_) {
    ids.push_back(unk_id_);
    return;
  }
  const size_t first = ids.size();
  std::string candidate;
  for (size_t start = 0; start < word.size();) {
    size_t end = word.size();
    int32_t found = -1;
    while (start < end) {
      candidate.assign(start > 0 ? prefix_ : std::string());
      candidate.append(word, start, end - start);
      const auto it = vocab_.find(candidate);
      if (it != vocab_.end()) {
        found = it->second;
        break;
      }
      // Step back one whole character.
      do --end;
      while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (found < 0) {  // a part no entry covers: the whole word is unknown
      ids.resize(first);
      ids.push_back(unk_id_);
      return;
    }
    ids.push_back(found);
    start = end;
  }
}

std::optional<int32_t> WordPieceModel::token_to_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* WordPieceModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return nullptr;
  const std::string& token = id_to_token_[static_cast<size_t>(id)];
  return token.empty() && vocab_.find(token) == vocab_.end() ? nullptr : &token;
}

}  // namespace loom::text
