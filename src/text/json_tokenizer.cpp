#include "text/json_tokenizer.h"

#include <unordered_set>

#include "text/utf8.h"
#include "text/wordpiece_model.h"

namespace loom::text {

std::unique_ptr<JsonTokenizer> JsonTokenizer::from_file(const std::string& file) {
  const Json root = read_json_file(file);
  return std::make_unique<JsonTokenizer>(root, file);
}

JsonTokenizer::JsonTokenizer(const Json& root, const std::string& file) {
  const JsonPath path{file, ""};
  if (!root.is_object()) path.fail("expected a JSON object at the top level");
  const Json& model = require_member(root, "model", path);
  const std::string model_type = optional_string(model, "type", path / "model");
  // Files written before "type" existed hold a BPE model when they have merges.
  if (model_type == "WordPiece") {
    model_ = std::make_unique<WordPieceModel>(model, path / "model");
  } else if (model_type == "BPE" || (model_type.empty() && model.contains("merges"))) {
    auto bpe = std::make_unique<BpeModel>(model, path / "model");
    bpe_ = bpe.get();
    model_ = std::move(bpe);
  } else {
    (path / "model" / "type")
        .fail("unsupported model type '" + model_type + "' (supported: BPE, WordPiece; Unigram and WordLevel are not)");
  }

  if (root.contains("normalizer") && !root["normalizer"].is_null()) {
    normalizer_ = make_normalizer(root["normalizer"], path / "normalizer");
  }
  if (root.contains("pre_tokenizer") && !root["pre_tokenizer"].is_null()) {
    pre_tokenizer_ = make_pre_tokenizer(root["pre_tokenizer"], path / "pre_tokenizer");
    if (bpe_ != nullptr) byte_level_word_regex_ = pre_tokenizer_->byte_level_word_regex();
  }
  if (root.contains("post_processor") && !root["post_processor"].is_null()) {
    post_processor_ = make_post_processor(root["post_processor"], path / "post_processor");
  }
  if (root.contains("decoder") && !root["decoder"].is_null()) {
    decoder_ = make_decoder(root["decoder"], path / "decoder");
  }
  if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
    added_ = AddedVocabulary(root["added_tokens"], path / "added_tokens");
  }
  const Normalizer* normalizer = normalizer_.get();
  added_.build_normalized_matcher([normalizer](std::string& content) {
    if (normalizer) normalizer->normalize(content);
  });
  for (const auto& token : added_.tokens()) has_normalized_added_ = has_normalized_added_ || token.normalized;

  // Vocabulary size as tokenizers' get_vocab_size(with_added_tokens=True): distinct ids of both vocabularies.
  std::unordered_set<int32_t> extra;
  for (const auto& token : added_.tokens()) {
    if (model_->id_to_token(token.id) == nullptr) extra.insert(token.id);
  }
  vocab_size_ = model_->vocab_size() + static_cast<int64_t>(extra.size());
}

void JsonTokenizer::tokenize_words(std::string text, bool at_start, std::vector<int32_t>& ids) const {
  if (text.empty()) return;
  if (!pre_tokenizer_) {
    model_->tokenize_long(text, ids);
    return;
  }
  if (byte_level_word_regex_ != nullptr) {
    tokenize_byte_level_words(text, ids);
    return;
  }
  std::vector<Piece> pieces;
  pieces.push_back({std::move(text), at_start});
  pre_tokenizer_->split(pieces);
  for (const auto& piece : pieces) model_->tokenize_long(piece.text, ids);
}

void JsonTokenizer::tokenize_byte_level_words(const std::string& text, std::vector<int32_t>& ids) const {
  thread_local std::vector<std::pair<size_t, size_t>> matches;
  matches.clear();
  byte_level_word_regex_->find_all(text, matches);
  auto tokenize_word = [&](size_t begin, size_t end) {
    if (end <= begin) return;
    const std::string_view word(text.data() + begin, end - begin);
    if (raw_word_cache_.lookup(word, ids)) return;
    const size_t first = ids.size();
    bpe_->tokenize_uncached(to_byte_level(word), ids);
    raw_word_cache_.insert(word, ids.data() + first, ids.size() - first);
  };
  size_t previous = 0;
  for (const auto& [begin, end] : matches) {
    tokenize_word(previous, begin);  // text between matches is a word too (Isolated)
    tokenize_word(begin, end);
    previous = end;
  }
  tokenize_word(previous, text.size());
}

void JsonTokenizer::encode_span(std::string text, bool at_start, std::vector<int32_t>& ids) const {
  if (normalizer_) normalizer_->normalize(text);
  if (!has_normalized_added_) {
    tokenize_words(std::move(text), at_start, ids);
    return;
  }
  std::vector<Segment> segments;
  added_.split(text, /*normalized_tokens=*/true, segments);
  for (const auto& segment : segments) {
    if (segment.token_id >= 0) {
      ids.push_back(segment.token_id);
    } else {
      tokenize_words(text.substr(segment.begin, segment.end - segment.begin), at_start && segment.begin == 0, ids);
    }
  }
}

std::vector<int32_t> JsonTokenizer::encode(std::string_view input, bool add_special_tokens) const {
  std::string repaired;
  if (!is_valid_utf8(input)) {
    repaired = to_valid_utf8(input);
    input = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(input.size() / 3 + 8);
  if (add_special_tokens) ids = post_processor_.prefix;
  std::vector<Segment> segments;
  added_.split(input, /*normalized_tokens=*/false, segments);
  for (const auto& segment : segments) {
    if (segment.token_id >= 0) {
      ids.push_back(segment.token_id);
    } else {
      encode_span(std::string(input.substr(segment.begin, segment.end - segment.begin)), segment.begin == 0, ids);
    }
  }
  if (add_special_tokens) ids.insert(ids.end(), post_processor_.suffix.begin(), post_processor_.suffix.end());
  return ids;
}

std::string JsonTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    if (const AddedToken* added = added_.find_by_id(id)) {
      if (!(skip_special_tokens && added->special)) tokens.push_back(added->content);
      continue;
    }
    if (const std::string* token = model_->id_to_token(id)) tokens.push_back(*token);
  }
  return decode_tokens(decoder_.get(), std::move(tokens));
}

std::optional<int32_t> JsonTokenizer::token_to_id(std::string_view token) const {
  const std::string key(token);
  if (auto id = added_.token_to_id(key)) return id;
  return model_->token_to_id(key);
}

std::optional<std::string> JsonTokenizer::id_to_token(int32_t id) const {
  if (const AddedToken* added = added_.find_by_id(id)) return added->content;
  if (const std::string* token = model_->id_to_token(id)) return *token;
  return std::nullopt;
}

}  // namespace loom::text
