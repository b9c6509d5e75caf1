// CPU thread policy of the engine (rank/model/cpu_threads.h).
#include "rank/model/cpu_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <thread>

namespace loom::model {
namespace {

TEST(CpuThreads, OneRankTakesItsWholeAffinityMask) {
  EXPECT_GE(cpu_affinity_count(), 1);
  EXPECT_EQ(auto_cpu_threads(1), cpu_affinity_count());
  EXPECT_EQ(auto_cpu_threads(0), cpu_affinity_count());  // unknown rank count: as one rank
}

TEST(CpuThreads, UnboundRanksShareTheMaskAndNeverGetZero) {
  const int mask = cpu_affinity_count();
  const int node = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int ranks : {2, 3, 4, 16, 1000}) {
    const int threads = auto_cpu_threads(ranks);
    EXPECT_GE(threads, 1) << ranks;
    if (mask * ranks > node) {
      EXPECT_EQ(threads, std::max(1, mask / ranks)) << ranks;  // the ranks share this mask
    } else {
      EXPECT_EQ(threads, mask) << ranks;  // each rank can own a mask of this size (bound ranks)
    }
  }
}

TEST(CpuThreads, OpenBlasGetsTheThreadsAndLibtorchOne) {
  using GetThreads = int (*)();
  auto openblas = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  set_cpu_threads(2);
  if (openblas != nullptr) {
    EXPECT_EQ(openblas(), 2);
    EXPECT_EQ(at::get_num_threads(), 1);
  } else {
    EXPECT_EQ(at::get_num_threads(), 2);
  }
  set_cpu_threads(0);  // at least one
  if (openblas != nullptr) EXPECT_EQ(openblas(), 1);
}

}  // namespace
}  // namespace loom::model
