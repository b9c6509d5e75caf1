// `loom_mpi run JOB.yaml` (also `loom_mpi JOB.yaml`): the whole job on every rank of the MPI world.
//   1. rank 0 reads and validates the job and broadcasts its text; every rank parses it;
//   2. ranks split into tensor-parallel groups of parallel.tensor_parallel consecutive ranks;
//   3. rank 0, on a second thread, opens the results store and prepares the work not yet stored (resume), then
//      runs the dispatcher there (MPI_THREAD_MULTIPLE) while its main thread is a worker like every other rank;
//   4. every rank creates its engine (rank 0 while its second thread prepares), learns the job's longest row from
//      rank 0 (whose worker first waits for the preparation's outcome), makes its KV pool for it and runs the worker
//      loop until the dispatcher stops its group;
//   5. rank 0 closes the store, runs the metrics pass (score table, RESULTS.html unless --no-html) and prints the
//      results path.
// run_job calls one named function per phase (broadcast_job, form_groups, prepare_on_rank0, run_worker,
// finish_on_rank0).
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
#include "metrics/judge/judge_pass.h"
#include "metrics/judge/nli_pass.h"
#include "metrics/report/metrics_pass.h"
#include "model_card/model_card.h"
#include "model_card/tensor_parallel_check.h"
#include "protocol/work_messages.h"
#include "rank/api/openai_engine.h"
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
#include "scheduler/work_builder.h"
#include "text/tokenizer.h"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <exception>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

