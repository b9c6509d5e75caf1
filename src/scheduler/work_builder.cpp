#include "scheduler/work_builder.h"

#include "common/error.h"
#include "common/json_errors.h"
#include "benchmarks/prompt_builder.h"
#include "benchmarks/registry.h"
#include "benchmarks/sample_selection.h"
#include "model_card/model_card.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <tuple>

namespace loom::scheduler {

namespace fs = std::filesystem;

std::string make_sample_key(const std::string& benchmark, const std::string& task, int64_t target_length,
                            int64_t index, const std::string& method_label) {
  return fmt::format("{}/{}/{}/{}/{}", benchmark, task, target_length, index, method_label);
}

int64_t resolve_max_context(const JobConfig& job) {
  if (job.model.max_context > 0) return job.model.max_context;
  return model::read_model_card(job.model.path).max_position_embeddings;
}

PreparedWork prepare_work(const JobConfig& job, const fs::path& benchmark_configs_dir, const CostModel& cost,
                          const std::set<std::string>& completed, RunIdentity* identity) {
  PreparedWork work;
  work.max_context = resolve_max_context(job);
  const benchmarks::BenchmarkRegistry registry(benchmark_configs_dir);
  const std::unique_ptr<text::Tokenizer> tokenizer = text::load_tokenizer(job.model.path);
  const text::ChatTemplate chat_template =
      text::load_chat_template(job.model.path, job.model.chat_template, job.model.enable_thinking);

  std::map<std::tuple<std::string, std::string, int64_t>, std::size_t> cell_index;
  for (const benchmarks::BenchmarkSpec& spec : job.benchmarks) {
    const benchmarks::Benchmark& benchmark = registry.get(spec.name);
    if (benchmark.synthetic() && std::find(spec.lengths.begin(), spec.lengths.end(), 0) != spec.lengths.end()) {
      throw InputError(spec.source_file, spec.source_line, "benchmarks[].lengths",
                       fmt::format("positive lengths for {} (a generator); 0 is only a split name (BABILong's 0k)",
                                   benchmark.name()));
    }
    benchmarks::PromptContext context{tokenizer.get(), &chat_template, work.max_context};
    std::vector<benchmarks::Sample> expanded;
    try {
      expanded = benchmark.expand(benchmarks::expansion_spec(spec, benchmark.synthetic()), context);
    } catch (const nlohmann::json::exception& e) {
      // The loaders name the file and record for what they check; anything else of the wrong type lands here.
      throw InputError(spec.source_file, spec.source_line, "benchmarks[].data_dir",
                       fmt::format("{}'s data files and options in their published format (a value has an "
                                   "unexpected type: {})", benchmark.name(), json_problem(e)));
    }
    const std::vector<benchmarks::Sample> samples = benchmarks::select_samples(std::move(expanded), spec);
    spdlog::info("{}: {} samples", benchmark.name(), samples.size());
    for (const benchmarks::Sample& sample : samples) {
      const GenerationSettings generation = job.generation.apply(sample.generation);
      context.max_input_tokens = work.max_context - generation.max_new_tokens;
      if (context.max_input_tokens <= 0) {
        throw InputError(job.source_file.string(), spec.source_line, "model.max_context",
                         fmt::format("a context longer than max_new_tokens ({}) of {}/{}", generation.max_new_tokens,
                                     sample.benchmark, sample.task));
      }
      const std::vector<int32_t> ids = benchmark.build_input_ids(sample, context);
      std::vector<int32_t> followup_ids;
      if (!sample.followup_prompt.empty()) {
        benchmarks::Sample raw;  // rendered raw: no chat template, system prompt or answer prefix
        raw.benchmark = sample.benchmark;
        raw.task = sample.task;
        raw.id = sample.id;
        raw.use_chat_template = false;
        followup_ids = benchmarks::encode_input(raw, sample.followup_prompt, context);
      }
      const auto key = std::make_tuple(sample.benchmark, sample.task, sample.target_length);
      auto [it, inserted] = cell_index.emplace(key, work.cells.size());
      if (inserted) work.cells.push_back(CellSummary{sample.benchmark, sample.task, sample.target_length});
      CellSummary& cell = work.cells[it->second];
      ++cell.samples;
      cell.input_tokens += static_cast<int64_t>(ids.size());
      if (static_cast<int64_t>(ids.size()) >= context.max_input_tokens) ++cell.truncated;
      const double predicted =
          cost.predict(static_cast<int64_t>(ids.size()), generation.max_new_tokens) +
          (followup_ids.empty() ? 0.0 : cost.predict(static_cast<int64_t>(followup_ids.size()), generation.max_new_tokens));
      const std::string references_json = nlohmann::json(sample.references).dump();
      const std::string metadata_json = sample.metadata.dump();
      const std::string prompt_hash =
          identity ? RunIdentity::prompt_hash(ids, followup_ids, sample.followup_prefix, sample.followup_suffix,
                                              references_json, metadata_json)
                   : std::string();
      for (const MethodSpec& method : job.methods) {
        ++work.total_items;
        cell.predicted_seconds += predicted;
        const std::string sample_key =
            make_sample_key(sample.benchmark, sample.task, sample.target_length, sample.index, method.label);
        const std::string fingerprint =
            identity ? identity->row_fingerprint(generation, method, prompt_hash) : std::string();
        if (identity) work.fingerprints[sample_key] = fingerprint;
        if (completed.count(sample_key)) {
          ++work.skipped_completed;
          continue;
        }
        LOOM_CHECK(!work.rows.count(sample_key), "two samples share the key {}", sample_key);
        results::ResultRow row;
        row.sample_key = sample_key;
        row.benchmark = sample.benchmark;
        row.task = sample.task;
        row.capability = sample.capability;
        row.metric = sample.metric;
        row.sample_id = sample.id;
        row.sample_index = sample.index;
        row.target_length = sample.target_length;
        row.references_json = references_json;
        row.metadata_json = metadata_json;
        row.method = method.label;
        row.method_params_json = method.params_json;
        row.fingerprint = fingerprint;
        work.rows.emplace(sample_key, std::move(row));
        work.items.push_back(WorkItem{sample_key, ids, generation, method, predicted, followup_ids,
                                      sample.followup_prefix, sample.followup_suffix});
      }
    }
  }
  return work;
}

}  // namespace loom::scheduler
