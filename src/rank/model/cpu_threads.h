// CPU threads of the engine on one rank. libtorch's intra-op pool and the BLAS it calls (OpenBLAS on Debian) each
// size themselves on their own, and inside an MPI job both guesses are wrong: libtorch may start with one thread
// while OpenBLAS starts one per core in every rank. The engine sets both to the same count:
//   auto_cpu_threads(ranks_on_node): the CPUs in this process's affinity mask when the node's ranks can each have a
//   disjoint mask of that size (mpirun --bind-to core/socket, Slurm --cpus-per-task), otherwise that mask shared
//   evenly among the node's ranks (unbound or oversubscribed ranks), at least 1.
//   set_cpu_threads(n): when the process has OpenBLAS (Debian's libtorch), n OpenBLAS threads and one libtorch
//   thread (two pools spinning on the same cores were measured 1.8x slower); otherwise at::set_num_threads(n).
#pragma once

#include <string>

namespace loom::model {

int cpu_affinity_count();  // CPUs this process may run on
int auto_cpu_threads(int ranks_on_node);
void set_cpu_threads(int threads);
std::string describe_cpu_threads();  // "2 OpenBLAS threads, 1 libtorch threads" or "2 threads"

}  // namespace loom::model
