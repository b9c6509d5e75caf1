// The typed MPI layer under mpirun -np 1, 2 and 4: typed send/recv (including chunked payloads), broadcast,
// split into groups and any-source receive. Every rank runs the same GoogleTest cases; the exit code is the
// maximum over ranks.
#include "common/mpi/mpi_comm.h"
#include "protocol/work_messages.h"

#include <gtest/gtest.h>

#include <numeric>
#include <set>

using loom::mpi::Comm;
using loom::mpi::MessageTag;
using loom::mpi::WaitPolicy;
using loom::protocol::WorkAssignment;

namespace {

// A one-item assignment whose prompt has `tokens` ids.
WorkAssignment make_item(int index, std::size_t tokens) {
  WorkAssignment assignment;
  assignment.prompts.resize(1);
  assignment.prompts[0].id = index;
  assignment.prompts[0].input_ids.resize(tokens);
  std::iota(assignment.prompts[0].input_ids.begin(), assignment.prompts[0].input_ids.end(), index);
  assignment.items.resize(1);
  auto& item = assignment.items[0];
  item.sample_key = "bench/task/" + std::to_string(index);
  item.prompt_id = index;
  item.method.name = "snapkv";
  item.method.params_json = R"({"compression_ratio":0.5})";
  item.generation.max_new_tokens = 7 + index;
  return assignment;
}

TEST(Comm, RingSendRecvTyped) {
  Comm world = Comm::world();
  const int next = (world.rank() + 1) % world.size();
  const int prev = (world.rank() + world.size() - 1) % world.size();
  // Standard-mode sends may block until matched, so even ranks send first.
  WorkAssignment received;
  int source = -1;
  if (world.rank() % 2 == 0 || world.size() == 1) {
    if (world.size() == 1) {
      // A message to oneself needs a buffered path: use a tiny payload that MPI sends eagerly.
      world.send(make_item(world.rank(), 16), next, MessageTag::kTest);
      received = world.recv<WorkAssignment>(prev, MessageTag::kTest, &source);
    } else {
      world.send(make_item(world.rank(), 1000), next, MessageTag::kTest);
      received = world.recv<WorkAssignment>(prev, MessageTag::kTest, &source);
    }
  } else {
    received = world.recv<WorkAssignment>(prev, MessageTag::kTest, &source);
    world.send(make_item(world.rank(), 1000), next, MessageTag::kTest);
  }
  EXPECT_EQ(source, prev);
  const WorkAssignment expected = make_item(prev, world.size() == 1 ? 16 : 1000);
  ASSERT_EQ(received.items.size(), 1u);
  ASSERT_EQ(received.prompts.size(), 1u);
  EXPECT_EQ(received.items[0].sample_key, expected.items[0].sample_key);
  EXPECT_EQ(received.items[0].prompt_id, prev);
  EXPECT_EQ(received.prompts[0].input_ids, expected.prompts[0].input_ids);
  EXPECT_EQ(received.items[0].method.params_json, expected.items[0].method.params_json);
  EXPECT_EQ(received.items[0].generation.max_new_tokens, expected.items[0].generation.max_new_tokens);
}

TEST(Comm, ChunkedMessagesArriveWhole) {
  Comm world = Comm::world();
  world.set_max_chunk_bytes(64);  // a 4,000-token item spans hundreds of MPI messages
  if (world.size() == 1) GTEST_SKIP() << "needs two ranks";
  if (world.rank() == 1) {
    world.send(make_item(1, 4000), 0, MessageTag::kTest);
    auto reply = world.recv<std::vector<int32_t>>(0, MessageTag::kTestReply);
    EXPECT_EQ(reply.size(), 4000u);
  } else if (world.rank() == 0) {
    int source = -1;
    auto item = world.recv<WorkAssignment>(MPI_ANY_SOURCE, MessageTag::kTest, &source, WaitPolicy::busy());
    EXPECT_EQ(source, 1);
    EXPECT_EQ(item.prompts.at(0).input_ids, make_item(1, 4000).prompts[0].input_ids);
    world.send(item.prompts.at(0).input_ids, 1, MessageTag::kTestReply);
  }
}

TEST(Comm, BroadcastAndChunkedBroadcast) {
  Comm world = Comm::world();
  for (std::size_t chunk : {std::size_t{1} << 30, std::size_t{100}}) {
    world.set_max_chunk_bytes(chunk);
    std::vector<WorkAssignment> batch;
    if (world.rank() == 0) batch = {make_item(3, 500), make_item(4, 10)};
    world.broadcast(batch, 0);
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[0].prompts.at(0).input_ids, make_item(3, 500).prompts[0].input_ids);
    EXPECT_EQ(batch[1].items.at(0).sample_key, make_item(4, 10).items[0].sample_key);
  }
}

TEST(Comm, SplitIntoGroupsOfTwo) {
  Comm world = Comm::world();
  Comm group = world.split(world.rank() / 2, world.rank());
  EXPECT_EQ(group.rank(), world.rank() % 2);
  EXPECT_EQ(group.size(), std::min(2, world.size() - (world.rank() / 2) * 2));
  // The group leader's world rank reaches every member.
  int64_t leader = world.rank();
  std::string payload = std::to_string(leader);
  group.broadcast(payload, 0, WaitPolicy::busy());
  EXPECT_EQ(std::stoi(payload), (world.rank() / 2) * 2);
  EXPECT_EQ(group.all_reduce_sum(1), group.size());
  Comm moved = std::move(group);
  EXPECT_FALSE(group.valid());
  EXPECT_TRUE(moved.valid());
}

TEST(Comm, AnySourceGathersEveryRankOnce) {
  Comm world = Comm::world();
  if (world.rank() != 0) {
    world.send(world.rank(), 0, MessageTag::kTest);
  } else {
    std::set<int> seen;
    for (int i = 1; i < world.size(); ++i) {
      int source = -1;
      const int value = world.recv<int>(MPI_ANY_SOURCE, MessageTag::kTest, &source);
      EXPECT_EQ(value, source);
      seen.insert(source);
    }
    EXPECT_EQ(static_cast<int>(seen.size()), world.size() - 1);
    EXPECT_FALSE(world.iprobe(MPI_ANY_SOURCE, MessageTag::kTest).has_value());
  }
  world.barrier();
}

TEST(Comm, GatherStringsAndSharedSplit) {
  Comm world = Comm::world();
  const auto values = world.gather(std::string(static_cast<std::size_t>(world.rank()), 'x'), 0);
  if (world.rank() == 0) {
    ASSERT_EQ(static_cast<int>(values.size()), world.size());
    for (int i = 0; i < world.size(); ++i) EXPECT_EQ(values[i], std::string(static_cast<std::size_t>(i), 'x'));
  } else {
    EXPECT_TRUE(values.empty());
  }
  Comm node = world.split_shared();
  EXPECT_EQ(node.size(), world.size());  // one host in CI
}

}  // namespace

int main(int argc, char** argv) {
  loom::mpi::MpiSession session(&argc, &argv, MPI_THREAD_MULTIPLE);
  ::testing::InitGoogleTest(&argc, argv);
  if (Comm::world().rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int failed = RUN_ALL_TESTS();
  return static_cast<int>(Comm::world().all_reduce_max(failed));
}
