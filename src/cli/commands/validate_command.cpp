// `loom_mpi validate JOB.yaml [--ranks N]`: checks the job (same validation as run) and prints the plan without
// loading a model: samples per task and length, predicted cost, what each worker group gets under LPT, and the
// predicted makespan against its lower bound. `--keys` prints every job-file key instead. `--dump-prompts FILE`
// also writes every row to run as one JSON line (sample_key, method, input_ids, generation settings), so another
// engine can be timed or checked on exactly the ids loom_mpi would feed (bench/gpu_engine_bench.sh does).
#include "cli/commands/exit_status.h"
#include "cli/job_override_options.h"
#include "common/error.h"
#include "model_card/model_card.h"
#include "model_card/tensor_parallel_check.h"
#include "results/result_store.h"
#include "scheduler/config_paths.h"
#include "scheduler/coordinator.h"
#include "scheduler/job_parser.h"
#include "scheduler/job_schema.h"
#include "scheduler/planner.h"
#include "scheduler/progress.h"
#include "scheduler/work_builder.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <set>

namespace {

namespace fs = std::filesystem;
using namespace loom::scheduler;

struct ValidateOptions {
  std::string job_file;
  int ranks = 1;
  bool keys = false;
  int show_items = 3;
  std::string dump_prompts;
  int threads = 0;  // preparation threads; 0: the host's hardware threads
  JobOverrides overrides;
};

void dump_prompts(const PreparedWork& work, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw loom::InputError(path, 0, "--dump-prompts", "a file that can be written");
  for (const loom::protocol::WorkItem& item : work.items) {
    const loom::protocol::Prompt& prompt = work.prompts.at(item.prompt_id);
    nlohmann::json line = {{"sample_key", item.sample_key},
                           {"method", item.method.label},
                           {"input_ids", prompt.input_ids},
                           {"max_new_tokens", item.generation.max_new_tokens},
                           {"do_sample", item.generation.do_sample},
                           {"temperature", item.generation.temperature},
                           {"top_p", item.generation.top_p},
                           {"top_k", item.generation.top_k},
                           {"ignore_eos", item.generation.ignore_eos},
                           {"prefill_chunk_size", item.generation.prefill_chunk_size}};
    if (!prompt.followup_ids.empty()) line["followup_ids"] = prompt.followup_ids;
    if (prompt.has_chain()) {  // the chained generation's input text around the first output, and its budget
      line["chain_before"] = prompt.chain_before;
      line["chain_after"] = prompt.chain_after;
      line["chain_max_new_tokens"] = prompt.chain_max_new_tokens;
    }
    out << line.dump() << '\n';
  }
  if (!out) throw loom::InputError(path, 0, "--dump-prompts", "a file that can be written (write failed)");
}

void print_keys() {
  for (const KeySpec& spec : job_schema()) {
    std::cout << fmt::format("{:<30} {:<12} {}{}\n", spec.key, spec.default_value.empty() ? "-" : spec.default_value,
                             spec.required ? "(required) " : "", spec.help);
  }
}

// Keys a run would skip: stored rows, except failed ones with attempts left (a run retries them).
std::set<std::string> stored_keys(const fs::path& path, int max_attempts) {
  std::set<std::string> keys;
  if (!fs::exists(path) && !fs::exists(path.string() + ".journal")) return keys;
  for (const auto& row : loom::results::read_rows(path))
    if (row.status == "ok" || row.attempts >= max_attempts) keys.insert(row.sample_key);
  return keys;
}

void validate(const ValidateOptions& options) {
  if (options.keys) return print_keys();
  if (options.ranks < 1) throw loom::InputError("", 0, "--ranks", "a positive number of ranks");
  if (options.threads < 0) throw loom::InputError("", 0, "--threads", "0 (the host's hardware threads) or more");
  const fs::path configs = find_configs_dir(options.job_file);
  const JobConfig job = parse_job_file(options.job_file, {configs, true, options.overrides});
  // The model card: config.json's values are range-checked here too (docs/trust-inputs.md), not only when a rank
  // loads the model; an unsupported architecture or RoPE type is refused here.
  const loom::model::ModelCard card = loom::model::read_model_card(job.model.path);
  loom::parallel::check_tensor_parallel(job.tensor_parallel, options.ranks, loom::parallel::head_counts(card),
                                        options.job_file, card.config_file.string());
  const CostModel cost = load_cost_model(job, configs, card);
  const std::set<std::string> completed =
      job.resume ? stored_keys(job.output_path, job.max_attempts) : std::set<std::string>{};
  const PreparedWork work = prepare_work(job, configs / "benchmarks", cost, completed, nullptr, options.threads);

  std::cout << fmt::format("job {} ({}): model {}, max_context {}, cost profile {}\n", job.name,
                           job.source_file.string(), job.model.path.string(), work.max_context, cost.profile());
  if (!options.overrides.empty()) std::cout << "overrides: " << options.overrides.describe() << "\n";
  std::string methods;
  for (const auto& method : job.methods) methods += (methods.empty() ? "" : ", ") + method.label;
  std::cout << "methods: " << methods << "\n\nsamples per task and length (per method):\n";
  std::cout << fmt::format("  {:<14} {:<24} {:>8} {:>8} {:>12} {:>10} {:>12}\n", "benchmark", "task", "length",
                           "samples", "avg tokens", "truncated", "est. cost");
  for (const CellSummary& cell : work.cells) {
    std::cout << fmt::format("  {:<14} {:<24} {:>8} {:>8} {:>12.0f} {:>10} {:>12}\n", cell.benchmark, cell.task,
                             cell.target_length, cell.samples,
                             static_cast<double>(cell.input_tokens) / std::max<int64_t>(1, cell.samples),
                             cell.truncated, format_duration(cell.predicted_seconds));
  }
  std::cout << fmt::format("\n{} rows ({} samples x {} methods); {} already in {}; {} to run\n", work.total_items,
                           work.total_items / static_cast<int64_t>(job.methods.size()), job.methods.size(),
                           work.skipped_completed, job.output_path.string(), work.items.size());
  if (!work.unprepared.empty()) {
    std::cout << fmt::format("{} rows cannot be prepared; a run stores them as failed (first: {}: {})\n",
                             work.unprepared.size(), work.unprepared.front().sample_key,
                             work.unprepared.front().error);
  }

  const int groups = options.ranks / job.tensor_parallel;
  std::vector<double> costs;
  for (const loom::protocol::WorkItem& item : work.items) costs.push_back(item.predicted_seconds);
  const Plan plan = plan_lpt(costs, groups);
  std::cout << fmt::format("\nplan over {} worker group(s) of {} rank(s) (--ranks {}), longest first:\n", groups,
                           job.tensor_parallel, options.ranks);
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    const GroupPlan& group = plan.groups[g];
    std::cout << fmt::format("  group {} (ranks {}-{}): {} items, predicted {}\n", g, g * job.tensor_parallel,
                             (g + 1) * job.tensor_parallel - 1, group.items.size(), format_duration(group.load));
    for (std::size_t i = 0; i < group.items.size() && static_cast<int>(i) < options.show_items; ++i) {
      const loom::protocol::WorkItem& item = work.items[group.items[i]];
      std::cout << fmt::format("      {} ({} tokens, {})\n", item.sample_key,
                               work.prompts.at(item.prompt_id).input_ids.size(),
                               format_duration(item.predicted_seconds));
    }
    if (static_cast<int>(group.items.size()) > options.show_items) {
      std::cout << fmt::format("      ... {} more\n", group.items.size() - options.show_items);
    }
  }
  std::cout << fmt::format("predicted makespan {} (lower bound {}, total {}); the dispatcher assigns dynamically\n",
                           format_duration(plan.makespan), format_duration(plan.lower_bound),
                           format_duration(plan.total));
  if (!options.dump_prompts.empty()) {
    dump_prompts(work, options.dump_prompts);
    std::cout << fmt::format("{} rows written to {}\n", work.items.size(), options.dump_prompts);
  }
  std::cout << "job is valid\n";
}

}  // namespace

void loom_cli_add_validate(CLI::App& app) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check a job file and print the plan (samples, predicted cost, per-group load, makespan) "
                  "without loading a model.");
  cmd->add_option("job", options->job_file, "job file (YAML, see docs/job-file.md)");
  cmd->add_option("--ranks", options->ranks, "number of MPI ranks to plan for (default 1)");
  cmd->add_option("--show-items", options->show_items, "items listed per group (default 3)");
  cmd->add_flag("--keys", options->keys, "print every job-file key with its default and meaning");
  cmd->add_option("--dump-prompts", options->dump_prompts,
                  "write every row to run (sample_key, method, input_ids, generation settings) as JSON lines");
  cmd->add_option("--threads", options->threads,
                  "threads that prepare the samples (default 0: the host's hardware threads; the output is the same "
                  "for any count)");
  loom::cli::add_job_override_options(cmd, options->overrides);
  cmd->callback([options] {
    if (options->job_file.empty() && !options->keys) {
      throw loom::InputError("", 0, "job", "a job file to validate (or --keys)");
    }
    validate(*options);
  });
}
