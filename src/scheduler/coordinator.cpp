#include "scheduler/coordinator.h"

#include "common/error.h"

#include "results/writer_lock.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <numeric>
#include <set>

namespace loom::scheduler {

namespace fs = std::filesystem;

CostModel load_cost_model(const JobConfig& job, const fs::path& configs_dir, const model::ModelCard& card) {
  return CostModel::load(configs_dir / "cost_model.yaml", job.cost_profile, job.model.device, model_shape(card),
                         job.tensor_parallel);
}

namespace {

const char* kRunIdentityAttribute = "run_identity";

std::map<std::string, std::string> parse_descriptions(const results::JobAttributes& attributes) {
  std::map<std::string, std::string> out;
  const auto it = attributes.extra.find(kRunIdentityAttribute);
  if (it == attributes.extra.end()) return out;
  const nlohmann::json parsed = nlohmann::json::parse(it->second, nullptr, false);
  if (!parsed.is_object()) return out;
  for (const auto& [key, value] : parsed.items())
    if (value.is_string()) out[key] = value.get<std::string>();
  return out;
}

std::string describe(const std::map<std::string, std::string>& descriptions, const std::string& component,
                     const std::string& hash) {
  if (hash.empty()) return "none recorded";
  const auto it = descriptions.find(component + "=" + hash);
  return it == descriptions.end() ? "hash " + hash : it->second + " [" + hash + "]";
}

// The file's run_identity attribute: descriptions of every component hash its rows (and this job) carry.
std::string merged_descriptions(const std::vector<results::ResultRow>& stored,
                                const std::map<std::string, std::string>& job_fingerprints,
                                const std::map<std::string, std::string>& old_descriptions,
                                const std::map<std::string, std::string>& new_descriptions) {
  std::set<std::string> present;
  auto add = [&](const std::string& fingerprint) {
    for (const auto& [component, hash] : parse_fingerprint(fingerprint)) present.insert(component + "=" + hash);
  };
  for (const results::ResultRow& row : stored) add(row.fingerprint);
  for (const auto& [key, fingerprint] : job_fingerprints) add(fingerprint);
  nlohmann::json out = nlohmann::json::object();
  for (const auto* source : {&old_descriptions, &new_descriptions})
    for (const auto& [key, text] : *source)
      if (present.count(key)) out[key] = text;
  return out.dump();
}

}  // namespace

void check_run_identity(const fs::path& output, const std::vector<results::ResultRow>& stored,
                        const std::map<std::string, std::string>& job_fingerprints, const RunIdentity& identity,
                        const std::map<std::string, std::string>& stored_descriptions) {
  const std::string job_level =
      fmt::format("model={};tokenizer={};version={}", identity.model(), identity.tokenizer(), identity.version());
  struct Change {
    int64_t rows = 0;
    std::string stored;
    std::string current;
  };
  std::map<std::string, Change> changes;
  int64_t mismatched = 0;
  int64_t unidentified = 0;
  for (const results::ResultRow& row : stored) {
    const auto it = job_fingerprints.find(row.sample_key);
    if (row.fingerprint.empty()) {
      ++unidentified;
      continue;
    }
    const std::string& current = it != job_fingerprints.end() ? it->second : job_level;
    const auto old_parts = parse_fingerprint(row.fingerprint);
    const auto new_parts = parse_fingerprint(current);
    bool differs = false;
    for (const auto& [component, hash] : new_parts) {
      const auto old = old_parts.find(component);
      const std::string old_hash = old == old_parts.end() ? std::string() : old->second;
      if (old_hash == hash) continue;
      differs = true;
      Change& change = changes[component];
      if (change.rows++ == 0) {
        change.stored = old_hash;
        change.current = hash;
      }
    }
    if (differs) ++mismatched;
  }
  if (mismatched == 0 && unidentified == 0) return;

  std::string message = fmt::format("cannot resume {}: it holds {} rows made by a different run than this job:",
                                    output.string(), mismatched + unidentified);
  if (unidentified > 0)
    message += fmt::format("\n  {} rows carry no run identity (written before loom_mpi recorded one)", unidentified);
  for (const char* component : kFingerprintComponents) {
    const auto it = changes.find(component);
    if (it == changes.end()) continue;
    const Change& change = it->second;
    if (std::string(component) == "prompt") {
      message += fmt::format("\n  prompt of {} rows: their input tokens or references differ (benchmark options, "
                             "data files, max_context or chat template changed)",
                             change.rows);
      continue;
    }
    message += fmt::format("\n  {} of {} rows changed: stored {}; this job {}", component, change.rows,
                           describe(stored_descriptions, component, change.stored),
                           describe(identity.descriptions(), component, change.current));
  }
  message += "\nNothing was changed. To start over, set `resume: false` (the old file is kept beside it as "
             "<name>.old-<time>.h5); or give this job another output path (output.path or --output).";
  throw results::OutputConflict(message);
}

PreparedJob prepare_job(const JobConfig& job, const fs::path& configs_dir, const results::JobAttributes& attributes) {
  PreparedJob prepared;
  prepared.cost = load_cost_model(job, configs_dir, model::read_model_card(job.model.path));
  RunIdentity identity = RunIdentity::of_job(job);
  results::StoreOptions options;
  options.start_fresh = !job.resume;
  prepared.store = results::ResultStore::open(job.output_path, attributes, options);
  if (!prepared.store->moved_aside().empty())
    spdlog::info("resume: false; the previous results are kept as {}", prepared.store->moved_aside().string());

  // Stored rows are done, except failed ones that have attempts left: those are run again.
  const std::vector<results::ResultRow>& stored = prepared.store->rows();
  std::set<std::string> completed;
  std::map<std::string, int32_t> retry_attempts;
  for (const results::ResultRow& row : stored) {
    if (row.status != "ok" && row.attempts < job.max_attempts) {
      retry_attempts[row.sample_key] = row.attempts;
    } else {
      completed.insert(row.sample_key);
    }
  }
  prepared.work = prepare_work(job, configs_dir / "benchmarks", prepared.cost, completed, &identity);
  const auto stored_descriptions = parse_descriptions(prepared.store->attributes());
  check_run_identity(job.output_path, stored, prepared.work.fingerprints, identity, stored_descriptions);
  for (const auto& [key, attempts] : retry_attempts) {
    const auto it = prepared.work.rows.find(key);
    if (it == prepared.work.rows.end()) continue;  // not part of this job
    it->second.attempts = attempts + 1;
    ++prepared.retried;
  }

  results::JobAttributes accepted = attributes;
  accepted.extra[kRunIdentityAttribute] =
      merged_descriptions(stored, prepared.work.fingerprints, stored_descriptions, identity.descriptions());
  prepared.store->set_attributes(accepted);
  spdlog::info("{} samples x {} methods = {} rows; {} already in {}; {} to run, of which {} failed before "
               "(cost profile {})",
               prepared.work.total_items / std::max<std::size_t>(1, job.methods.size()), job.methods.size(),
               prepared.work.total_items, prepared.work.skipped_completed, job.output_path.string(),
               prepared.work.items.size(), prepared.retried, prepared.cost.profile());
  if (!prepared.work.unprepared.empty()) {
    spdlog::warn("{} rows cannot be prepared and are stored as failed (first: {}: {})",
                 prepared.work.unprepared.size(), prepared.work.unprepared.front().sample_key,
                 prepared.work.unprepared.front().error);
  }
  return prepared;
}

results::ResultRow make_row(results::ResultRow row, const protocol::WorkOutcome& outcome) {
  row.context_length = outcome.cost.input_tokens;
  row.prediction = outcome.prediction;
  row.first_output = outcome.first_output;
  row.cost = outcome.cost;
  row.rank = outcome.rank;
  row.group = outcome.group;
  row.status = outcome.ok ? "ok" : "failed";
  row.error = outcome.error;
  row.finished_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return row;
}

DispatchSummary dispatch_job(const mpi::Comm& world, const std::vector<int>& leaders, PreparedJob& job,
                             double progress_interval_s) {
  const double total_predicted = std::accumulate(job.work.items.begin(), job.work.items.end(), 0.0,
                                                 [](double sum, const protocol::WorkItem& item) {
                                                   return sum + item.predicted_seconds;
                                                 });
  ProgressReporter progress(static_cast<int64_t>(job.work.items.size()), total_predicted, progress_interval_s,
                            [](const std::string& line) { spdlog::info("{}", line); });
  auto sink = [&](const protocol::WorkOutcome& outcome) {
    auto it = job.work.rows.find(outcome.sample_key);
    LOOM_CHECK(it != job.work.rows.end(), "outcome for unknown or already stored sample {}", outcome.sample_key);
    job.store->append(make_row(std::move(it->second), outcome));
    job.work.rows.erase(it);
  };
  for (const protocol::WorkOutcome& failed : job.work.unprepared) sink(failed);
  const auto unprepared = static_cast<int64_t>(job.work.unprepared.size());
  job.work.unprepared.clear();
  Dispatcher dispatcher(world, leaders, std::move(job.work.prompts), std::move(job.work.items), DispatchOptions{},
                        sink, &progress);
  job.work.items.clear();
  DispatchSummary summary = dispatcher.run();
  summary.completed += unprepared;
  summary.failed += unprepared;
  return summary;
}

}  // namespace loom::scheduler
