// One memory-mapped .safetensors file: the JSON header is parsed and checked at open (every tensor's byte range
// must lie inside the file and match its dtype and shape); tensors are read as zero-copy views of the mapping and
// converted (dtype, device) on load, optionally only a slice of rows or columns (tensor-parallel shards).
// Errors are loom::InputError naming the file and the tensor: truncated file, bad JSON header, unsupported dtype.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace loom::model {

// A contiguous range along one dimension of a tensor (dim < 0: the whole tensor).
struct TensorSlice {
  int64_t dim = -1;
  int64_t start = 0;
  int64_t length = 0;
};

struct SafetensorsEntry {
  std::string dtype;           // as written in the header: "BF16", "F16", "F32", "I64", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0;          // byte offsets relative to the data section
  uint64_t end = 0;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(std::filesystem::path path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
  const SafetensorsEntry* find(const std::string& name) const;

  // A view of the mapped bytes (CPU, the stored dtype; valid while this object lives). Throws InputError for an
  // unknown tensor or a dtype libtorch cannot represent.
  at::Tensor view(const std::string& name) const;

  // The tensor (or its slice) converted to `dtype` on `device`; always a fresh tensor that owns its memory.
  at::Tensor load(const std::string& name, at::ScalarType dtype, at::Device device,
                  const TensorSlice& slice = {}) const;

 private:
  std::filesystem::path path_;
  void* mapping_ = nullptr;
  size_t mapped_bytes_ = 0;
  uint64_t data_offset_ = 0;
  std::map<std::string, SafetensorsEntry> entries_;
};

// The libtorch dtype of a safetensors dtype name; nullopt when unsupported.
std::optional<at::ScalarType> safetensors_dtype(const std::string& name);

}  // namespace loom::model
