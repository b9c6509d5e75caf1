#include "scheduler/work_builder.h"

#include "common/error.h"
#include "common/json_errors.h"
#include "common/parallel_for.h"
#include "benchmarks/prompt_builder.h"
#include "benchmarks/question_split.h"
#include "benchmarks/registry.h"
#include "benchmarks/sample_selection.h"
#include "model_card/model_card.h"
#include "scheduler/prefill_hints.h"
#include "scheduler/retrieval_step.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
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

namespace {

// One sample's model input, or why it cannot be built.
struct SampleInput {
  protocol::Prompt prompt;
  std::string error;  // non-empty: the sample cannot be prepared (its rows are stored as failed with this reason)
  std::string warning;  // logged when the sample is assembled (in the job's order, whatever thread built it)
};

// A prompt that does not fit model.max_context: no ids, the reason its rows are stored as failed.
void mark_unprepared(SampleInput& input, const SampleError& e, const benchmarks::PromptContext& context,
                     int64_t max_context, int32_t max_new_tokens) {
  input.prompt = protocol::Prompt{};
  input.error = fmt::format("the prompt could not be prepared within {} input tokens (model.max_context {} minus "
                            "max_new_tokens {}): {}",
                            context.max_input_tokens, max_context, max_new_tokens, e.what());
  input.warning = fmt::format("sample {}: {}; its rows are stored as failed", e.sample_key(), input.error);
}

// The chained second generation (benchmarks::Sample::chain_prompt): rendered like the sample's prompt (system
// prompt, chat template, answer prefix) and cut at the first output's place; the worker tokenizes the whole once
// the first output is known. Its input has no truncation: one that cannot fit beside its max_new_tokens even with
// an empty first output is a SampleError here; a longer first output can still make it fail on the engine.
void add_chain(const benchmarks::Sample& sample, const benchmarks::PromptContext& context, int64_t max_context,
               protocol::Prompt& prompt) {
  LOOM_CHECK(sample.followup_prompt.empty(), "sample {}/{} has both a follow-up and a chained generation",
             sample.task, sample.id);
  const benchmarks::RenderedInput rendered = benchmarks::render_input(sample, sample.chain_prompt, context);
  const std::string marker = benchmarks::kFirstOutputMarker;
  const size_t at = rendered.text.find(marker);
  LOOM_CHECK(at != std::string::npos && rendered.text.find(marker, at + marker.size()) == std::string::npos,
             "the chained prompt of sample {}/{} must hold the first output's place once", sample.task, sample.id);
  prompt.chain_before = rendered.text.substr(0, at);
  prompt.chain_after = rendered.text.substr(at + marker.size());
  prompt.chain_add_special_tokens = rendered.add_special_tokens;
  prompt.chain_max_new_tokens = sample.chain_max_new_tokens;
  prompt.chain_tokens = static_cast<int64_t>(
      context.tokenizer->encode(prompt.chain_before + prompt.chain_after, rendered.add_special_tokens).size());
  const int64_t room = max_context - sample.chain_max_new_tokens;
  if (prompt.chain_tokens > room) {
    throw SampleError(sample.benchmark + "/" + sample.task + "/" + sample.id,
                      fmt::format("the chained prompt alone ({} tokens, without the first output) is longer than the "
                                  "{} input tokens its max_new_tokens {} leaves",
                                  prompt.chain_tokens, room, sample.chain_max_new_tokens));
  }
}

SampleInput build_sample_input(const benchmarks::Benchmark& benchmark, const benchmarks::Sample& sample,
                               const benchmarks::PromptContext& context, int64_t max_context,
                               int32_t max_new_tokens) {
  SampleInput input;
  try {
    input.prompt.input_ids = benchmark.build_input_ids(sample, context);
    if (!sample.followup_prompt.empty()) {
      benchmarks::Sample raw;  // rendered raw: no chat template, system prompt or answer prefix
      raw.benchmark = sample.benchmark;
      raw.task = sample.task;
      raw.id = sample.id;
      raw.use_chat_template = false;
      input.prompt.followup_ids = benchmarks::encode_input(raw, sample.followup_prompt, context);
    }
    input.prompt.followup_prefix = sample.followup_prefix;
    input.prompt.followup_suffix = sample.followup_suffix;
    if (!sample.chain_prompt.empty()) add_chain(sample, context, max_context, input.prompt);
  } catch (const SampleError& e) {
    mark_unprepared(input, e, context, max_context, max_new_tokens);
  }
  return input;
}

// A query_aware: false method's input: the sample's context/question split (benchmarks/question_split.h). A
// sample without a separable question refuses the job (exit 2, also in `validate`).
SampleInput build_split_sample_input(const JobConfig& job, const benchmarks::BenchmarkSpec& spec,
                                     const benchmarks::Sample& sample, const benchmarks::PromptContext& context,
                                     int64_t max_context, int32_t max_new_tokens) {
  if (!benchmarks::has_question(sample)) {
    throw InputError(job.source_file.string(), spec.source_line, "query_aware",
                     fmt::format("true (the default) for {} task {}, whose samples do not separate their question "
                                 "from the context; query_aware: false needs RULER or a jsonl benchmark whose task "
                                 "template has text after one {{context}} (docs/acceleration.md)",
                                 sample.benchmark, sample.task));
  }
  SampleInput input;
  try {
    benchmarks::SplitInput split = benchmarks::build_split_input(sample, context);
    input.prompt.input_ids = std::move(split.input_ids);
    input.prompt.question_tokens = split.question_tokens;
    if (!sample.chain_prompt.empty()) add_chain(sample, context, max_context, input.prompt);
  } catch (const SampleError& e) {
    mark_unprepared(input, e, context, max_context, max_new_tokens);
  }
  return input;
}

// One prompt variant of a sample (query-aware, or split for query_aware: false): its input, predicted cost, prompt
// hash and, once stored, its PromptId.
struct VariantInput {
  SampleInput input;
  double predicted = 0;
  std::string hash;
  protocol::PromptId id = protocol::kNoPrompt;
};

VariantInput make_variant(SampleInput input, const CostModel& cost, const GenerationSettings& generation,
                          const benchmarks::Sample& sample, const std::string& references_json,
                          const std::string& metadata_json, bool hashed) {
  VariantInput v;
  const std::vector<int32_t>& ids = input.prompt.input_ids;
  const std::vector<int32_t>& followup_ids = input.prompt.followup_ids;
  const protocol::Prompt& prompt = input.prompt;
  v.predicted = !input.error.empty() ? 0.0
                : cost.predict(static_cast<int64_t>(ids.size()), generation.max_new_tokens) +
                      (followup_ids.empty() ? 0.0
                                            : cost.predict(static_cast<int64_t>(followup_ids.size()),
                                                           generation.max_new_tokens)) +
                      (!prompt.has_chain() ? 0.0
                                           : cost.predict(prompt.chain_tokens + generation.max_new_tokens,
                                                          prompt.chain_max_new_tokens));
  if (hashed) {
    const std::string chain =
        !prompt.has_chain() ? std::string()
                            : prompt.chain_before + '\0' + prompt.chain_after + '\0' +
                                  (prompt.chain_add_special_tokens ? "special" : "plain") + '\0' +
                                  std::to_string(prompt.chain_max_new_tokens);
    v.hash = RunIdentity::prompt_hash(ids, followup_ids, sample.followup_prefix, sample.followup_suffix,
                                      references_json, metadata_json, chain);
  }
  v.input = std::move(input);
  return v;
}

results::ResultRow row_template(const benchmarks::Sample& sample, const MethodSpec& method,
                                const std::string& sample_key, const std::string& references_json,
                                const std::string& metadata_json, const std::string& fingerprint) {
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
  return row;
}

using CellIndex = std::map<std::tuple<std::string, std::string, int64_t>, std::size_t>;

CellSummary& cell_of(PreparedWork& work, CellIndex& index, const benchmarks::Sample& sample) {
  const auto key = std::make_tuple(sample.benchmark, sample.task, sample.target_length);
  auto [it, inserted] = index.emplace(key, work.cells.size());
  if (inserted) work.cells.push_back(CellSummary{sample.benchmark, sample.task, sample.target_length});
  return work.cells[it->second];
}

// The samples of one `benchmarks` entry, expanded and selected.
std::vector<benchmarks::Sample> expand_benchmark(const benchmarks::Benchmark& benchmark,
                                                 const benchmarks::BenchmarkSpec& spec,
                                                 const benchmarks::PromptContext& context) {
  if (benchmark.synthetic() && std::find(spec.lengths.begin(), spec.lengths.end(), 0) != spec.lengths.end()) {
    throw InputError(spec.source_file, spec.source_line, "benchmarks[].lengths",
                     fmt::format("positive lengths for {} (a generator); 0 is only a split name (BABILong's 0k)",
                                 benchmark.name()));
  }
  std::vector<benchmarks::Sample> expanded;
  try {
    expanded = benchmark.expand(benchmarks::expansion_spec(spec, benchmark.synthetic()), context);
  } catch (const nlohmann::json::exception& e) {
    // The loaders name the file and record for what they check; anything else of the wrong type lands here.
    throw InputError(spec.source_file, spec.source_line, "benchmarks[].data_dir",
                     fmt::format("{}'s data files and options in their published format (a value has an "
                                 "unexpected type: {})", benchmark.name(), json_problem(e)));
  }
  std::vector<benchmarks::Sample> samples = benchmarks::select_samples(std::move(expanded), spec);
  spdlog::info("{}: {} samples", benchmark.name(), samples.size());
  return samples;
}

}  // namespace

