// parallel::Communicator over an MPI communicator (one TP group), for CPU tensors. Tensors on another device are
// staged through host memory; dtypes MPI cannot reduce (bfloat16, float16) are reduced in float32 and converted
// back. Every rank must call each collective with tensors of the same shape and dtype (the MPI contract).
#pragma once

#include "rank/parallel/communicator.h"

#include <mpi.h>

namespace loom::parallel {

class MpiCommunicator final : public Communicator {
 public:
  // `group` is borrowed (the caller's mpi::Comm owns it) and must outlive this object.
  explicit MpiCommunicator(MPI_Comm group);
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

}  // namespace loom::parallel
