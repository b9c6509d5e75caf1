#include "rank/model/device.h"

#include "common/error.h"
#include "rank/model/cpu_threads.h"


#include <fstream>
#include <sstream>

#ifdef LOOM_TORCH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace loom::model {

namespace {

bool cuda_usable() {
#ifdef LOOM_TORCH_CUDA
  return at::globalContext().hasCUDA() && c10::cuda::device_count() > 0;
#else
  return false;
#endif
}

int64_t read_status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream parts(line.substr(field.size() + 1));
      int64_t kib = 0;
      parts >> kib;
      return kib;
    }
  }
  return 0;
}

}  // namespace

at::Device resolve_device(const std::string& name, int cuda_index) {
  if (name == "cpu") return at::Device(at::kCPU);
  if (name == "cuda" || name == "auto") {
    if (cuda_usable()) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(cuda_index));
    if (name == "auto") return at::Device(at::kCPU);
    throw InputError("", 0, "device", "cuda requested but libtorch has no CUDA or no GPU is visible");
  }
  throw InputError("", 0, "device", fmt::format("expected auto, cpu or cuda, got '{}'", name));
}

at::ScalarType resolve_dtype(const std::string& option, const std::string& config_dtype, at::Device device) {
  std::string name = option;
  if (name == "auto") name = device.is_cuda() ? config_dtype : "float32";
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  if (name == "float16" || name == "fp16" || name == "half") return at::kHalf;
  if (name == "float32" || name == "fp32" || name == "float") return at::kFloat;
  throw InputError("", 0, "dtype", fmt::format("expected auto, bfloat16, float16 or float32, got '{}'", name));
}

std::string dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    case at::kFloat: return "float32";
    default: return c10::toString(dtype);
  }
}

std::string describe_device(at::Device device) {
#ifdef LOOM_TORCH_CUDA
  if (device.is_cuda()) return at::cuda::getDeviceProperties(device.index())->name;
#endif
  return "cpu (" + describe_cpu_threads() + ")";
}

void release_cached_memory(at::Device device) {
#ifdef LOOM_TORCH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
}

int64_t free_device_memory(at::Device device) {
#ifdef LOOM_TORCH_CUDA
  if (device.is_cuda()) {
    c10::cuda::CUDAGuard guard(device.index());
    c10::cuda::CUDACachingAllocator::emptyCache();
    size_t free = 0, total = 0;
    LOOM_CHECK(cudaMemGetInfo(&free, &total) == cudaSuccess, "cudaMemGetInfo failed");
    return static_cast<int64_t>(free);
  }
#endif
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream parts(line.substr(13));
      int64_t kib = 0;
      parts >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

void synchronize(at::Device device) {
#ifdef LOOM_TORCH_CUDA
  if (device.is_cuda()) at::cuda::getCurrentCUDAStream(device.index()).synchronize();
#else
  (void)device;
#endif
}

void PeakMemoryMeter::reset() {
#ifdef LOOM_TORCH_CUDA
  if (device_.is_cuda()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(device_.index());
    return;
  }
#endif
  std::ofstream clear("/proc/self/clear_refs");
  if (clear) clear << "5";  // resets VmHWM to the current RSS (Linux >= 4.0); ignored where not permitted
}

int64_t PeakMemoryMeter::peak_bytes() const {
#ifdef LOOM_TORCH_CUDA
  if (device_.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_.index());
    return static_cast<int64_t>(stats.allocated_bytes[0].peak);  // index 0: StatType::AGGREGATE
  }
#endif
  return read_status_kib("VmHWM") * 1024;
}

}  // namespace loom::model