PreparedWork prepare_work(const JobConfig& job, const fs::path& benchmark_configs_dir, const CostModel& cost,
                          const std::set<std::string>& completed, RunIdentity* identity, int threads) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point started = Clock::now();
  if (threads <= 0) threads = hardware_threads();
  PreparedWork work;
  work.max_context = resolve_max_context(job);
  const benchmarks::BenchmarkRegistry registry(benchmark_configs_dir);
  const std::unique_ptr<text::Tokenizer> tokenizer = text::load_tokenizer(job.model.path);
  const text::ChatTemplate chat_template =
      text::load_chat_template(job.model.path, job.model.chat_template, job.model.enable_thinking);
  const bool any_agnostic =
      std::any_of(job.methods.begin(), job.methods.end(), [](const MethodSpec& m) { return !m.query_aware; });

  std::unique_ptr<rag::Retriever> retriever;  // the job's `rag:` (docs/rag.md)
  if (job.rag.enabled()) retriever = std::make_unique<rag::Retriever>(job.rag);
  CellIndex cell_index;
  int64_t sample_count = 0;
  double drawing_s = 0;
  for (const benchmarks::BenchmarkSpec& spec : job.benchmarks) {
    const benchmarks::Benchmark& benchmark = registry.get(spec.name);
    benchmarks::PromptContext context{tokenizer.get(), &chat_template, work.max_context, threads};
    benchmarks::BenchmarkSpec expanded_spec = spec;
    expanded_spec.retrieval = job.rag.enabled();
    const Clock::time_point drawing = Clock::now();
    std::vector<benchmarks::Sample> samples = expand_benchmark(benchmark, expanded_spec, context);
    drawing_s += std::chrono::duration<double>(Clock::now() - drawing).count();
    sample_count += static_cast<int64_t>(samples.size());

    // Each sample's inputs in three passes that keep the serial path's results, log lines and first error:
    //  1. in order, on this thread: the retrieval step (one retriever, not shared between threads), the sample's
    //     generation settings and input budget; a job-level error stops the pass at its sample;
    //  2. on `threads` threads: prompt rendering, tokenization, cost and hash of every sample before that one;
    //  3. in order: each sample's warnings, then its error if any (the first one ends the job as before), then its
    //     cells, rows, prompts and items.
    struct Staged {
      GenerationSettings generation;
      benchmarks::PromptContext context;
      std::string retrieval_error;
      std::exception_ptr error;  // pass 1 or 2 threw (a job-level error)
      std::optional<VariantInput> aware;     // the query-aware prompt
      std::optional<VariantInput> agnostic;  // the context/question split (query_aware: false methods)
      std::string references_json;
      std::string metadata_json;
    };
    std::vector<Staged> staged(samples.size());
    size_t staged_count = 0;  // samples through pass 1 (the one after them threw)
    for (; staged_count < samples.size(); ++staged_count) {
      benchmarks::Sample& sample = samples[staged_count];
      Staged& stage = staged[staged_count];
      try {
        if (job.rag.enabled() && !sample.retrieval.present) {
          throw InputError(job.source_file.string(), spec.source_line, "rag",
                           fmt::format("benchmarks whose config declares a retrieval context (options.rag_context: "
                                       "LongBench, LongBench_v2, LVEval, InfiniteBench, LIBRA, BABILong or a custom "
                                       "jsonl benchmark); {} has none (docs/rag.md)", benchmark.name()));
        }
        stage.retrieval_error = retriever ? apply_retrieval(*retriever, sample) : std::string();
        stage.generation = job.generation.apply(sample.generation);
        stage.context = context;
        stage.context.max_input_tokens = work.max_context - stage.generation.max_new_tokens;
        if (stage.context.max_input_tokens <= 0) {
          throw InputError(job.source_file.string(), spec.source_line, "model.max_context",
                           fmt::format("a context longer than max_new_tokens ({}) of {}/{}",
                                       stage.generation.max_new_tokens, sample.benchmark, sample.task));
        }
      } catch (...) {
        stage.error = std::current_exception();
        ++staged_count;
        break;
      }
    }

    parallel_for(staged_count, threads, [&](size_t i) {
      const benchmarks::Sample& sample = samples[i];
      Staged& stage = staged[i];
      if (stage.error) return;
      try {
        const GenerationSettings& generation = stage.generation;
        SampleInput input = stage.retrieval_error.empty()
                                ? build_sample_input(benchmark, sample, stage.context, work.max_context,
                                                     generation.max_new_tokens)
                                : SampleInput{protocol::Prompt{}, stage.retrieval_error, std::string()};
        stage.references_json = nlohmann::json(sample.references).dump();
        stage.metadata_json = sample.metadata.dump();
        stage.aware = make_variant(std::move(input), cost, generation, sample, stage.references_json,
                                   stage.metadata_json, identity != nullptr);
        if (any_agnostic) {
          stage.agnostic = make_variant(build_split_sample_input(job, spec, sample, stage.context, work.max_context,
                                                                 generation.max_new_tokens),
                                        cost, generation, sample, stage.references_json, stage.metadata_json,
                                        identity != nullptr);
        }
      } catch (...) {
        stage.error = std::current_exception();
      }
    });

    for (size_t i = 0; i < staged_count; ++i) {
      const benchmarks::Sample& sample = samples[i];
      Staged& stage = staged[i];
      if (!stage.retrieval_error.empty())
        spdlog::warn("sample {}/{}: {}; its rows are stored as failed", sample.task, sample.id, stage.retrieval_error);
      if (stage.aware && !stage.aware->input.warning.empty()) spdlog::warn("{}", stage.aware->input.warning);
      if (stage.error) std::rethrow_exception(stage.error);
      if (stage.agnostic && !stage.agnostic->input.warning.empty()) spdlog::warn("{}", stage.agnostic->input.warning);
      const GenerationSettings& generation = stage.generation;
      VariantInput& aware = *stage.aware;
      const std::vector<int32_t>& ids = aware.input.prompt.input_ids;
      CellSummary& cell = cell_of(work, cell_index, sample);
      ++cell.samples;
      cell.input_tokens += static_cast<int64_t>(ids.size());
      if (aware.input.error.empty() && static_cast<int64_t>(ids.size()) >= stage.context.max_input_tokens)
        ++cell.truncated;
      for (const MethodSpec& method : job.methods) {
        VariantInput& variant = method.query_aware ? aware : *stage.agnostic;
        ++work.total_items;
        cell.predicted_seconds += variant.predicted;
        const std::string sample_key =
            make_sample_key(sample.benchmark, sample.task, sample.target_length, sample.index, method.label);
        const std::string fingerprint =
            identity ? identity->row_fingerprint(generation, method, variant.hash) : std::string();
        if (identity) work.fingerprints[sample_key] = fingerprint;
        if (completed.count(sample_key)) {
          ++work.skipped_completed;
          continue;
        }
        LOOM_CHECK(!work.rows.count(sample_key), "two samples share the key {}", sample_key);
        work.rows.emplace(sample_key, row_template(sample, method, sample_key, stage.references_json,
                                                   stage.metadata_json, fingerprint));
        if (!variant.input.error.empty()) {
          protocol::WorkOutcome failed;
          failed.sample_key = sample_key;
          failed.ok = false;
          failed.error = variant.input.error;
          work.unprepared.push_back(std::move(failed));
          continue;
        }
        // Stored once, on the first method that runs it (the variant's ids are not read after this).
        if (variant.id == protocol::kNoPrompt) variant.id = work.prompts.add(std::move(variant.input.prompt));
        work.items.push_back(protocol::WorkItem{sample_key, variant.id, generation, method, variant.predicted});
      }
      stage = Staged{};  // its prompts are in the table now
    }
  }
  const double total_s = std::chrono::duration<double>(Clock::now() - started).count();
  spdlog::info("prepared {} samples in {:.2f} s on {} threads (drawing and loading {:.2f} s, rendering and "
               "tokenizing {:.2f} s)",
               sample_count, total_s, threads, drawing_s, total_s - drawing_s);
  for (const std::string& hint : chunked_sparse_prefill_hints(work)) spdlog::warn("{}", hint);
  return work;
}

}  // namespace loom::scheduler
