// Device and dtype selection for the engine, and the peak-memory meter.
//   device: "auto" (CUDA when libtorch has CUDA and a GPU is visible, else CPU) | "cpu" | "cuda".
//   dtype:  "auto" (config.json's torch_dtype on CUDA, float32 on CPU) | bfloat16 | float16 | float32.
// Peak memory: CUDA — the caching allocator's peak allocated bytes since reset(); CPU — the process's peak resident
// set (VmHWM from /proc/self/status, reset through /proc/self/clear_refs where the kernel allows it), so it
// includes the weights and everything else the process holds.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace loom::model {

at::Device resolve_device(const std::string& name, int cuda_index);
at::ScalarType resolve_dtype(const std::string& option, const std::string& config_dtype, at::Device device);
std::string describe_device(at::Device device);
std::string dtype_name(at::ScalarType dtype);

// Returns cached, unused device memory to the driver (CUDA caching allocator); no-op on CPU. Called after a
// request failed (e.g. out of memory) so the next one starts from a clean pool.
void release_cached_memory(at::Device device);

// Memory the device can still give: CUDA free memory after returning the caching allocator's unused blocks; CPU
// MemAvailable from /proc/meminfo.
int64_t free_device_memory(at::Device device);

// Waits for the device's queued work (CUDA); no-op on CPU. Timings of one phase call it before reading the clock.
void synchronize(at::Device device);

class PeakMemoryMeter {
 public:
  explicit PeakMemoryMeter(at::Device device) : device_(device) {}
  void reset();
  int64_t peak_bytes() const;

 private:
  at::Device device_;
};

}  // namespace loom::model
