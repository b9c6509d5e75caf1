#include "rank/model/safetensors_file.h"

#include "common/error.h"
#include "common/json_errors.h"

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace loom::model {

namespace {

int64_t element_size(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2") return 1;
  return 0;
}

}  // namespace

std::optional<at::ScalarType> safetensors_dtype(const std::string& name) {
  if (name == "BF16") return at::kBFloat16;
  if (name == "F16") return at::kHalf;
  if (name == "F32") return at::kFloat;
  if (name == "F64") return at::kDouble;
  if (name == "I64") return at::kLong;
  if (name == "I32") return at::kInt;
  if (name == "I16") return at::kShort;
  if (name == "I8") return at::kChar;
  if (name == "U8") return at::kByte;
  if (name == "BOOL") return at::kBool;
  return std::nullopt;
}

SafetensorsFile::SafetensorsFile(std::filesystem::path path) : path_(std::move(path)) {
  const std::string file = path_.string();
  const int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) throw InputError(file, 0, "", fmt::format("cannot open the file: {}", std::strerror(errno)));
  struct stat info {};
  ::fstat(fd, &info);
  mapped_bytes_ = static_cast<size_t>(info.st_size);
  if (mapped_bytes_ < 8) {
    ::close(fd);
    throw InputError(file, 0, "", fmt::format("truncated file: {} bytes, a safetensors file starts with an 8-byte "
                                              "header length", mapped_bytes_));
  }
  mapping_ = ::mmap(nullptr, mapped_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw InputError(file, 0, "", fmt::format("cannot memory-map the file: {}", std::strerror(errno)));
  }
  const auto* bytes = static_cast<const unsigned char*>(mapping_);
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | bytes[i];
  if (header_length > mapped_bytes_ - 8) {
    throw InputError(file, 0, "", fmt::format("truncated file or bad header: header length {} exceeds the {} bytes "
                                              "that follow it", header_length, mapped_bytes_ - 8));
  }
  data_offset_ = 8 + header_length;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(reinterpret_cast<const char*>(bytes + 8),
                                   reinterpret_cast<const char*>(bytes + 8 + header_length));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, 0, "", fmt::format("bad JSON header: expected valid JSON ({})", json_problem(e)));
  }
  if (!header.is_object()) throw InputError(file, 0, "", "bad JSON header: expected a JSON object");
  const uint64_t data_bytes = mapped_bytes_ - data_offset_;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;
    try {
      SafetensorsEntry entry;
      entry.dtype = value.at("dtype").get<std::string>();
      entry.shape = value.at("shape").get<std::vector<int64_t>>();
      const auto offsets = value.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1]) {
        throw InputError(file, 0, name, "bad JSON header: data_offsets must be [begin, end] with begin <= end");
      }
      entry.begin = offsets[0];
      entry.end = offsets[1];
      if (entry.end > data_bytes) {
        throw InputError(file, 0, name, fmt::format("truncated file: tensor bytes [{}, {}) lie beyond the {} data "
                                                    "bytes present", entry.begin, entry.end, data_bytes));
      }
      int64_t numel = 1;
      for (int64_t d : entry.shape) {
        if (d < 0 || __builtin_mul_overflow(numel, d, &numel) || static_cast<uint64_t>(numel) > data_bytes)
          throw InputError(file, 0, name, fmt::format("bad JSON header: expected a shape of non-negative sizes whose "
                                                      "product fits the {} data bytes, got a size of {}",
                                                      data_bytes, d));
      }
      const int64_t size = element_size(entry.dtype);
      if (size > 0 && static_cast<uint64_t>(numel * size) != entry.end - entry.begin) {
        throw InputError(file, 0, name, fmt::format("bad JSON header: {} {} elements need {} bytes, data_offsets "
                                                    "give {}", numel, entry.dtype, numel * size,
                                                    entry.end - entry.begin));
      }
      entries_.emplace(name, std::move(entry));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(file, 0, name,
                       fmt::format("bad JSON header: expected {{\"dtype\": string, \"shape\": [non-negative "
                                   "integers], \"data_offsets\": [begin, end]}} ({})",
                                   json_problem(e)));
    }
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapped_bytes_);
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

at::Tensor SafetensorsFile::view(const std::string& name) const {
  const SafetensorsEntry* entry = find(name);
  if (entry == nullptr) throw InputError(path_.string(), 0, name, "missing tensor");
  const auto dtype = safetensors_dtype(entry->dtype);
  if (!dtype) {
    throw InputError(path_.string(), 0, name,
                     fmt::format("unsupported dtype {} (expected BF16, F16 or F32 weights)", entry->dtype));
  }
  auto* data = static_cast<char*>(mapping_) + data_offset_ + entry->begin;
  return at::from_blob(data, entry->shape, at::TensorOptions().dtype(*dtype));
}

at::Tensor SafetensorsFile::load(const std::string& name, at::ScalarType dtype, at::Device device,
                                 const TensorSlice& slice) const {
  at::Tensor tensor = view(name);
  if (slice.dim >= 0) {
    if (slice.dim >= tensor.dim() || slice.start < 0 || slice.length < 0 ||
        slice.start + slice.length > tensor.size(slice.dim)) {
      throw InputError(path_.string(), 0, name,
                       fmt::format("slice [{}, {}) of dim {} is outside shape {}", slice.start,
                                   slice.start + slice.length, slice.dim, c10::str(tensor.sizes())));
    }
    tensor = tensor.narrow(slice.dim, slice.start, slice.length);
  }
  // The mapping is read-only: always copy into memory the result owns (contiguous).
  at::Tensor out = at::empty(tensor.sizes(), at::TensorOptions().dtype(dtype).device(device));
  out.copy_(tensor);
  return out;
}

}  // namespace loom::model
