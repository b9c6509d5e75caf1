// The SentencePiece shim: C functions over sentencepiece::SentencePieceProcessor (see sentencepiece_shim.h).
#include "text/sentencepiece_shim.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void write_error(const std::string& message, char* error, size_t error_size) {
  if (error == nullptr || error_size == 0) return;
  const size_t n = std::min(message.size(), error_size - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

sentencepiece::SentencePieceProcessor* processor_of(void* p) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(p);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* loom_spm_create(const char* model_file, char* error, size_t error_size) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  const auto status = processor->Load(model_file);
  if (!status.ok()) {
    write_error(status.ToString(), error, error_size);
    delete processor;
    return nullptr;
  }
  return processor;
}

__attribute__((visibility("default"))) void loom_spm_destroy(void* processor) { delete processor_of(processor); }

__attribute__((visibility("default"))) void loom_spm_free(void* memory) { std::free(memory); }

__attribute__((visibility("default"))) int loom_spm_encode(void* processor, const char* text, size_t length,
                                                           int** ids, size_t* count, char* error, size_t error_size) {
  std::vector<int> pieces;
  const auto status = processor_of(processor)->Encode(std::string(text, length), &pieces);
  if (!status.ok()) {
    write_error(status.ToString(), error, error_size);
    return 1;
  }
  *count = pieces.size();
  *ids = static_cast<int*>(std::malloc(std::max<size_t>(1, pieces.size()) * sizeof(int)));
  if (!pieces.empty()) std::memcpy(*ids, pieces.data(), pieces.size() * sizeof(int));
  return 0;
}

__attribute__((visibility("default"))) int loom_spm_decode(void* processor, const int* ids, size_t count, char** text,
                                                           size_t* length, char* error, size_t error_size) {
  std::string decoded;
  const auto status = processor_of(processor)->Decode(std::vector<int>(ids, ids + count), &decoded);
  if (!status.ok()) {
    write_error(status.ToString(), error, error_size);
    return 1;
  }
  *length = decoded.size();
  *text = static_cast<char*>(std::malloc(decoded.size() + 1));
  std::memcpy(*text, decoded.data(), decoded.size());
  (*text)[decoded.size()] = '\0';
  return 0;
}

__attribute__((visibility("default"))) int loom_spm_info(void* processor, int what) {
  auto* p = processor_of(processor);
  switch (what) {
    case loom::text::kSpmPieceSize: return p->GetPieceSize();
    case loom::text::kSpmBosId: return p->bos_id();
    case loom::text::kSpmEosId: return p->eos_id();
    case loom::text::kSpmUnkId: return p->unk_id();
    default: return -1;
  }
}

__attribute__((visibility("default"))) int loom_spm_is_control(void* processor, int id) {
  return processor_of(processor)->IsControl(id) ? 1 : 0;
}

__attribute__((visibility("default"))) int loom_spm_id_to_piece(void* processor, int id, char** piece, size_t* length) {
  const std::string& text = processor_of(processor)->IdToPiece(id);
  *length = text.size();
  *piece = static_cast<char*>(std::malloc(text.size() + 1));
  std::memcpy(*piece, text.data(), text.size());
  (*piece)[text.size()] = '\0';
  return 0;
}

__attribute__((visibility("default"))) int loom_spm_piece_to_id(void* processor, const char* piece, size_t length) {
  auto* p = processor_of(processor);
  const std::string text(piece, length);
  const int id = p->PieceToId(text);
  if (id == p->unk_id() && p->IdToPiece(id) != text) return -1;
  return id;
}

}  // extern "C"
