#include "rank/parallel/nccl_communicator.h"

#include "common/error.h"
#include "common/mpi/mpi_comm.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

namespace loom::parallel {

namespace {

void check_nccl(ncclResult_t result, const char* call) {
  if (result != ncclSuccess) {
    throw Error(fmt::format("{} failed: {} ({})", call, ncclGetErrorString(result), static_cast<int>(result)));
  }
}

ncclDataType_t nccl_type(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kInt: return ncclInt32;
    case at::kLong: return ncclInt64;
    case at::kChar: return ncclInt8;
    case at::kByte: return ncclUint8;
    default:
      throw Error(fmt::format("NCCL collectives do not support dtype {}", c10::toString(type)));
  }
}

}  // namespace

struct NcclCommunicator::Handle {
  ncclComm_t comm = nullptr;
};

NcclCommunicator::NcclCommunicator(MPI_Comm group, int cuda_device)
    : handle_(std::make_unique<Handle>()), device_(cuda_device) {
  mpi::check_mpi(MPI_Comm_rank(group, &rank_), "MPI_Comm_rank");
  mpi::check_mpi(MPI_Comm_size(group, &size_), "MPI_Comm_size");
  ncclUniqueId id;
  if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  mpi::check_mpi(MPI_Bcast(&id, static_cast<int>(sizeof(id)), MPI_BYTE, 0, group), "MPI_Bcast(ncclUniqueId)");
  const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  check_nccl(ncclCommInitRank(&handle_->comm, size_, id, rank_), "ncclCommInitRank");
}

NcclCommunicator::~NcclCommunicator() {
  if (handle_ && handle_->comm != nullptr) ncclCommDestroy(handle_->comm);
}

void NcclCommunicator::all_reduce_sum(at::Tensor& tensor) {
  if (size_ == 1) return;
  LOOM_CHECK(tensor.is_cuda() && tensor.get_device() == device_, "NCCL all_reduce_sum needs a tensor on cuda:{}",
             device_);
  LOOM_CHECK(tensor.is_contiguous(), "all_reduce_sum needs a contiguous tensor");
  const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_)).stream();
  check_nccl(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                           nccl_type(tensor.scalar_type()), ncclSum, handle_->comm, stream),
             "ncclAllReduce");
}

at::Tensor NcclCommunicator::all_gather(const at::Tensor& local, int64_t dim) {
  if (size_ == 1) return local;
  const int64_t axis = dim < 0 ? dim + local.dim() : dim;
  LOOM_CHECK(axis >= 0 && axis < local.dim(), "all_gather: dim {} outside a {}-d tensor", dim, local.dim());
  LOOM_CHECK(local.is_cuda() && local.get_device() == device_, "NCCL all_gather needs a tensor on cuda:{}", device_);
  const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  at::Tensor send = local.contiguous();
  std::vector<int64_t> shape{size_};
  for (int64_t d : send.sizes()) shape.push_back(d);
  at::Tensor gathered = at::empty(shape, send.options());
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_)).stream();
  check_nccl(ncclAllGather(send.data_ptr(), gathered.data_ptr(), static_cast<size_t>(send.numel()),
                           nccl_type(send.scalar_type()), handle_->comm, stream),
             "ncclAllGather");
  return gathered.movedim(0, axis).flatten(axis, axis + 1).contiguous();
}

void NcclCommunicator::broadcast(at::Tensor& tensor, int root) {
  if (size_ == 1) return;
  LOOM_CHECK(root >= 0 && root < size_, "broadcast root {} outside a group of {}", root, size_);
  LOOM_CHECK(tensor.is_cuda() && tensor.get_device() == device_, "NCCL broadcast needs a tensor on cuda:{}", device_);
  LOOM_CHECK(tensor.is_contiguous(), "broadcast needs a contiguous tensor");
  const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_)).stream();
  check_nccl(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                           nccl_type(tensor.scalar_type()), root, handle_->comm, stream),
             "ncclBroadcast");
}

}  // namespace loom::parallel
