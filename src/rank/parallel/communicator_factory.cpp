#include "rank/parallel/communicator_factory.h"

#include "common/mpi/mpi_comm.h"
#include "rank/parallel/mpi_communicator.h"
#if defined(LOOM_WITH_NCCL)
#include "rank/parallel/nccl_communicator.h"
#endif

#include <spdlog/spdlog.h>

namespace loom::parallel {

int node_local_rank(MPI_Comm comm) {
  MPI_Comm node = MPI_COMM_NULL;
  int world_rank = 0;
  mpi::check_mpi(MPI_Comm_rank(comm, &world_rank), "MPI_Comm_rank");
  mpi::check_mpi(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node),
                 "MPI_Comm_split_type(SHARED)");
  int local = 0;
  const int rc = MPI_Comm_rank(node, &local);
  MPI_Comm_free(&node);
  mpi::check_mpi(rc, "MPI_Comm_rank(node)");
  return local;
}

int local_cuda_device(int node_local_rank, int visible_devices) {
  return visible_devices > 0 ? node_local_rank % visible_devices : 0;
}

bool nccl_available() {
#if defined(LOOM_WITH_NCCL)
  return true;
#else
  return false;
#endif
}

std::string backend_for(const at::Device& device) {
  return device.is_cuda() && nccl_available() ? "nccl" : "mpi";
}

std::unique_ptr<Communicator> make_communicator(MPI_Comm group, const at::Device& device) {
#if defined(LOOM_WITH_NCCL)
  if (device.is_cuda()) return std::make_unique<NcclCommunicator>(group, device.has_index() ? device.index() : 0);
#endif
  if (device.is_cuda()) {
    int size = 1;
    mpi::check_mpi(MPI_Comm_size(group, &size), "MPI_Comm_size");
    if (size > 1) {
      spdlog::warn("this build has no NCCL: tensor-parallel collectives of CUDA tensors go through host memory "
                   "over MPI (slow)");
    }
  }
  return std::make_unique<MpiCommunicator>(group);
}

}  // namespace loom::parallel
