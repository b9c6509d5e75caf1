// parallel::Communicator over NCCL for CUDA tensors (compiled only when CUDA, NCCL and libtorch-CUDA are all present:
// LOOM_WITH_NCCL). The group leader creates the NCCL unique id and broadcasts it over the group's MPI communicator;
// every rank then joins with ncclCommInitRank on its own GPU. Collectives run on the current libtorch CUDA stream of
// that GPU, so they are ordered with the engine's kernels without extra synchronisation.
#pragma once

#include "rank/parallel/communicator.h"

#include <mpi.h>

#include <memory>

namespace loom::parallel {

class NcclCommunicator final : public Communicator {
 public:
  // `group` is only used during construction (the unique id broadcast). `cuda_device` is this rank's GPU.
  NcclCommunicator(MPI_Comm group, int cuda_device);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int cuda_device() const { return device_; }
  void all_reduce_sum(at::Tensor& tensor) override;
  at::Tensor all_gather(const at::Tensor& local, int64_t dim) override;
  void broadcast(at::Tensor& tensor, int root) override;

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
  int rank_ = 0;
  int size_ = 1;
  int device_ = 0;
};

}  // namespace loom::parallel
