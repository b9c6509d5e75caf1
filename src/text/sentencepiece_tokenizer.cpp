#include "text/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include "common/error.h"
#include "text/utf8.h"

namespace loom::text {

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_file, bool add_bos, bool add_eos)
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()), add_bos_(add_bos), add_eos_(add_eos) {
  const auto status = processor_->Load(model_file);
  if (!status.ok()) throw InputError(model_file, 0, "", "not a readable SentencePiece model: " + status.ToString());
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int> pieces;
  const std::string valid = is_valid_utf8(text) ? std::string(text) : to_valid_utf8(text);
  const auto status = processor_->Encode(valid, &pieces);
  if (!status.ok()) throw Error("SentencePiece encode failed: " + status.ToString());
  std::vector<int32_t> ids;
  ids.reserve(pieces.size() + 2);
  if (add_special_tokens && add_bos_ && processor_->bos_id() >= 0) ids.push_back(processor_->bos_id());
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  if (add_special_tokens && add_eos_ && processor_->eos_id() >= 0) ids.push_back(processor_->eos_id());
  return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  // Runs of ordinary pieces are decoded by SentencePiece; control pieces are written as their text unless skipped.
  std::string text;
  std::vector<int> run;
  auto flush = [&] {
    if (run.empty()) return;
    std::string decoded;
    const auto status = processor_->Decode(run, &decoded);
    if (!status.ok()) throw Error("SentencePiece decode failed: " + status.ToString());
    text += decoded;
    run.clear();
  };
  const int size = processor_->GetPieceSize();
  for (const int32_t id : ids) {
    if (id < 0 || id >= size) continue;
    if (processor_->IsControl(id)) {
      flush();
      if (!skip_special_tokens) text += processor_->IdToPiece(id);
      continue;
    }
    run.push_back(id);
  }
  flush();
  return text;
}

int64_t SentencePieceTokenizer::vocab_size() const { return processor_->GetPieceSize(); }

std::optional<int32_t> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  const int id = processor_->PieceToId(std::string(token));
  if (id == processor_->unk_id() && processor_->IdToPiece(id) != token) return std::nullopt;
  return id;
}

std::optional<std::string> SentencePieceTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= processor_->GetPieceSize()) return std::nullopt;
  return processor_->IdToPiece(id);
}

}  // namespace loom::text
