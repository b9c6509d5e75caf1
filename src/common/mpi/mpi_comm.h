// Typed MPI layer. Contract:
//  * MpiSession: RAII MPI_Init_thread/MPI_Finalize for main(); records the thread level MPI provided.
//  * Comm: an RAII communicator (world is borrowed, split() results are owned and freed), with typed
//    point-to-point send/recv and broadcast of any Boost.Serialization type. Every point-to-point message has a
//    MessageTag (see message_tag.h): no raw int tags in src/.
//  * Payloads are binary archives (all ranks share one architecture); messages above max_chunk_bytes() are sent
//    as several MPI messages, so a payload may exceed 2 GiB.
//  * Waits can be "patient" (poll + sleep with back-off) so ranks that wait for a long time do not spin a core
//    that a neighbour rank needs for inference.
#pragma once

#include "common/mpi/message_tag.h"
#include "common/mpi/serialize.h"

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom::mpi {

class MpiSession {
 public:
  // required: MPI_THREAD_SINGLE|FUNNELED|SERIALIZED|MULTIPLE. Does nothing if MPI is already initialised.
  MpiSession(int* argc, char*** argv, int required);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int provided() const { return provided_; }

 private:
  int provided_ = MPI_THREAD_SINGLE;
  bool owns_ = false;
};

// How a blocking wait behaves: kBusy hands the wait to MPI (lowest latency, spins a core in Open MPI);
// kPatient polls with MPI_Test/MPI_Iprobe and sleeps with exponential back-off up to max_sleep_us.
struct WaitPolicy {
  enum class Mode { kBusy, kPatient };
  Mode mode = Mode::kPatient;
  int max_sleep_us = 2000;
  static WaitPolicy busy() { return {Mode::kBusy, 0}; }
  static WaitPolicy patient(int max_sleep_us = 2000) { return {Mode::kPatient, max_sleep_us}; }
};

class Comm {
 public:
  static Comm world();             // MPI_COMM_WORLD, not freed
  Comm() = default;                // MPI_COMM_NULL
  ~Comm();
  Comm(Comm&& other) noexcept;
  Comm& operator=(Comm&& other) noexcept;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  // Collective over this communicator: ranks with equal color form a new communicator ordered by key.
  Comm split(int color, int key) const;

  // Collective: ranks that share a node (MPI_COMM_TYPE_SHARED), e.g. to pick the local GPU.
  Comm split_shared() const;
  // Collective: every rank's string, in rank order, on root (empty elsewhere).
  std::vector<std::string> gather(const std::string& value, int root) const;

  int rank() const;
  int size() const;
  MPI_Comm raw() const { return comm_; }
  bool valid() const { return comm_ != MPI_COMM_NULL; }
  void barrier() const;
  [[noreturn]] void abort(int code) const;

  std::size_t max_chunk_bytes() const { return max_chunk_bytes_; }
  void set_max_chunk_bytes(std::size_t bytes);  // tests use a tiny value to exercise chunking

  // Raw byte payloads (used by the typed calls below).
  void send_bytes(const std::string& payload, int dest, MessageTag tag) const;
  // source may be MPI_ANY_SOURCE; returns the payload and stores the sender in *actual_source.
  std::string recv_bytes(int source, MessageTag tag, int* actual_source, WaitPolicy wait) const;
  void broadcast_bytes(std::string& payload, int root, WaitPolicy wait) const;
  // The source of a pending message with this tag, if one has arrived.
  std::optional<int> iprobe(int source, MessageTag tag) const;

  template <class T>
  void send(const T& message, int dest, MessageTag tag) const {
    send_bytes(to_bytes(message), dest, tag);
  }
  template <class T>
  T recv(int source, MessageTag tag, int* actual_source = nullptr, WaitPolicy wait = WaitPolicy{}) const {
    return from_bytes<T>(recv_bytes(source, tag, actual_source, wait));
  }
  // Collective: `value` on root is copied to every rank.
  template <class T>
  void broadcast(T& value, int root, WaitPolicy wait = WaitPolicy{}) const {
    std::string payload;
    if (rank() == root) payload = to_bytes(value);
    broadcast_bytes(payload, root, wait);
    if (rank() != root) value = from_bytes<T>(payload);
  }
  // Collective: the minimum / maximum over ranks.
  int64_t all_reduce_min(int64_t value) const;
  int64_t all_reduce_max(int64_t value) const;
  int64_t all_reduce_sum(int64_t value) const;

 private:
  explicit Comm(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {}
  void release();
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owned_ = false;
  std::size_t max_chunk_bytes_ = std::size_t{1} << 30;
};

// Throws loom::Error naming the MPI call when rc != MPI_SUCCESS.
void check_mpi(int rc, const char* call);

}  // namespace loom::mpi
