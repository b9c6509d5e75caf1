// Chooses the tensor-parallel backend by device: CUDA tensors -> NCCL (when this build has it: LOOM_WITH_NCCL),
// everything else -> MPI over the group's communicator (CUDA tensors are then staged through host memory, with a
// warning). One GPU per rank: node_local_rank() (MPI_Comm_split_type SHARED over the world) modulo the visible GPUs
// is the rank's device; the engine must use the same index.
#pragma once

#include "rank/parallel/communicator.h"

#include <mpi.h>

#include <memory>
#include <string>

namespace loom::parallel {

// Rank among the processes of `comm` that share this node (collective over `comm`).
int node_local_rank(MPI_Comm comm);

// The CUDA device index for a rank: node-local rank modulo the number of visible GPUs (0 when none are visible).
int local_cuda_device(int node_local_rank, int visible_devices);

// Whether this build has the NCCL backend.
bool nccl_available();

// A communicator for the TP group `group` (borrowed; must outlive the result) whose tensors live on `device`.
// Collective over `group`. A group of one gets an MPI communicator whose collectives are no-ops.
std::unique_ptr<Communicator> make_communicator(MPI_Comm group, const at::Device& device);

// "mpi" or "nccl": the backend make_communicator picks for `device`.
std::string backend_for(const at::Device& device);

}  // namespace loom::parallel
