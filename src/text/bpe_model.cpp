#include "text/bpe_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "common/error.h"
#include "text/utf8.h"

namespace loom::text {

namespace {
constexpr const char* kWordMarker = "\xE2\x96\x81";  // U+2581, SentencePiece's word marker
}  // namespace

BpeModel::BpeModel(const Json& model, const JsonPath& path) {
  const Json& vocab = require_member(model, "vocab", path);
  if (!vocab.is_object()) (path / "vocab").fail("expected an object mapping tokens to ids");
  vocab_.reserve(vocab.size() * 2);
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      (path / "vocab" / token).fail("expected a non-negative integer id");
    }
    const auto value = id.get<int32_t>();
    // id_to_token_ is dense: an id far beyond the vocabulary's size would allocate billions of entries.
    const int64_t id_limit = 16 * static_cast<int64_t>(vocab.size()) + 65536;
    if (value >= id_limit) {
      (path / "vocab" / token)
          .fail(fmt::format("expected an id below {} (the vocabulary has {} tokens), got {}", id_limit, vocab.size(),
                            value));
    }
    vocab_[token] = value;
    max_id = std::max(max_id, value);
  }
  id_to_token_.resize(static_cast<size_t>(max_id + 1));
  for (const auto& [token, id] : vocab_) id_to_token_[static_cast<size_t>(id)] = token;

  continuing_subword_prefix_ = optional_string(model, "continuing_subword_prefix", path);
  end_of_word_suffix_ = optional_string(model, "end_of_word_suffix", path);
  fuse_unk_ = optional_bool(model, "fuse_unk", false, path);
  byte_fallback_ = optional_bool(model, "byte_fallback", false, path);
  ignore_merges_ = optional_bool(model, "ignore_merges", false, path);
  if (model.contains("dropout") && !model["dropout"].is_null()) {
    (path / "dropout").fail("BPE dropout is not supported for inference (expected null)");
  }
  const std::string unk = optional_string(model, "unk_token", path);
  if (!unk.empty()) {
    const auto it = vocab_.find(unk);
    if (it == vocab_.end()) (path / "unk_token").fail("the unk_token '" + unk + "' is not in the vocabulary");
    unk_id_ = it->second;
  }
  for (const auto& [token, id] : vocab_) {
    size_t pos = 0;
    const char32_t cp = next_code_point(token, pos);
    if (pos != token.size() || token.empty()) continue;
    if (cp < 0x10000) {
      if (bmp_char_ids_.empty()) bmp_char_ids_.assign(0x10000, -1);
      bmp_char_ids_[cp] = id;
    } else {
      astral_char_ids_[cp] = id;
    }
  }
  marker_split_safe_ = vocab_.count(kWordMarker) > 0;
  for (const auto& [token, id] : vocab_) {
    for (size_t at = token.find(kWordMarker, 1); marker_split_safe_ && at != std::string::npos;
         at = token.find(kWordMarker, at + 1)) {
      if (at < 3 || token.compare(at - 3, 3, kWordMarker) != 0) marker_split_safe_ = false;
    }
  }
  byte_fallback_ids_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab_.find(fmt::format("<0x{:02X}>", b));
    if (it != vocab_.end()) byte_fallback_ids_[static_cast<size_t>(b)] = it->second;
  }

  const Json& merges = require_member(model, "merges", path);
  if (!merges.is_array()) (path / "merges").fail("expected a list of merges");
  merges_.reserve(merges.size());
  const size_t prefix_length = continuing_subword_prefix_.size();
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Json& merge = merges[rank];
    std::string left, right;
    if (merge.is_string()) {
      const auto& text = merge.get_ref<const std::string&>();
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        (path / "merges")[rank].fail("expected \"left right\" (two tokens separated by one space)");
      }
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      (path / "merges")[rank].fail("expected \"left right\" or [left, right]");
    }
    const auto left_it = vocab_.find(left);
    const auto right_it = vocab_.find(right);
    if (left_it == vocab_.end() || right_it == vocab_.end()) {
      (path / "merges")[rank].fail("merge refers to a token that is not in the vocabulary");
    }
    std::string merged = left;
    merged.append(right, std::min(prefix_length, right.size()), std::string::npos);
    const auto merged_it = vocab_.find(merged);
    if (merged_it == vocab_.end()) {
      (path / "merges")[rank].fail("the merged token '" + merged + "' is not in the vocabulary");
    }
    merges_.set(left_it->second, right_it->second, MergeEntry{static_cast<int32_t>(rank), merged_it->second});
  }
}

std::optional<int32_t> BpeModel::token_to_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return nullptr;
  const std::string& token = id_to_token_[static_cast<size_t>(id)];
  const auto it = vocab_.find(token);
  if (it == vocab_.end() || it->second != id) return nullptr;  // a hole in the id range
  return &token;
}

std::optional<int32_t> BpeModel::char_id(const std::string& word, size_t begin, size_t end, bool first,
                                         bool last) const {
  const bool add_prefix = !first && !continuing_subword_prefix_.empty();
  const bool add_suffix = last && !end_of_word_suffix_.empty();
  if (!add_prefix && !add_suffix) {
    size_t pos = begin;
    const char32_t cp = next_code_point(word, pos);
    if (cp < 0x10000) {
      if (bmp_char_ids_.empty() || bmp_char_ids_[cp] < 0) return std::nullopt;
      return bmp_char_ids_[cp];
    }
    const auto it = astral_char_ids_.find(cp);
    if (it == astral_char_ids_.end()) return std::nullopt;
    return it->second;
  }
  std::string symbol = add_prefix ? continuing_subword_prefix_ : std::string();
  symbol.append(word, begin, end - begin);
  if (add_suffix) symbol += end_of_word_suffix_;
  return token_to_id(symbol);
}