namespace {

namespace fs = std::filesystem;
using loom::mpi::Comm;

struct RunOptions {
  std::string job_file;
  std::string output;
  std::string log_level;
  double progress_interval_s = 0;
  bool no_html = false;
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

// Phase 1 (every rank): rank 0 reads the job and broadcasts its text; every rank parses it and checks that the
// world fits its tensor_parallel. An exit code when the job cannot run (every rank returns it; rank 0 says why).
std::optional<int> broadcast_job(const Comm& world, const RunOptions& options, JobBroadcast& setup,
                                 loom::scheduler::JobConfig& job) {
  const int rank = world.rank();
  if (rank == 0) setup = read_job_on_rank0(options);
  world.broadcast(setup, 0);
  if (!setup.error.empty()) {
    if (rank == 0) std::fprintf(stderr, "loom_mpi: error: %s\n", setup.error.c_str());
    return setup.code;
  }
  job = loom::scheduler::parse_job_text(setup.text, options.job_file, {setup.configs_dir, false, options.overrides});
  apply_cli_overrides(options, job);
  try {
    loom::parallel::check_tensor_parallel(job.tensor_parallel, world.size(),
                                          loom::parallel::head_counts(loom::model::read_model_card(job.model.path)),
                                          options.job_file, loom::model::config_path(job.model.path).string());
  } catch (const loom::InputError& error) {
    if (rank == 0) std::fprintf(stderr, "loom_mpi: error: %s\n", error.what());
    return 2;
  }
  return std::nullopt;
}

// This rank's place in the world: its tensor-parallel group (tensor_parallel consecutive ranks, led by the first),
// the ranks of its node (for the GPU index), and every group's leader.
struct RankLayout {
  int group_index = 0;
  Comm group;
  Comm node;
  std::vector<int> leaders;
};

// Phase 2 (collective): splits the world into groups and nodes.
RankLayout form_groups(const Comm& world, int tp) {
  RankLayout layout;
  layout.group_index = world.rank() / tp;
  layout.group = world.split(layout.group_index, world.rank());
  layout.node = world.split_shared();
  for (int r = 0; r < world.size(); r += tp) layout.leaders.push_back(r);
  return layout;
}

// The results file's attributes, part 1 (collective): every rank's host and device, gathered on rank 0.
loom::results::JobAttributes gather_hosts(const Comm& world, const loom::scheduler::JobConfig& job) {
  loom::results::JobAttributes attributes;
  attributes.hostnames = world.gather(hostname(), 0);
  attributes.devices = world.gather(device_summary(job.model.device), 0);
  return attributes;
}

// Part 2 (rank 0): the job, the model's config.json, the code's commit.
void describe_job(loom::results::JobAttributes& attributes, const Comm& world, const RunOptions& options,
                  const JobBroadcast& setup, const loom::scheduler::JobConfig& job) {
  attributes.job_yaml = job.text;
  attributes.model_config = loom::model::read_config_text(job.model.path);
  attributes.git_commit = loom::scheduler::read_git_commit(setup.configs_dir);
  attributes.extra["world_size"] = std::to_string(world.size());
  attributes.extra["tensor_parallel"] = std::to_string(job.tensor_parallel);
  attributes.extra["job_file"] = fs::absolute(options.job_file).string();
  if (!options.overrides.empty()) attributes.extra["job_overrides"] = options.overrides.describe();
}

// What every rank learns from rank 0's preparation before it works: why it failed (empty: it did not), and the KV
// tokens of the job's longest row (protocol::item_tokens; 0 when there is no work), which sizes the engines' prefill
// workspace (InferenceEngine::size_kv_pool).
struct PreparationOutcome {
  std::string error;
  int64_t longest_row_tokens = 0;
};

int64_t longest_row_tokens(const loom::scheduler::PreparedWork& work) {
  int64_t longest = 0;
  for (const loom::protocol::WorkItem& item : work.items) {
    longest = std::max(longest, loom::protocol::item_tokens(work.prompts.at(item.prompt_id), item));
  }
  return longest;
}

// Rank 0's preparation, or why it failed (then `prepared` holds no work, so every group is told to stop).
struct Rank0Work {
  std::unique_ptr<loom::scheduler::PreparedJob> prepared;
  std::string error;
  int exit_code = 0;
};

// Phase 3 (rank 0): opens the results store and prepares the work not yet stored.
Rank0Work prepare_on_rank0(const Comm& world, const RunOptions& options, const JobBroadcast& setup,
                           const loom::scheduler::JobConfig& job, loom::results::JobAttributes attributes) {
  Rank0Work work;
  try {
    describe_job(attributes, world, options, setup, job);
    work.prepared = std::make_unique<loom::scheduler::PreparedJob>(
        loom::scheduler::prepare_job(job, setup.configs_dir, attributes));
  } catch (const loom::results::OutputConflict& e) {
    work.error = e.what();
    work.exit_code = 2;
  } catch (const loom::InputError& e) {
    work.error = e.what();
    work.exit_code = 2;
  } catch (const std::exception& e) {
    work.error = loom::describe_exception(e, "preparing the work");
    work.exit_code = 1;
  }
  if (!work.error.empty()) {
    spdlog::error("{}", work.error);
    work.prepared = std::make_unique<loom::scheduler::PreparedJob>();
  }
  return work;
}

// The engine a rank of this job creates; node: the ranks of this rank's node (its GPU index and CPU share).
loom::model::EngineOptions engine_options_for(const loom::scheduler::JobConfig& job, const Comm& node) {
  loom::model::EngineOptions options;
  options.model_dir = job.model.path;
  options.device = job.model.device;
  options.dtype = job.model.dtype;
  options.max_batch_size = job.model.max_batch_size;
  options.max_context = job.model.max_context;
  options.kv_cache_memory = job.model.kv_cache_memory;
  options.kv_page_size = job.model.kv_page_size;
  options.cuda_graphs = job.model.cuda_graphs;
  options.prefill_attention = job.model.prefill_attention;
  options.local_device_index = node.rank();
  options.cpu_threads = job.model.cpu_threads > 0 ? job.model.cpu_threads : loom::model::auto_cpu_threads(node.size());
  // A job of the full cache alone needs one dense copy of a prompt beside the pool (engine.cpp's kv_budget).
  const bool full_only = std::all_of(job.methods.begin(), job.methods.end(),
                                     [](const loom::MethodSpec& method) { return method.name == "full"; });
  options.prefill_cache_copies = full_only ? 1 : 2;
  options.prefill_chunk_tokens = job.generation.prefill_chunk_size.value_or(0);
  options.defer_kv_pool = true;  // run_worker sizes it for the job's longest row
  return options;
}

// backend openai: the rank's API engine (its tokenizer counts output tokens; the key is read from the variable the
// job names, checked when the job was parsed). Errors are returned as text, like create_rank_engine's.
loom::worker::EngineSetup create_api_engine(const loom::scheduler::JobConfig& job, int world_rank) {
  loom::worker::EngineSetup setup;
  try {
    loom::api::OpenAiOptions options;
    options.base_url = job.model.base_url;
    options.model = job.model.api_model;
    if (!job.model.api_key_env.empty()) {
      const char* key = std::getenv(job.model.api_key_env.c_str());
      if (!key) throw loom::Error("model.api_key_env: " + job.model.api_key_env + " is not set on this rank");
      options.api_key = key;
    }
    options.max_in_flight = job.model.max_in_flight;
    options.timeout_s = job.model.timeout_s;
    options.retry.max_retries = job.model.max_retries;
    options.seed = static_cast<uint64_t>(world_rank);
    setup.engine = std::make_unique<loom::api::OpenAiEngine>(options, loom::text::load_tokenizer(job.model.path));
    spdlog::info("engine ready: {}", setup.engine->device_description());
  } catch (const std::exception& e) {
    setup.error = loom::describe_exception(e, "starting the API engine");
    spdlog::error("could not create the API engine: {}", setup.error);
  }
  return setup;
}

// The model's tokenizer for chained generations' inputs (worker_loop.h), loaded on first use: most jobs have none.
loom::worker::TextEncoder chained_input_encoder(const std::filesystem::path& model_dir) {
  auto tokenizer = std::make_shared<std::unique_ptr<loom::text::Tokenizer>>();
  return [model_dir, tokenizer](const std::string& text, bool add_special_tokens) {
    if (!*tokenizer) *tokenizer = loom::text::load_tokenizer(model_dir);
    return (*tokenizer)->encode(text, add_special_tokens);
  };
}

// Phase 4 (every rank): creates the engine (on rank 0 while its other thread prepares the job) and learns the KV
// tokens of the job's longest row from rank 0, which waits for its preparation: when that failed, rank 0's group
// reports it instead of working. A group whose ranks all loaded makes its engines' KV pools for that row. Then runs
// the worker loop until the dispatcher stops this group. An internal failure aborts the MPI job (stored rows are
// kept). rank0_outcome: rank 0's preparation outcome once known (blocks until then); called on rank 0 only.
void run_worker(const Comm& world, const RankLayout& layout, const loom::scheduler::JobConfig& job,
                const std::function<PreparationOutcome()>& rank0_outcome) {
  try {
    loom::worker::EngineSetup engine =
        job.model.backend == "openai"
            ? create_api_engine(job, world.rank())
            : loom::worker::create_rank_engine(engine_options_for(job, layout.node), layout.group);
    PreparationOutcome preparation;
    if (world.rank() == 0) preparation = rank0_outcome();
    world.broadcast(preparation.longest_row_tokens, 0, loom::mpi::WaitPolicy::patient());
    if (!preparation.error.empty()) engine.error = "the job could not be prepared: " + preparation.error;
    std::string load_error = loom::worker::agree_on_load(layout.group, engine.error);
    if (load_error.empty()) {  // every rank of the group has its engine: each makes its pool (they agree on it)
      std::string pool_error;
      try {
        engine.engine->size_kv_pool(preparation.longest_row_tokens);
      } catch (const std::exception& e) {
        pool_error = loom::describe_exception(e, "allocating the KV cache");
        spdlog::error("{}", pool_error);
      }
      load_error = loom::worker::agree_on_load(layout.group, pool_error);
    }
    loom::worker::run_worker_loop(
        world, layout.group, engine.engine.get(), load_error,
        {layout.group_index, 0, loom::mpi::WaitPolicy::patient(), chained_input_encoder(job.model.path)});
  } catch (const std::exception& e) {
    spdlog::critical("worker failed: {}; aborting (stored rows are kept; rerun to resume)", e.what());
    world.abort(1);
  }
}

// Phase 5 (rank 0, after every group stopped): closes the store, runs the metrics pass and returns the exit code
// (docs/trust.md): 1 when a group could not work or rows were not run, else 3 when rows of the job failed.
int finish_on_rank0(const loom::scheduler::JobConfig& job, const loom::scheduler::PreparedJob& prepared,
                    const loom::scheduler::DispatchSummary& summary, bool write_html) {
  try {
    prepared.store->close();
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "loom_mpi: error: the results file could not be written: %s\nEvery stored row is kept in %s; free "
                 "space and rerun the same command to resume.\n",
                 e.what(), loom::results::journal_path_for(job.output_path).string().c_str());
    return 1;
  }
  int exit_code = 0;
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
  if (job.judge.enabled()) loom::metrics::judge::run_judge_pass(job.output_path, job.judge, std::cout);
  if (job.judge.nli.enabled()) {
    try {
      loom::metrics::judge::run_nli_pass(job.output_path, job.judge, std::cout);
    } catch (const loom::Error& e) {
      // A local NLI model that cannot be loaded (its files are checked before the run, their contents only now):
      // the rows are stored and the report still comes; the citation metrics say the checks were not answered.
      std::fprintf(stderr, "loom_mpi: error: the NLI pass did not run: %s\n", e.what());
      exit_code = 1;
    }
  }
  loom::metrics::report::MetricsPassOptions report_options;
  report_options.write_html = write_html;
  report_options.judge_configured = job.judge.enabled();
  report_options.judge_model = job.judge.model;
  report_options.judge_metrics = job.judge.metrics;
  report_options.nli_configured = job.judge.nli.enabled();
  report_options.nli_model = job.judge.nli.model;
  loom::metrics::report::run_metrics_pass(job.output_path, std::cout, report_options);
  std::cout << "\nresults: " << fs::absolute(job.output_path).string() << "\n";
  if (summary.failed > 0) std::cout << "failed samples this run: " << summary.failed << "\n";
  const loom::scheduler::FailureSummary failures =
      loom::scheduler::summarize_failures(prepared.store->rows(), prepared.work.fingerprints, job.max_attempts);
  if (failures.failed > 0) {
    std::cout.flush();
    std::fprintf(stderr, "loom_mpi: %s", loom::scheduler::describe_failures(failures, job.max_attempts).c_str());
    if (exit_code == 0) exit_code = 3;
  }
  return exit_code;
}

int run_job(const RunOptions& options) {
  loom::mpi::MpiSession session(nullptr, nullptr, MPI_THREAD_MULTIPLE);
  const Comm world = Comm::world();
  const int rank = world.rank();
  JobBroadcast setup;
  loom::scheduler::JobConfig job;
  if (const std::optional<int> refused = broadcast_job(world, options, setup, job)) return *refused;
  if (session.provided() < MPI_THREAD_MULTIPLE) {
    if (rank == 0) {
      std::fprintf(stderr, "loom_mpi: error: the MPI library does not provide MPI_THREAD_MULTIPLE, which rank 0 "
                           "needs to dispatch and work at once\n");
    }
    return 1;
  }
  loom::init_logging({rank, rank / job.tensor_parallel, job.log_level, job.log_first_rank_only});
  const RankLayout layout = form_groups(world, job.tensor_parallel);
  loom::results::JobAttributes attributes = gather_hosts(world, job);

  // Rank 0 prepares the work on a second thread, then dispatches it there, while its main thread loads the model
  // (as every rank does meanwhile) and then works like every rank. The worker waits for the preparation's outcome
  // before its first request; a failed preparation is reported as today, after the model has loaded.
  Rank0Work rank0;
  loom::scheduler::DispatchSummary summary;
  std::thread dispatcher;
  std::promise<PreparationOutcome> prepared;
  std::future<PreparationOutcome> preparation = prepared.get_future();
  if (rank == 0) {
    dispatcher = std::thread([&] {
      try {
        rank0 = prepare_on_rank0(world, options, setup, job, std::move(attributes));
      } catch (...) {  // prepare_on_rank0 answers std::exceptions itself
        rank0.error = "preparing the work failed with an unknown exception";
        rank0.exit_code = 1;
        rank0.prepared = std::make_unique<loom::scheduler::PreparedJob>();
      }
      prepared.set_value({rank0.error, longest_row_tokens(rank0.prepared->work)});
      try {
        summary = loom::scheduler::dispatch_job(world, layout.leaders, *rank0.prepared, job.progress_interval_s);
      } catch (const std::exception& e) {
        spdlog::critical("dispatcher failed: {}; aborting (stored rows are kept; rerun to resume)", e.what());
        world.abort(1);
      }
    });
  }
  run_worker(world, layout, job, [&] { return preparation.get(); });
  if (rank != 0) return 0;

  dispatcher.join();
  if (!rank0.error.empty()) {
    std::fprintf(stderr, "loom_mpi: error: %s\n", rank0.error.c_str());
    return rank0.exit_code;
  }
  return finish_on_rank0(job, *rank0.prepared, summary, !options.no_html);
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
  run->add_flag("--no-html", options->no_html, "do not write the HTML report next to the results (RESULTS.html)");
  loom::cli::add_job_override_options(run, options->overrides);
  run->callback([options] {
    const int code = run_job(*options);
    if (code != 0) throw loom::cli::ExitStatus{code};
  });
}
