// One MPI tag per message kind of the rank 0 <-> worker protocol (src/protocol; docs/architecture.md, "Protocol and
// prompt flow").
// Values are stable and below the MPI-guaranteed tag upper bound (32767).
#pragma once

namespace loom::mpi {

enum class MessageTag : int {
  kWorkRequest = 101,     // group leader -> rank 0: outcomes of its last assignment and a request for more work
  kWorkAssignment = 102,  // rank 0 -> group leader: a batch of work items, or "stop"
  kTest = 900,            // unit tests and benchmarks of this layer
  kTestReply = 901,
};

const char* tag_name(MessageTag tag);

}  // namespace loom::mpi
