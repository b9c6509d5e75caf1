#include "rank/model/weight_store.h"

#include "common/error.h"
#include "common/json_errors.h"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace loom::model {

namespace {
std::string shape_string(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}
}  // namespace

WeightStore::WeightStore(const std::filesystem::path& model_dir) {
  const auto index_path = model_dir / "model.safetensors.index.json";
  const auto single_path = model_dir / "model.safetensors";
  if (std::filesystem::exists(index_path)) {
    index_file_ = index_path.string();
    std::ifstream in(index_path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    nlohmann::json index;
    try {
      index = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw json_syntax_error(index_file_, e, text);
    }
    if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
      throw InputError(index_file_, 0, "weight_map", "missing; expected an object of tensor name -> shard file");
    }
    std::map<std::string, const SafetensorsFile*> opened;
    for (const auto& [name, shard] : index["weight_map"].items()) {
      if (!shard.is_string()) throw InputError(index_file_, 0, "weight_map." + name, "expected a file name");
      const std::string shard_name = shard.get<std::string>();
      auto it = opened.find(shard_name);
      if (it == opened.end()) {
        const auto shard_path = model_dir / shard_name;
        if (!std::filesystem::exists(shard_path)) {
          throw InputError(index_file_, 0, "weight_map." + name,
                           fmt::format("shard file {} does not exist", shard_path.string()));
        }
        files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
        it = opened.emplace(shard_name, files_.back().get()).first;
      }
      if (it->second->find(name) == nullptr) {
        throw InputError(it->second->path().string(), 0, name,
                         fmt::format("missing tensor (listed in {})", index_file_));
      }
      owner_[name] = it->second;
    }
  } else if (std::filesystem::exists(single_path)) {
    index_file_ = single_path.string();
    files_.push_back(std::make_unique<SafetensorsFile>(single_path));
    for (const auto& [name, entry] : files_.back()->entries()) owner_[name] = files_.back().get();
  } else {
    throw InputError(model_dir.string(), 0, "",
                     "no weights: expected model.safetensors or model.safetensors.index.json with its shards");
  }
}

bool WeightStore::contains(const std::string& name) const { return owner_.count(name) > 0; }

std::string WeightStore::file_of(const std::string& name) const {
  auto it = owner_.find(name);
  return it == owner_.end() ? index_file_ : it->second->path().string();
}

const SafetensorsFile& WeightStore::file_for(const std::string& name) const {
  auto it = owner_.find(name);
  if (it == owner_.end()) throw InputError(index_file_, 0, name, "missing tensor");
  return *it->second;
}

at::Tensor WeightStore::load(const std::string& name, const std::vector<int64_t>& expected_shape,
                             at::ScalarType dtype, at::Device device, const TensorSlice& slice) const {
  const SafetensorsFile& file = file_for(name);
  const SafetensorsEntry& entry = *file.find(name);
  if (entry.shape != expected_shape) {
    throw InputError(file.path().string(), 0, name,
                     fmt::format("wrong shape {}: expected {} from config.json", shape_string(entry.shape),
                                 shape_string(expected_shape)));
  }
  if (entry.dtype != "BF16" && entry.dtype != "F16" && entry.dtype != "F32") {
    throw InputError(file.path().string(), 0, name,
                     fmt::format("unsupported dtype {}: expected BF16, F16 or F32", entry.dtype));
  }
  at::Tensor tensor = file.load(name, dtype, device, slice);
  // NaN or Inf weights load and run, and their rows are stored as ok; one pass per tensor finds them.
  const int64_t bad = at::logical_not(at::isfinite(tensor)).sum().item<int64_t>();
  if (bad > 0) {
    throw InputError(file.path().string(), 0, name,
                     fmt::format("finite weights; {} of its {} values are NaN or infinite (after conversion to {})",
                                 bad, tensor.numel(), c10::toString(dtype)));
  }
  return tensor;
}

int64_t WeightStore::total_bytes() const {
  int64_t total = 0;
  for (const auto& file : files_) {
    for (const auto& [name, entry] : file->entries()) total += static_cast<int64_t>(entry.end - entry.begin);
  }
  return total;
}

}  // namespace loom::model