void BpeModel::initial_symbols(const std::string& word, std::vector<int32_t>& symbol_ids,
                               std::vector<uint32_t>& lengths) const {
  std::optional<std::pair<int32_t, uint32_t>> pending_unk;
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t begin = pos;
    next_code_point(word, pos);
    const auto byte_length = static_cast<uint32_t>(pos - begin);
    const auto id = char_id(word, begin, pos, begin == 0, pos == word.size());
    if (id) {
      if (pending_unk) {
        symbol_ids.push_back(pending_unk->first);
        lengths.push_back(pending_unk->second);
        pending_unk.reset();
      }
      symbol_ids.push_back(*id);
      lengths.push_back(byte_length);
      continue;
    }
    if (byte_fallback_) {
      // tokenizers falls back on the bytes of the symbol as looked up (prefix and suffix included).
      std::string symbol = (begin != 0) ? continuing_subword_prefix_ : std::string();
      symbol.append(word, begin, pos - begin);
      if (pos == word.size()) symbol += end_of_word_suffix_;
      bool all_present = true;
      for (const char c : symbol) all_present = all_present && byte_fallback_ids_[static_cast<unsigned char>(c)] >= 0;
      if (all_present) {
        for (const char c : symbol) {
          symbol_ids.push_back(byte_fallback_ids_[static_cast<unsigned char>(c)]);
          lengths.push_back(1);
        }
        continue;
      }
    }
    if (!unk_id_) {
      throw Error(fmt::format("tokenizer.json: the character at byte {} of word '{}' is not in the vocabulary and "
                              "the model has no unk_token",
                              begin, word));
    }
    if (pending_unk && fuse_unk_) {
      pending_unk->second += byte_length;
    } else {
      if (pending_unk) {
        symbol_ids.push_back(pending_unk->first);
        lengths.push_back(pending_unk->second);
      }
      pending_unk = std::make_pair(*unk_id_, byte_length);
    }
  }
  if (pending_unk) {
    symbol_ids.push_back(pending_unk->first);
    lengths.push_back(pending_unk->second);
  }
}

void BpeModel::merge_word(const std::string& word, std::vector<int32_t>& ids) const {
  struct Candidate {
    int32_t rank, pos, new_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  // Scratch buffers reused across words on this thread.
  thread_local std::vector<int32_t> symbol, prev, next;
  thread_local std::vector<uint32_t> length;
  thread_local std::vector<Candidate> heap;
  symbol.clear();
  length.clear();
  initial_symbols(word, symbol, length);
  const auto n = static_cast<int32_t>(symbol.size());
  if (n <= 1) {
    ids.insert(ids.end(), symbol.begin(), symbol.end());
    return;
  }
  prev.resize(static_cast<size_t>(n));
  next.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    prev[static_cast<size_t>(i)] = i - 1;
    next[static_cast<size_t>(i)] = (i + 1 < n) ? i + 1 : -1;
  }
  heap.clear();
  const auto greater = std::greater<Candidate>();
  auto push_pair = [&](int32_t left) {
    const int32_t right = next[static_cast<size_t>(left)];
    if (left < 0 || right < 0) return;
    const MergeEntry* merge = merges_.find(symbol[static_cast<size_t>(left)], symbol[static_cast<size_t>(right)]);
    if (merge == nullptr) return;
    heap.push_back({merge->rank, left, merge->new_id});
    std::push_heap(heap.begin(), heap.end(), greater);
  };
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), greater);
    const Candidate top = heap.back();
    heap.pop_back();
    const auto pos = static_cast<size_t>(top.pos);
    if (length[pos] == 0 || next[pos] < 0) continue;
    const auto right = static_cast<size_t>(next[pos]);
    // Stale entry: the pair at this position no longer produces the same token (same test as tokenizers).
    const MergeEntry* merge = merges_.find(symbol[pos], symbol[right]);
    if (merge == nullptr || merge->new_id != top.new_id) continue;
    symbol[pos] = top.new_id;
    length[pos] += length[right];
    length[right] = 0;
    next[pos] = next[right];
    if (next[pos] >= 0) prev[static_cast<size_t>(next[pos])] = top.pos;
    if (prev[pos] >= 0) push_pair(prev[pos]);
    push_pair(top.pos);
  }
  for (int32_t i = 0; i >= 0; i = next[static_cast<size_t>(i)]) ids.push_back(symbol[static_cast<size_t>(i)]);
}

void BpeModel::tokenize_uncached(const std::string& word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    const auto it = vocab_.find(word);
    if (it != vocab_.end()) {
      ids.push_back(it->second);
      return;
    }
  }
  merge_word(word, ids);
}

void BpeModel::tokenize(const std::string& word, std::vector<int32_t>& ids) const {
  if (word.empty() || cache_.lookup(word, ids)) return;
  const size_t first = ids.size();
  tokenize_uncached(word, ids);
  cache_.insert(word, ids.data() + first, ids.size() - first);
}

void BpeModel::tokenize_long(const std::string& word, std::vector<int32_t>& ids) const {
  if (!marker_split_safe_) {
    tokenize(word, ids);
    return;
  }
  constexpr size_t kMarkerBytes = 3;
  size_t chunk_begin = 0;
  for (size_t at = word.find(kWordMarker, 1); at != std::string::npos; at = word.find(kWordMarker, at + kMarkerBytes)) {
    const bool after_marker = at >= kMarkerBytes && word.compare(at - kMarkerBytes, kMarkerBytes, kWordMarker) == 0;
    if (after_marker) continue;
    tokenize(word.substr(chunk_begin, at - chunk_begin), ids);
    chunk_begin = at;
  }
  tokenize(word.substr(chunk_begin), ids);
}

}  // namespace loom::text
