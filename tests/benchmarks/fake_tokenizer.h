// Test double for loom::text::Tokenizer: a token is a run of letters/digits (with its leading spaces) or a single
// other character. Ids are handed out on first sight; decode concatenates the pieces. Deterministic and fast, so the
// generators can be unit-tested without a model; real-tokenizer checks use LOOM_TOKENIZER_FIXTURES.
#pragma once

#include "text/tokenizer.h"

#include <cctype>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace loom::benchmarks::testing {

class FakeTokenizer : public text::Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override {
    std::vector<int32_t> ids;
    if (add_special_tokens) ids.push_back(0);
    size_t i = 0;
    while (i < text.size()) {
      size_t start = i;
      while (i < text.size() && text[i] == ' ') ++i;
      if (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i]))) {
        while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i]))) ++i;
      } else if (i < text.size()) {
        ++i;
      }
      ids.push_back(id_of(std::string(text.substr(start, i - start))));
    }
    return ids;
  }
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (int32_t id : ids) {
      if (id == 0) {
        if (!skip_special_tokens) out += "<s>";
        continue;
      }
      out += pieces_[static_cast<size_t>(id)];
    }
    return out;
  }
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  std::optional<int32_t> token_to_id(std::string_view token) const override { return id_of(std::string(token)); }
  std::optional<std::string> id_to_token(int32_t id) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) return std::nullopt;
    return pieces_[static_cast<size_t>(id)];
  }

 private:
  int32_t id_of(const std::string& piece) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = ids_.find(piece);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<int32_t>(pieces_.size());
    pieces_.push_back(piece);
    ids_.emplace(piece, id);
    return id;
  }
  mutable std::mutex mutex_;
  mutable std::vector<std::string> pieces_{"<s>"};
  mutable std::unordered_map<std::string, int32_t> ids_{{"<s>", 0}};
};

}  // namespace loom::benchmarks::testing
