#include "rank/parallel/mpi_communicator.h"

#include "common/error.h"
#include "common/mpi/mpi_comm.h"

#include <climits>

namespace loom::parallel {

namespace {

MPI_Datatype reducible_type(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kInt: return MPI_INT32_T;
    case at::kLong: return MPI_INT64_T;
    default: return MPI_DATATYPE_NULL;
  }
}

// One MPI call takes an int count: large tensors go in pieces of at most this many elements (or bytes).
constexpr int64_t kMaxCount = INT_MAX / 8;

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm group) : comm_(group) {
  mpi::check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  mpi::check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

void MpiCommunicator::all_reduce_sum(at::Tensor& tensor) {
  if (size_ == 1) return;
  LOOM_CHECK(tensor.is_contiguous(), "all_reduce_sum needs a contiguous tensor");
  at::Tensor host = tensor.device().is_cpu() ? tensor : tensor.cpu();
  if (reducible_type(host.scalar_type()) == MPI_DATATYPE_NULL) host = host.to(at::kFloat);
  const MPI_Datatype type = reducible_type(host.scalar_type());
  LOOM_CHECK(type != MPI_DATATYPE_NULL, "all_reduce_sum: unsupported dtype {}", c10::toString(tensor.scalar_type()));
  char* data = static_cast<char*>(host.data_ptr());
  const int64_t element = static_cast<int64_t>(host.element_size());
  for (int64_t done = 0; done < host.numel(); done += kMaxCount) {
    const int count = static_cast<int>(std::min(kMaxCount, host.numel() - done));
    mpi::check_mpi(MPI_Allreduce(MPI_IN_PLACE, data + done * element, count, type, MPI_SUM, comm_), "MPI_Allreduce");
  }
  if (!host.is_same(tensor)) tensor.copy_(host);
}

at::Tensor MpiCommunicator::all_gather(const at::Tensor& local, int64_t dim) {
  if (size_ == 1) return local;
  const int64_t axis = dim < 0 ? dim + local.dim() : dim;
  LOOM_CHECK(axis >= 0 && axis < local.dim(), "all_gather: dim {} outside a {}-d tensor", dim, local.dim());
  at::Tensor host = local.cpu().contiguous();
  std::vector<int64_t> shape{size_};
  for (int64_t d : host.sizes()) shape.push_back(d);
  at::Tensor gathered = at::empty(shape, host.options());
  const int64_t bytes = host.numel() * static_cast<int64_t>(host.element_size());
  LOOM_CHECK(bytes * size_ <= INT_MAX, "all_gather of {} bytes per rank exceeds one MPI call", bytes);
  mpi::check_mpi(MPI_Allgather(host.data_ptr(), static_cast<int>(bytes), MPI_BYTE, gathered.data_ptr(),
                               static_cast<int>(bytes), MPI_BYTE, comm_),
                 "MPI_Allgather");
  // [size, ..., d_axis, ...] -> [..., size * d_axis, ...] in rank order.
  at::Tensor joined = gathered.movedim(0, axis).flatten(axis, axis + 1).contiguous();
  return joined.to(local.device());
}

void MpiCommunicator::broadcast(at::Tensor& tensor, int root) {
  if (size_ == 1) return;
  LOOM_CHECK(root >= 0 && root < size_, "broadcast root {} outside a group of {}", root, size_);
  at::Tensor host = tensor.device().is_cpu() ? tensor.contiguous() : tensor.cpu().contiguous();
  char* data = static_cast<char*>(host.data_ptr());
  const int64_t bytes = host.numel() * static_cast<int64_t>(host.element_size());
  for (int64_t done = 0; done < bytes; done += kMaxCount) {
    const int count = static_cast<int>(std::min(kMaxCount, bytes - done));
    mpi::check_mpi(MPI_Bcast(data + done, count, MPI_BYTE, root, comm_), "MPI_Bcast");
  }
  if (!host.is_same(tensor)) tensor.copy_(host);
}

}  // namespace loom::parallel
