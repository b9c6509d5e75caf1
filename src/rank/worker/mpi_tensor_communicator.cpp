#include "rank/worker/mpi_tensor_communicator.h"

#include "common/error.h"
#include "common/mpi/mpi_comm.h"

#include <vector>

namespace loom::worker {

namespace {

MPI_Datatype mpi_type(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kInt: return MPI_INT32_T;
    case at::kLong: return MPI_INT64_T;
    default: return MPI_DATATYPE_NULL;
  }
}

// A contiguous host tensor MPI can reduce (float32 for half types), and whether it is a copy of `tensor`.
at::Tensor host_view(const at::Tensor& tensor, bool& copied) {
  at::Tensor host = tensor;
  if (!host.device().is_cpu()) host = host.cpu();
  if (mpi_type(host.scalar_type()) == MPI_DATATYPE_NULL) host = host.to(at::kFloat);
  host = host.contiguous();
  copied = !host.is_same(tensor);
  return host;
}

}  // namespace

MpiTensorCommunicator::MpiTensorCommunicator(MPI_Comm group) : comm_(group) {
  mpi::check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  mpi::check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

void MpiTensorCommunicator::all_reduce_sum(at::Tensor& tensor) {
  if (size_ == 1) return;
  bool copied = false;
  at::Tensor host = host_view(tensor, copied);
  LOOM_CHECK(host.numel() <= INT32_MAX, "all_reduce of {} elements exceeds one MPI call", host.numel());
  mpi::check_mpi(MPI_Allreduce(MPI_IN_PLACE, host.data_ptr(), static_cast<int>(host.numel()),
                               mpi_type(host.scalar_type()), MPI_SUM, comm_),
                 "MPI_Allreduce");
  if (copied) tensor.copy_(host);
}

at::Tensor MpiTensorCommunicator::all_gather(const at::Tensor& local, int64_t dim) {
  if (size_ == 1) return local;
  at::Tensor host = local.cpu().contiguous();
  std::vector<int64_t> shape{size_};
  for (int64_t d : host.sizes()) shape.push_back(d);
  at::Tensor gathered = at::empty(shape, host.options());
  const int64_t bytes = host.numel() * static_cast<int64_t>(host.element_size());
  LOOM_CHECK(bytes <= INT32_MAX, "all_gather of {} bytes exceeds one MPI call", bytes);
  mpi::check_mpi(MPI_Allgather(host.data_ptr(), static_cast<int>(bytes), MPI_BYTE, gathered.data_ptr(),
                               static_cast<int>(bytes), MPI_BYTE, comm_),
                 "MPI_Allgather");
  const int64_t axis = dim < 0 ? dim + local.dim() : dim;
  return at::cat(gathered.unbind(0), axis).to(local.device());
}

void MpiTensorCommunicator::broadcast(at::Tensor& tensor, int root) {
  if (size_ == 1) return;
  at::Tensor host = tensor.device().is_cpu() ? tensor.contiguous() : tensor.cpu().contiguous();
  const int64_t bytes = host.numel() * static_cast<int64_t>(host.element_size());
  LOOM_CHECK(bytes <= INT32_MAX, "broadcast of {} bytes exceeds one MPI call", bytes);
  mpi::check_mpi(MPI_Bcast(host.data_ptr(), static_cast<int>(bytes), MPI_BYTE, root, comm_), "MPI_Bcast");
  if (!host.is_same(tensor)) tensor.copy_(host);
}

}  // namespace loom::worker
