#include "common/mpi/mpi_comm.h"

#include "common/error.h"
#include "common/mpi/backoff.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

namespace loom::mpi {

namespace {

constexpr std::size_t kHeaderBytes = sizeof(uint64_t);

void wait_request(MPI_Request* request, const WaitPolicy& wait, const char* call) {
  if (wait.mode == WaitPolicy::Mode::kBusy) {
    check_mpi(MPI_Wait(request, MPI_STATUS_IGNORE), call);
    return;
  }
  Backoff backoff(wait.max_sleep_us);
  int done = 0;
  while (true) {
    check_mpi(MPI_Test(request, &done, MPI_STATUS_IGNORE), call);
    if (done) return;
    backoff.pause();
  }
}

int count_of(const MPI_Status& status) {
  int count = 0;
  check_mpi(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  return count;
}

}  // namespace

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw Error(fmt::format("{} failed: {}", call, std::string(text, length)));
}

const char* tag_name(MessageTag tag) {
  switch (tag) {
    case MessageTag::kWorkRequest: return "work-request";
    case MessageTag::kWorkAssignment: return "work-assignment";
    case MessageTag::kTest: return "test";
    case MessageTag::kTestReply: return "test-reply";
  }
  return "unknown";
}

MpiSession::MpiSession(int* argc, char*** argv, int required) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) {
    MPI_Query_thread(&provided_);
    return;
  }
  check_mpi(MPI_Init_thread(argc, argv, required, &provided_), "MPI_Init_thread");
  owns_ = true;
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_ && !finalized) MPI_Finalize();
}

Comm Comm::world() { return Comm(MPI_COMM_WORLD, false); }

Comm::~Comm() { release(); }

Comm::Comm(Comm&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)),
      owned_(std::exchange(other.owned_, false)),
      max_chunk_bytes_(other.max_chunk_bytes_) {}

Comm& Comm::operator=(Comm&& other) noexcept {
  if (this != &other) {
    release();
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
    owned_ = std::exchange(other.owned_, false);
    max_chunk_bytes_ = other.max_chunk_bytes_;
  }
  return *this;
}

void Comm::release() {
  if (owned_ && comm_ != MPI_COMM_NULL) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }
  comm_ = MPI_COMM_NULL;
  owned_ = false;
}

Comm Comm::split(int color, int key) const {
  MPI_Comm out = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split(comm_, color, key, &out), "MPI_Comm_split");
  Comm result(out, true);
  result.max_chunk_bytes_ = max_chunk_bytes_;
  return result;
}

Comm Comm::split_shared() const {
  MPI_Comm out = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank(), MPI_INFO_NULL, &out), "MPI_Comm_split_type");
  Comm result(out, true);
  result.max_chunk_bytes_ = max_chunk_bytes_;
  return result;
}

std::vector<std::string> Comm::gather(const std::string& value, int root) const {
  const int n = size();
  const int length = static_cast<int>(value.size());
  std::vector<int> lengths(rank() == root ? n : 0);
  check_mpi(MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, root, comm_), "MPI_Gather");
  std::vector<int> offsets(lengths.size(), 0);
  std::string all;
  if (rank() == root) {
    for (int i = 1; i < n; ++i) offsets[i] = offsets[i - 1] + lengths[i - 1];
    all.resize(n > 0 ? static_cast<std::size_t>(offsets[n - 1] + lengths[n - 1]) : 0);
  }
  check_mpi(MPI_Gatherv(value.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, root,
                        comm_),
            "MPI_Gatherv");
  std::vector<std::string> values;
  for (std::size_t i = 0; i < lengths.size(); ++i) values.push_back(all.substr(offsets[i], lengths[i]));
  return values;
}

int Comm::rank() const {
  int r = 0;
  check_mpi(MPI_Comm_rank(comm_, &r), "MPI_Comm_rank");
  return r;
}

int Comm::size() const {
  int s = 0;
  check_mpi(MPI_Comm_size(comm_, &s), "MPI_Comm_size");
  return s;
}

