#include "text/sentencepiece_tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "common/error.h"
#include "text/sentencepiece_shim.h"
#include "text/utf8.h"

namespace loom::text {

struct SentencePieceApi {
  loom_spm_create_fn create = nullptr;
  loom_spm_destroy_fn destroy = nullptr;
  loom_spm_free_fn free = nullptr;
  loom_spm_encode_fn encode = nullptr;
  loom_spm_decode_fn decode = nullptr;
  loom_spm_info_fn info = nullptr;
  loom_spm_is_control_fn is_control = nullptr;
  loom_spm_id_to_piece_fn id_to_piece = nullptr;
  loom_spm_piece_to_id_fn piece_to_id = nullptr;
};

namespace {

constexpr const char* kShimName = "libloom_sentencepiece_shim.so";

// Candidate locations of the shim: where the build put it, next to the running executable, then the loader path.
std::vector<std::string> shim_candidates() {
  std::vector<std::string> candidates = {LOOM_SENTENCEPIECE_SHIM_PATH};
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    candidates.push_back((exe.parent_path() / kShimName).string());
    candidates.push_back((exe.parent_path().parent_path() / "lib" / kShimName).string());
  }
  candidates.emplace_back(kShimName);
  return candidates;
}

// Loads the shim once per process (the library handle is process-wide by nature) and resolves its functions.
const SentencePieceApi& sentencepiece_api(const std::string& model_file) {
  static std::once_flag once;
  static SentencePieceApi api;
  static std::string failure;
  std::call_once(once, [] {
    void* handle = nullptr;
    std::string tried;
    for (const auto& candidate : shim_candidates()) {
      handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (handle != nullptr) break;
      tried += std::string("\n  ") + dlerror();
    }
    if (handle == nullptr) {
      failure = std::string("cannot load ") + kShimName + " (needed for tokenizer.model files):" + tried;
      return;
    }
    auto resolve = [&](auto& slot, const char* name) {
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(handle, name));
      if (slot == nullptr) failure += std::string(failure.empty() ? "" : "; ") + "missing symbol " + name;
    };
    resolve(api.create, "loom_spm_create");
    resolve(api.destroy, "loom_spm_destroy");
    resolve(api.free, "loom_spm_free");
    resolve(api.encode, "loom_spm_encode");
    resolve(api.decode, "loom_spm_decode");
    resolve(api.info, "loom_spm_info");
    resolve(api.is_control, "loom_spm_is_control");
    resolve(api.id_to_piece, "loom_spm_id_to_piece");
    resolve(api.piece_to_id, "loom_spm_piece_to_id");
  });
  if (!failure.empty()) throw InputError(model_file, 0, "", failure);
  return api;
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_file, bool add_bos, bool add_eos)
    : api_(&sentencepiece_api(model_file)), add_bos_(add_bos), add_eos_(add_eos) {
  char error[512] = {0};
  processor_ = api_->create(model_file.c_str(), error, sizeof(error));
  if (processor_ == nullptr) {
    throw InputError(model_file, 0, "", std::string("not a readable SentencePiece model: ") + error);
  }
  piece_size_ = api_->info(processor_, kSpmPieceSize);
  bos_id_ = api_->info(processor_, kSpmBosId);
  eos_id_ = api_->info(processor_, kSpmEosId);
}

SentencePieceTokenizer::~SentencePieceTokenizer() {
  if (processor_ != nullptr) api_->destroy(processor_);
}

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const std::string valid = is_valid_utf8(text) ? std::string(text) : to_valid_utf8(text);
  int* pieces = nullptr;
  size_t count = 0;
  char error[512] = {0};
  if (api_->encode(processor_, valid.data(), valid.size(), &pieces, &count, error, sizeof(error)) != 0) {
    throw Error(std::string("SentencePiece encode failed: ") + error);
  }
  std::vector<int32_t> ids;
  ids.reserve(count + 2);
  if (add_special_tokens && add_bos_ && bos_id_ >= 0) ids.push_back(bos_id_);
  ids.insert(ids.end(), pieces, pieces + count);
  api_->free(pieces);
  if (add_special_tokens && add_eos_ && eos_id_ >= 0) ids.push_back(eos_id_);
  return ids;
}

std::string SentencePieceTokenizer::decode_run(const std::vector<int>& run) const {
  char* text = nullptr;
  size_t length = 0;
  char error[512] = {0};
  if (api_->decode(processor_, run.data(), run.size(), &text, &length, error, sizeof(error)) != 0) {
    throw Error(std::string("SentencePiece decode failed: ") + error);
  }
  std::string out(text, length);
  api_->free(text);
  return out;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  // Runs of ordinary pieces are decoded by SentencePiece; control pieces are written as their text unless skipped.
  std::string text;
  std::vector<int> run;
  for (const int32_t id : ids) {
    if (id < 0 || id >= piece_size_) continue;
    if (api_->is_control(processor_, id) != 0) {
      if (!run.empty()) text += decode_run(run);
      run.clear();
      if (!skip_special_tokens) text += id_to_token(id).value_or("");
      continue;
    }
    run.push_back(id);
  }
  if (!run.empty()) text += decode_run(run);
  return text;
}

std::optional<int32_t> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  const int id = api_->piece_to_id(processor_, token.data(), token.size());
  if (id < 0) return std::nullopt;
  return id;
}

std::optional<std::string> SentencePieceTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= piece_size_) return std::nullopt;
  char* piece = nullptr;
  size_t length = 0;
  api_->id_to_piece(processor_, id, &piece, &length);
  std::string out(piece, length);
  api_->free(piece);
  return out;
}

}  // namespace loom::text
