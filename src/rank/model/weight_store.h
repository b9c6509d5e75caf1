// The weights of a model directory: model.safetensors, or the shards listed by model.safetensors.index.json, all
// memory-mapped. load() checks the tensor's full shape against what the architecture expects, then converts the
// whole tensor or one slice of it (rows or columns: a tensor-parallel shard) to the compute dtype and device, so a
// rank never copies more than its shard, and refuses a tensor holding NaN or Inf (after conversion: an F32 value
// beyond the BF16/F16 range too). Errors (InputError) name the file and the tensor.
#pragma once

#include "rank/model/safetensors_file.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loom::model {

class WeightStore {
 public:
  explicit WeightStore(const std::filesystem::path& model_dir);

  bool contains(const std::string& name) const;
  // The file that holds `name` (the index or model.safetensors when it is missing).
  std::string file_of(const std::string& name) const;

  at::Tensor load(const std::string& name, const std::vector<int64_t>& expected_shape, at::ScalarType dtype,
                  at::Device device, const TensorSlice& slice = {}) const;

  // Bytes of all tensors in the directory (for memory estimates).
  int64_t total_bytes() const;

 private:
  const SafetensorsFile& file_for(const std::string& name) const;

  std::string index_file_;  // model.safetensors.index.json or model.safetensors: named in "missing tensor" errors
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> owner_;
};

}  // namespace loom::model
