#include "rank/model/cpu_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <thread>

namespace loom::model {

int cpu_affinity_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int auto_cpu_threads(int ranks_on_node) {
  const int ranks = std::max(1, ranks_on_node);
  const int mask = cpu_affinity_count();
  const int node_cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (mask * ranks <= node_cpus) return mask;  // each rank can own a mask this size: bound ranks
  return std::max(1, mask / ranks);            // ranks share the mask
}

namespace {

// OpenBLAS's thread controls when the process has OpenBLAS (Debian's libtorch calls it through libblas.so.3).
template <class Function>
Function openblas_symbol(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

std::string describe_cpu_threads() {
  if (auto get = openblas_symbol<int (*)()>("openblas_get_num_threads")) {
    return std::to_string(get()) + " OpenBLAS threads, " + std::to_string(at::get_num_threads()) + " libtorch threads";
  }
  return std::to_string(at::get_num_threads()) + " threads";
}

void set_cpu_threads(int threads) {
  const int n = std::max(1, threads);
  if (auto openblas = openblas_symbol<void (*)(int)>("openblas_set_num_threads")) {
    // OpenBLAS does the GEMMs, which are most of the time. A second pool of n libtorch (OpenMP) threads on the same
    // cores made things worse: both pools spin while the other works (tiny-loom, 4K prefill on 2 cores: 1.46 s with
    // 1 + 2 threads, 2.70 s with 2 + 2; decode 4.6 vs 16.9 ms/token).
    openblas(n);
    at::set_num_threads(1);
    return;
  }
  at::set_num_threads(n);  // MKL / oneDNN builds of libtorch follow the intra-op pool
}

}  // namespace loom::model
