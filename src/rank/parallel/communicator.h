// Tensor-parallel communicator: collectives inside one TP group. Backends: MPI (CPU tensors, over the group's
// MPI communicator) and NCCL (CUDA tensors; unique id made by the group leader and broadcast over MPI).
// A group of size 1 is valid and every collective is then a no-op, so single-rank code takes the same path.
#pragma once

#include <ATen/ATen.h>

#include <memory>

namespace loom::parallel {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;  // rank inside the TP group
  virtual int size() const = 0;  // tensor_parallel
  // In place, sum over the group. Tensor must be contiguous.
  virtual void all_reduce_sum(at::Tensor& tensor) = 0;
  // Concatenates each rank's `local` along `dim` in rank order.
  virtual at::Tensor all_gather(const at::Tensor& local, int64_t dim) = 0;
  // In place, from group rank `root`.
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
};

}  // namespace loom::parallel
