// C interface of the SentencePiece shim (libloom_sentencepiece_shim.so), the only code that links libsentencepiece.
// The shim is loaded with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) so that libsentencepiece binds to the protobuf-lite
// copy it embeds even in processes that also load libprotobuf (libtorch does): linked directly, the two clash
// (a crash before main(), or "incompatible Protocol Buffer runtime" when loading a model).
// Memory returned by the shim is released with loom_spm_free. Errors are written to `error` (NUL-terminated).
#pragma once

#include <cstddef>

extern "C" {

typedef void* (*loom_spm_create_fn)(const char* model_file, char* error, size_t error_size);
typedef void (*loom_spm_destroy_fn)(void* processor);
typedef void (*loom_spm_free_fn)(void* memory);
// Encodes UTF-8 text; *ids receives a malloc'd array of *count ids. Returns 0 on success.
typedef int (*loom_spm_encode_fn)(void* processor, const char* text, size_t length, int** ids, size_t* count,
                                  char* error, size_t error_size);
// Decodes ids; *text receives malloc'd UTF-8 of *length bytes. Returns 0 on success.
typedef int (*loom_spm_decode_fn)(void* processor, const int* ids, size_t count, char** text, size_t* length,
                                  char* error, size_t error_size);
// Vocabulary queries: piece count, bos/eos/unk ids (-1 when absent), control flag, piece text, piece id (-1 if none).
typedef int (*loom_spm_info_fn)(void* processor, int what);
typedef int (*loom_spm_is_control_fn)(void* processor, int id);
typedef int (*loom_spm_id_to_piece_fn)(void* processor, int id, char** piece, size_t* length);
typedef int (*loom_spm_piece_to_id_fn)(void* processor, const char* piece, size_t length);
}

namespace loom::text {
enum SentencePieceInfo { kSpmPieceSize = 0, kSpmBosId = 1, kSpmEosId = 2, kSpmUnkId = 3 };
}