void Comm::barrier() const { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

void Comm::abort(int code) const {
  MPI_Abort(comm_, code);
  std::abort();
}

void Comm::set_max_chunk_bytes(std::size_t bytes) {
  LOOM_CHECK(bytes > kHeaderBytes && bytes <= (std::size_t{1} << 30), "chunk size {} out of range", bytes);
  max_chunk_bytes_ = bytes;
}

// Wire format: the first MPI message holds an 8-byte total length followed by the first part of the payload;
// further parts follow as separate messages with the same tag (MPI keeps their order).
void Comm::send_bytes(const std::string& payload, int dest, MessageTag tag) const {
  const uint64_t total = payload.size();
  const std::size_t first_part = std::min<std::size_t>(payload.size(), max_chunk_bytes_ - kHeaderBytes);
  std::string first(kHeaderBytes + first_part, '\0');
  std::memcpy(first.data(), &total, kHeaderBytes);
  std::memcpy(first.data() + kHeaderBytes, payload.data(), first_part);
  check_mpi(MPI_Send(first.data(), static_cast<int>(first.size()), MPI_BYTE, dest, static_cast<int>(tag), comm_),
            "MPI_Send");
  for (std::size_t offset = first_part; offset < payload.size(); offset += max_chunk_bytes_) {
    const std::size_t part = std::min(max_chunk_bytes_, payload.size() - offset);
    check_mpi(MPI_Send(payload.data() + offset, static_cast<int>(part), MPI_BYTE, dest, static_cast<int>(tag), comm_),
              "MPI_Send");
  }
}

std::string Comm::recv_bytes(int source, MessageTag tag, int* actual_source, WaitPolicy wait) const {
  MPI_Message handle = MPI_MESSAGE_NULL;
  MPI_Status status;
  if (wait.mode == WaitPolicy::Mode::kBusy) {
    check_mpi(MPI_Mprobe(source, static_cast<int>(tag), comm_, &handle, &status), "MPI_Mprobe");
  } else {
    Backoff backoff(wait.max_sleep_us);
    int found = 0;
    while (true) {
      check_mpi(MPI_Improbe(source, static_cast<int>(tag), comm_, &found, &handle, &status), "MPI_Improbe");
      if (found) break;
      backoff.pause();
    }
  }
  const int sender = status.MPI_SOURCE;
  std::string first(static_cast<std::size_t>(count_of(status)), '\0');
  check_mpi(MPI_Mrecv(first.data(), static_cast<int>(first.size()), MPI_BYTE, &handle, MPI_STATUS_IGNORE),
            "MPI_Mrecv");
  LOOM_CHECK(first.size() >= kHeaderBytes, "message with tag {} from rank {} has no header", tag_name(tag), sender);
  uint64_t total = 0;
  std::memcpy(&total, first.data(), kHeaderBytes);
  std::string payload;
  payload.reserve(total);
  payload.append(first, kHeaderBytes, std::string::npos);
  while (payload.size() < total) {
    MPI_Status part_status;
    check_mpi(MPI_Probe(sender, static_cast<int>(tag), comm_, &part_status), "MPI_Probe");
    const std::size_t offset = payload.size();
    payload.resize(offset + static_cast<std::size_t>(count_of(part_status)));
    check_mpi(MPI_Recv(payload.data() + offset, static_cast<int>(payload.size() - offset), MPI_BYTE, sender,
                       static_cast<int>(tag), comm_, MPI_STATUS_IGNORE),
              "MPI_Recv");
  }
  LOOM_CHECK(payload.size() == total, "message with tag {} from rank {}: {} bytes, header says {}", tag_name(tag),
             sender, payload.size(), total);
  if (actual_source) *actual_source = sender;
  return payload;
}

void Comm::broadcast_bytes(std::string& payload, int root, WaitPolicy wait) const {
  uint64_t total = payload.size();
  MPI_Request request;
  check_mpi(MPI_Ibcast(&total, 1, MPI_UINT64_T, root, comm_, &request), "MPI_Ibcast");
  wait_request(&request, wait, "MPI_Ibcast");
  if (rank() != root) payload.assign(total, '\0');
  for (std::size_t offset = 0; offset < total; offset += max_chunk_bytes_) {
    const std::size_t part = std::min<std::size_t>(max_chunk_bytes_, total - offset);
    check_mpi(MPI_Ibcast(payload.data() + offset, static_cast<int>(part), MPI_BYTE, root, comm_, &request),
              "MPI_Ibcast");
    wait_request(&request, wait, "MPI_Ibcast");
  }
}

std::optional<int> Comm::iprobe(int source, MessageTag tag) const {
  int found = 0;
  MPI_Status status;
  check_mpi(MPI_Iprobe(source, static_cast<int>(tag), comm_, &found, &status), "MPI_Iprobe");
  if (!found) return std::nullopt;
  return status.MPI_SOURCE;
}

namespace {
int64_t all_reduce(MPI_Comm comm, int64_t value, MPI_Op op) {
  int64_t out = 0;
  check_mpi(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, op, comm), "MPI_Allreduce");
  return out;
}
}  // namespace

int64_t Comm::all_reduce_min(int64_t value) const { return all_reduce(comm_, value, MPI_MIN); }
int64_t Comm::all_reduce_max(int64_t value) const { return all_reduce(comm_, value, MPI_MAX); }
int64_t Comm::all_reduce_sum(int64_t value) const { return all_reduce(comm_, value, MPI_SUM); }

}  // namespace loom::mpi
