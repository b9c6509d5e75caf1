// parallel::Communicator over an MPI communicator (a TP group made with MPI_Comm_split), for CPU tensors; CUDA
// tensors are staged through host memory. Half-precision tensors are reduced in float32. Used by the worker when
// tensor_parallel > 1 and no NCCL communicator is available.
#pragma once

#include "rank/parallel/communicator.h"

#include <mpi.h>

namespace loom::worker {

class MpiTensorCommunicator final : public parallel::Communicator {
 public:
  explicit MpiTensorCommunicator(MPI_Comm group);  // borrowed; must outlive this object
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum(at::Tensor& tensor) override;
  at::Tensor all_gather(const at::Tensor& local, int64_t dim) override;
  void broadcast(at::Tensor& tensor, int root) override;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace loom::worker
