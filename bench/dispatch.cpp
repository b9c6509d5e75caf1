// bench/dispatch: the cost of dynamic dispatch. N tiny work items go through the real dispatcher and worker loop
// (rank 0 dispatches on a thread and works on its main thread, as `loom_mpi run` does); the engine does a fixed
// busy-wait per item instead of a model. Prints, per work size, the dispatch overhead per item (wall time beyond
// the ideal items·work/groups, per item) and the fraction of time workers wait.
//   mpirun -np 4 --oversubscribe build/<dir>/bench/dispatch [--items 10000] [--work-us 0,200,1000]
#include "common/mpi/mpi_comm.h"
#include "rank/model/inference_engine.h"
#include "rank/worker/worker_loop.h"
#include "scheduler/dispatcher.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

// An engine that spins for work_us per request, one request per step: the "inference" of this benchmark.
class SpinEngine : public loom::model::InferenceEngine {
 public:
  explicit SpinEngine(double work_us) : work_us_(work_us) {}
  void submit(std::vector<loom::model::InferenceRequest> requests) override {
    for (auto& r : requests) queue_.push_back(std::move(r));
  }
  std::vector<loom::model::InferenceResult> step() override {
    std::vector<loom::model::InferenceResult> results;
    if (queue_.empty()) return results;
    const auto start = Clock::now();
    const auto until = start + std::chrono::duration<double, std::micro>(work_us_);
    while (Clock::now() < until) {
    }
    loom::model::InferenceResult result;
    result.tag = queue_.front().tag;
    result.sample_key = queue_.front().sample_key;
    result.text = "ok";
    queue_.erase(queue_.begin());
    results.push_back(result);
    busy_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
    return results;
  }
  loom::model::EngineLoad load() const override {
    loom::model::EngineLoad load;
    load.running = static_cast<int32_t>(queue_.size());
    load.free_slots = queue_.empty() ? 1 : 0;
    load.free_kv_tokens = int64_t{1} << 40;
    return load;
  }
  bool idle() const override { return queue_.empty(); }
  std::string device_description() const override { return "spin"; }
  double busy_seconds() const { return busy_seconds_; }

 private:
  double work_us_;
  double busy_seconds_ = 0;
  std::vector<loom::model::InferenceRequest> queue_;
};

struct Measurement {
  double wall_seconds = 0;
  double mean_wait_fraction = 0;
  int64_t requests = 0;
};

Measurement measure(const loom::mpi::Comm& world, int items, double work_us) {
  std::vector<int> leaders;
  for (int r = 0; r < world.size(); ++r) leaders.push_back(r);
  const loom::mpi::Comm group = world.split(world.rank(), 0);
  world.barrier();
  const auto start = Clock::now();
  loom::scheduler::DispatchSummary summary;
  std::thread dispatcher;
  if (world.rank() == 0) {
    dispatcher = std::thread([&] {
      loom::protocol::PromptTable prompts;
      std::vector<loom::protocol::WorkItem> work(static_cast<std::size_t>(items));
      for (int i = 0; i < items; ++i) {
        loom::protocol::Prompt prompt;
        prompt.input_ids.assign(16, i);
        work[i].sample_key = "bench/" + std::to_string(i);
        work[i].prompt_id = prompts.add(std::move(prompt));
        work[i].predicted_seconds = 1;
      }
      loom::scheduler::Dispatcher d(world, leaders, std::move(prompts), std::move(work), {}, [](const auto&) {},
                                    nullptr);
      summary = d.run();
    });
  }
  SpinEngine engine(work_us);
  loom::worker::WorkerOptions options;
  options.group_index = world.rank();
  const auto loop_start = Clock::now();
  loom::worker::run_worker_loop(world, group, &engine, "", options);
  const double loop_seconds = std::chrono::duration<double>(Clock::now() - loop_start).count();
  if (dispatcher.joinable()) dispatcher.join();
  world.barrier();
  Measurement m;
  m.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double wait_fraction = loop_seconds > 0 ? 1.0 - engine.busy_seconds() / loop_seconds : 0;
  const auto fractions = world.gather(std::to_string(wait_fraction), 0);
  for (const auto& f : fractions) m.mean_wait_fraction += std::stod(f) / static_cast<double>(fractions.size());
  m.requests = summary.requests;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  loom::mpi::MpiSession session(&argc, &argv, MPI_THREAD_MULTIPLE);
  const loom::mpi::Comm world = loom::mpi::Comm::world();
  int items = 10000;
  std::string work_list = "0,200,1000";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--items") items = std::atoi(argv[i + 1]);
    else if (flag == "--work-us") work_list = argv[i + 1];
  }
  if (world.rank() == 0) {
    std::printf("# bench/dispatch: %d items over %d ranks (rank 0 dispatches on a thread and works), %u hardware "
                "threads\n",
                items, world.size(), std::thread::hardware_concurrency());
    std::printf("%10s %12s %14s %14s %12s\n", "work_us", "wall_s", "ideal_s", "overhead_us", "wait_frac");
  }
  std::stringstream list(work_list);
  std::string token;
  while (std::getline(list, token, ',')) {
    const double work_us = std::stod(token);
    const Measurement m = measure(world, items, work_us);
    if (world.rank() == 0) {
      const double ideal = items * work_us * 1e-6 / world.size();
      const double overhead_us = (m.wall_seconds - ideal) / items * 1e6;
      std::printf("%10.0f %12.3f %14.3f %14.2f %12.3f\n", work_us, m.wall_seconds, ideal, overhead_us,
                  m.mean_wait_fraction);
    }
  }
  return 0;
}
