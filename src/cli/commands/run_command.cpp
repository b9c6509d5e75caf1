// `loom_mpi run JOB.yaml` (also `loom_mpi JOB.yaml`): the whole job on every rank of the MPI world.
//   1. rank 0 reads and validates the job and broadcasts its text; every rank parses it;
//   2. ranks split into tensor-parallel groups of parallel.tensor_parallel consecutive ranks;
//   3. rank 0 opens the results store and prepares the work not yet stored (resume), then runs the dispatcher on
//      a second thread (MPI_THREAD_MULTIPLE) while its main thread is a worker like every other rank;
//   4. every rank creates its engine and runs the worker loop until the dispatcher stops its group;
//   5. rank 0 closes the store, runs the metrics pass (score table) and prints the results path.
// Exit codes (docs/trust.md): 0 every row of the job is stored ok; 1 a group could not work, rows were not run or a
// step failed (the results file could not be written, ...); 2 bad input, or an output that another live job holds
// or whose rows another run made; 3 the run ended with failed rows (a summary names how many and why; reruns retry
// them up to max_attempts). Errors are printed once, by rank 0.
#include "cli/commands/exit_status.h"
#include "cli/job_override_options.h"
#include "common/error.h"
#include "common/exception_text.h"
#include "common/log.h"
#include "common/mpi/mpi_comm.h"
#include "metrics/report/metrics_pass.h"
#include "model_card/model_card.h"
#include "model_card/tensor_parallel_check.h"
#include "rank/model/cpu_threads.h"
#include "rank/worker/engine_setup.h"
#include "rank/worker/worker_loop.h"
#include "results/journal.h"
#include "results/writer_lock.h"
#include "scheduler/config_paths.h"
#include "scheduler/coordinator.h"
#include "scheduler/cost_model.h"
#include "scheduler/failure_summary.h"
#include "scheduler/job_parser.h"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <iterator>
#include <exception>
#include <iostream>
#include <memory>
#include <thread>

namespace {

namespace fs = std::filesystem;
using loom::mpi::Comm;

struct RunOptions {
  std::string job_file;
  std::string output;
  std::string log_level;
  double progress_interval_s = 0;
  loom::scheduler::JobOverrides overrides;
};

// What rank 0 tells every rank after reading the job.
struct JobBroadcast {
  std::string text;
  std::string configs_dir;
  std::string error;  // non-empty: every rank exits with `code`
  int code = 0;

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & text & configs_dir & error & code;
  }
};

std::string hostname() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

std::string device_summary(const std::string& device) {
  const auto gpus = loom::scheduler::detect_gpu_models();
  if (device == "cpu" || gpus.empty()) return "cpu";
  std::string all;
  for (const auto& gpu : gpus) all += (all.empty() ? "" : ", ") + gpu;
  return all;
}

JobBroadcast read_job_on_rank0(const RunOptions& options) {
  JobBroadcast message;
  try {
    const fs::path configs = loom::scheduler::find_configs_dir(options.job_file);
    const auto job = loom::scheduler::parse_job_file(options.job_file, {configs, true, options.overrides});
    loom::model::read_model_card(job.model.path);  // out-of-range config.json values: exit 2 before any work
    message.text = job.text;
    message.configs_dir = configs.string();
  } catch (const loom::InputError& e) {
    message.error = e.what();
    message.code = 2;
  } catch (const std::exception& e) {
    message.error = loom::describe_exception(e, "reading the job");
    message.code = 1;
  }
  return message;
}

void apply_cli_overrides(const RunOptions& options, loom::scheduler::JobConfig& job) {
  if (!options.output.empty()) job.output_path = options.output;
  if (!options.log_level.empty()) job.log_level = options.log_level;
  if (options.progress_interval_s > 0) job.progress_interval_s = options.progress_interval_s;
}

int run_job(const RunOptions& options) {
  loom::mpi::MpiSession session(nullptr, nullptr, MPI_THREAD_MULTIPLE);
  const Comm world = Comm::world();
  const int rank = world.rank();

  JobBroadcast setup;
  if (rank == 0) setup = read_job_on_rank0(options);
  world.broadcast(setup, 0);
  if (!setup.error.empty()) {
    if (rank == 0) std::fprintf(stderr, "loom_mpi: error: %s\n", setup.error.c_str());
    return setup.code;
  }
  loom::scheduler::JobConfig job =
      loom::scheduler::parse_job_text(setup.text, options.job_file, {setup.configs_dir, false, options.overrides});
  apply_cli_overrides(options, job);
  const int tp = job.tensor_parallel;
  try {
    loom::parallel::check_tensor_parallel(tp, world.size(),
                                          loom::parallel::head_counts(loom::model::read_model_card(job.model.path)),
                                          options.job_file, loom::model::config_path(job.model.path).string());
  } catch (const loom::InputError& error) {
    if (rank == 0) std::fprintf(stderr, "loom_mpi: error: %s\n", error.what());
    return 2;
  }
  if (session.provided() < MPI_THREAD_MULTIPLE) {
    if (rank == 0) {
      std::fprintf(stderr, "loom_mpi: error: the MPI library does not provide MPI_THREAD_MULTIPLE, which rank 0 "
                           "needs to dispatch and work at once\n");
    }
    return 1;
  }
  const int group_index = rank / tp;
  loom::init_logging({rank, group_index, job.log_level, job.log_first_rank_only});
  const Comm group = world.split(group_index, rank);
  const Comm node = world.split_shared();
  std::vector<int> leaders;
  for (int r = 0; r < world.size(); r += tp) leaders.push_back(r);

  loom::results::JobAttributes attributes;
  attributes.hostnames = world.gather(hostname(), 0);
  attributes.devices = world.gather(device_summary(job.model.device), 0);

  // Rank 0: store + work, then the dispatcher thread.
  std::unique_ptr<loom::scheduler::PreparedJob> prepared;
  std::string rank0_error;
  int exit_code = 0;
  if (rank == 0) {
    try {
      attributes.job_yaml = job.text;
      attributes.model_config = loom::model::read_config_text(job.model.path);
      attributes.git_commit = loom::scheduler::read_git_commit(setup.configs_dir);
      attributes.extra["world_size"] = std::to_string(world.size());
      attributes.extra["tensor_parallel"] = std::to_string(tp);
      attributes.extra["job_file"] = fs::absolute(options.job_file).string();
      if (!options.overrides.empty()) attributes.extra["job_overrides"] = options.overrides.describe();
      prepared = std::make_unique<loom::scheduler::PreparedJob>(
          loom::scheduler::prepare_job(job, setup.configs_dir, attributes));
    } catch (const loom::results::OutputConflict& e) {
      rank0_error = e.what();
      exit_code = 2;
    } catch (const loom::InputError& e) {
      rank0_error = e.what();
      exit_code = 2;
    } catch (const std::exception& e) {
      rank0_error = loom::describe_exception(e, "preparing the work");
      exit_code = 1;
    }
    if (!rank0_error.empty()) {
      spdlog::error("{}", rank0_error);
      prepared = std::make_unique<loom::scheduler::PreparedJob>();  // no work: every group is told to stop
    }
  }
  loom::scheduler::DispatchSummary summary;
  std::thread dispatcher;
  if (rank == 0) {
    dispatcher = std::thread([&] {
      try {
        summary = loom::scheduler::dispatch_job(world, leaders, *prepared, job.progress_interval_s);
      } catch (const std::exception& e) {
        spdlog::critical("dispatcher failed: {}; aborting (stored rows are kept; rerun to resume)", e.what());
        world.abort(1);
      }
    });
  }

  // Every rank: engine + worker loop.
  try {
    loom::worker::EngineSetup engine;
    if (rank0_error.empty()) {
      loom::model::EngineOptions engine_options;
      engine_options.model_dir = job.model.path;
      engine_options.device = job.model.device;
      engine_options.dtype = job.model.dtype;
      engine_options.max_batch_size = job.model.max_batch_size;
      engine_options.max_context = job.model.max_context;
      engine_options.kv_cache_memory = job.model.kv_cache_memory;
      engine_options.kv_page_size = job.model.kv_page_size;
      engine_options.cuda_graphs = job.model.cuda_graphs;
      engine_options.prefill_attention = job.model.prefill_attention;
      engine_options.local_device_index = node.rank();
      engine_options.cpu_threads =
          job.model.cpu_threads > 0 ? job.model.cpu_threads : loom::model::auto_cpu_threads(node.size());
      engine = loom::worker::create_rank_engine(engine_options, group);
    } else {
      engine.error = "the job could not be prepared: " + rank0_error;
    }
    const std::string load_error = loom::worker::agree_on_load(group, engine.error);
    loom::worker::run_worker_loop(world, group, engine.engine.get(), load_error,
                                  {group_index, 0, loom::mpi::WaitPolicy::patient()});
  } catch (const std::exception& e) {
    spdlog::critical("worker failed: {}; aborting (stored rows are kept; rerun to resume)", e.what());
    world.abort(1);
  }
  if (rank != 0) return 0;

  dispatcher.join();
  if (!rank0_error.empty()) {
    std::fprintf(stderr, "loom_mpi: error: %s\n", rank0_error.c_str());
    return exit_code;
  }
  try {
    prepared->store->close();
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "loom_mpi: error: the results file could not be written: %s\nEvery stored row is kept in %s; free "
                 "space and rerun the same command to resume.\n",
                 e.what(), loom::results::journal_path_for(job.output_path).string().c_str());
    return 1;
  }
  for (const std::string& device : summary.devices) spdlog::info("device of {}", device);
  if (!summary.fatal_errors.empty()) {
    for (const std::string& error : summary.fatal_errors) std::fprintf(stderr, "loom_mpi: %s\n", error.c_str());
    exit_code = 1;
  }
  if (summary.undone > 0) {
    std::fprintf(stderr, "loom_mpi: %lld samples were not run (no worker group could run them); rerun to resume\n",
                 static_cast<long long>(summary.undone));
    exit_code = 1;
  }
  std::cout << "\n";
  loom::metrics::report::run_metrics_pass(job.output_path, std::cout);
  std::cout << "\nresults: " << fs::absolute(job.output_path).string() << "\n";
  if (summary.failed > 0) std::cout << "failed samples this run: " << summary.failed << "\n";
  const loom::scheduler::FailureSummary failures =
      loom::scheduler::summarize_failures(prepared->store->rows(), prepared->work.fingerprints, job.max_attempts);
  if (failures.failed > 0) {
    std::cout.flush();
    std::fprintf(stderr, "loom_mpi: %s", loom::scheduler::describe_failures(failures, job.max_attempts).c_str());
    if (exit_code == 0) exit_code = 3;
  }
  return exit_code;
}

}  // namespace

void loom_cli_add_run(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand(
      "run",
      "Run a job (also: loom_mpi JOB.yaml). Under mpirun every rank runs this; rank 0 dispatches and also works.\n"
      "Rerunning a killed job resumes it (resume: true): samples already in the results file are skipped.");
  run->add_option("job", options->job_file, "job file (YAML, see docs/job-file.md)")->required();
  run->add_option("--output", options->output, "results file; overrides output.path");
  run->add_option("--log-level", options->log_level, "trace|debug|info|warn|error|off; overrides logging.level");
  run->add_option("--progress-interval", options->progress_interval_s,
                  "seconds between progress lines; overrides output.progress_interval_s");
  loom::cli::add_job_override_options(run, options->overrides);
  run->callback([options] {
    const int code = run_job(*options);
    if (code != 0) throw loom::cli::ExitStatus{code};
  });
}
