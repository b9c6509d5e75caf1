// create_engine: loads config.json, generation_config.json, the tokenizer (when present) and the safetensors
// weights of a model directory onto the chosen device, sizes the paged KV cache, and returns the InferenceEngine
// whose submit/step/load are the BatchScheduler's; pooled_hidden_states (embeddings) runs its own prefill-only
// forwards through DecoderModel::final_hidden_states.
#include "common/error.h"
#include "common/generation_settings.h"
#include "kernels/attention.h"
#include "rank/model/batch_scheduler.h"
#include "rank/model/cpu_threads.h"
#include "rank/model/decoder_model.h"
#include "rank/model/device.h"
#include "rank/model/inference_engine.h"
#include "rank/model/sliding_window_cache.h"
#include "rank/parallel/communicator.h"
#include "text/tokenizer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>

namespace loom::model {

namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

// Bytes of one sequence's dense cache of `tokens` tokens on this rank (keys and values of every layer).
int64_t dense_cache_bytes(const DecoderModel& model, int64_t tokens) {
  const ModelShape shape = model.shape();
  return 2 * shape.num_layers * shape.num_kv_heads * shape.head_dim * tokens *
         static_cast<int64_t>(c10::elementSize(model.dtype()));
}

// The KV pool: EngineOptions::kv_cache_memory as bytes (> 1) or as a fraction of what is free (<= 1); auto (0): on
// CUDA 0.9 of the memory left after the weights and a prefill workspace (EngineOptions::prefill_cache_copies dense
// caches of the longest row — a shared prefill and one method's copy, or the full cache's one — plus the
// activations of a prefill chunk of EngineOptions::prefill_chunk_tokens and 2 GiB of slack), on the CPU 2 GiB,
// allocated as it fills.
// workspace_tokens: the longest row the engine will hold (max_context unless the caller knows its rows).
int64_t kv_budget(const EngineOptions& options, const DecoderModel& model, int64_t workspace_tokens) {
  if (options.kv_cache_memory > 1) return static_cast<int64_t>(options.kv_cache_memory);
  const at::Device device = model.device();
  const int64_t free = free_device_memory(device);
  if (device.is_cpu()) {
    if (options.kv_cache_memory > 0) return static_cast<int64_t>(options.kv_cache_memory * static_cast<double>(free));
    return 2 * kGiB;
  }
  const ModelCard& c = model.config();
  const int64_t job_chunk =
      options.prefill_chunk_tokens > 0 ? options.prefill_chunk_tokens : GenerationSettings{}.prefill_chunk_size;
  const int64_t chunk = std::min<int64_t>(workspace_tokens, job_chunk);
  const int64_t activations = chunk * (8 * c.hidden_size + 4 * c.intermediate_size +
                                       (c.num_heads + 2 * c.num_kv_heads) * c.head_dim) *
                              static_cast<int64_t>(c10::elementSize(model.dtype()));
  const int64_t copies = std::max(1, options.prefill_cache_copies);
  const int64_t workspace = copies * dense_cache_bytes(model, workspace_tokens) + activations + 2 * kGiB;
  const double fraction = options.kv_cache_memory > 0 ? options.kv_cache_memory : 0.9;
  const int64_t budget = static_cast<int64_t>(fraction * static_cast<double>(std::max<int64_t>(0, free - workspace)));
  if (budget < dense_cache_bytes(model, workspace_tokens)) {
    spdlog::warn("the KV cache gets {:.1f} GiB ({:.1f} GiB free, {:.1f} GiB kept for prefill): less than one "
                 "sequence of {} tokens", static_cast<double>(budget) / kGiB, static_cast<double>(free) / kGiB,
                 static_cast<double>(workspace) / kGiB, workspace_tokens);
  }
  return budget;
}

class TorchInferenceEngine final : public InferenceEngine, public HiddenStateSource {
 public:
  TorchInferenceEngine(const EngineOptions& options, parallel::Communicator* tp, PolicyResolver resolver)
      : device_(resolve_device(options.device, options.local_device_index)), tp_(tp) {
    const auto start = std::chrono::steady_clock::now();
    if (device_.is_cpu()) set_cpu_threads(options.cpu_threads > 0 ? options.cpu_threads : auto_cpu_threads(1));
    c10::InferenceMode guard;
    ModelCard config = read_model_card(options.model_dir);
    const at::ScalarType dtype = resolve_dtype(options.dtype, config.torch_dtype, device_);
    {
      WeightStore weights(options.model_dir);
      model_ = std::make_unique<DecoderModel>(std::move(config), weights, dtype, device_, tp);
    }
    kernels::select_prefill_attention(options.prefill_attention, device_);
    if (std::filesystem::exists(options.model_dir / "tokenizer.json") ||
        std::filesystem::exists(options.model_dir / "tokenizer.model")) {
      tokenizer_ = text::load_tokenizer(options.model_dir);
    }
    const auto& c = model_->config();
    max_context_ = options.max_context > 0 ? options.max_context : c.max_position_embeddings;
    const int64_t trained = trained_context(c);
    if (trained > 0 && max_context_ > trained) {
      spdlog::warn("model.max_context {} is above the {} tokens {} was trained for: rows longer than that fail",
                   max_context_, trained, c.config_file.string());
    }
    options_ = options;
    resolver_ = std::move(resolver);
    const TensorParallelLayout& shard = model_->tensor_parallel();
    spdlog::info("loaded {} ({} layers, hidden {}, heads {}/{}, rope {}, tensor-parallel shard {}/{}) from {} on {} "
                 "as {} in {:.1f} s", c.model_type, c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads,
                 c.rope.type, shard.rank, shard.size, options.model_dir.string(), describe_device(device_),
                 dtype_name(dtype), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!options.defer_kv_pool) create_pool(max_context_);
  }

  void size_kv_pool(int64_t longest_row_tokens) override {
    LOOM_CHECK(!scheduler_, "size_kv_pool: the KV pool already exists");
    create_pool(longest_row_tokens > 0 ? std::min(longest_row_tokens, max_context_) : max_context_);
  }

  void submit(std::vector<InferenceRequest> requests) override { scheduler().submit(std::move(requests)); }
  std::vector<InferenceResult> step() override { return scheduler().step(); }
  EngineLoad load() const override { return scheduler().load(); }
  bool idle() const override { return scheduler().idle(); }
  std::string device_description() const override { return describe_device(device_); }
  HiddenStateSource* hidden_states() override { return this; }

  int64_t hidden_size() const override { return model_->config().hidden_size; }

  std::vector<std::vector<float>> pooled_hidden_states(const std::vector<std::vector<int32_t>>& prompts,
                                                       HiddenPooling pooling) override {
    c10::InferenceMode guard;
    const int64_t vocab = model_->config().vocab_size;
    for (size_t i = 0; i < prompts.size(); ++i) {
      const std::string key = fmt::format("prompts[{}]", i);
      if (prompts[i].empty()) throw InputError("", 0, key, "expected at least one token id");
      for (int32_t id : prompts[i]) {
        if (id < 0 || id >= vocab) throw InputError("", 0, key, fmt::format("token id {} outside [0, {})", id, vocab));
      }
    }
    constexpr int64_t kRowsPerForward = 8192;
    std::vector<std::vector<float>> out;
    out.reserve(prompts.size());
    for (size_t begin = 0; begin < prompts.size();) {
      // One ragged forward over the prompts that fit in kRowsPerForward rows (a longer prompt alone).
      size_t end = begin;
      int64_t rows = 0;
      while (end < prompts.size() && (end == begin || rows + static_cast<int64_t>(prompts[end].size()) <=
                                                          kRowsPerForward)) {
        rows += static_cast<int64_t>(prompts[end].size());
        ++end;
      }
      std::vector<int32_t> ids;
      ids.reserve(static_cast<size_t>(rows));
      std::vector<SequenceState> states(end - begin);
      std::vector<SequenceSegment> segments;
      for (size_t i = begin; i < end; ++i) {
        const int64_t length = static_cast<int64_t>(prompts[i].size());
        SequenceState& state = states[i - begin];
        PolicyContext context;
        context.shape = model_->shape();
        context.dtype = model_->dtype();
        context.device = model_->device();
        context.tp = tp_;
        context.reserve_tokens = length;
        state.policy = std::make_unique<FullCachePolicy>(context);
        state.policy->begin_sequence(length);
        state.prompt_length = length;
        for (int64_t layer = 0; layer < model_->config().num_layers; ++layer) {
          state.caches.push_back(make_layer_cache(model_->config(), *state.policy, layer));
        }
        state.observations.assign(static_cast<size_t>(model_->config().num_layers), PrefillObservation());
        segments.push_back({static_cast<int64_t>(ids.size()), length, 0, length, true, &state});
        ids.insert(ids.end(), prompts[i].begin(), prompts[i].end());
      }
      const at::Tensor token_ids = at::tensor(ids, at::TensorOptions().dtype(at::kInt));
      const at::Tensor hidden = model_->final_hidden_states(token_ids, segments).to(at::kFloat);
      std::vector<at::Tensor> pooled;
      for (const SequenceSegment& seg : segments) {
        pooled.push_back(pooling == HiddenPooling::kMean ? hidden.narrow(0, seg.offset, seg.length).mean(0)
                                                         : hidden[seg.offset + seg.length - 1]);
      }
      const at::Tensor host = at::stack(pooled).cpu().contiguous();
      const float* data = host.data_ptr<float>();
      const int64_t width = host.size(1);
      for (int64_t row = 0; row < host.size(0); ++row) out.emplace_back(data + row * width, data + (row + 1) * width);
      begin = end;
    }
    return out;
  }

 private:
  // The paged KV pool and the scheduler over it, the prefill workspace sized for rows of workspace_tokens tokens.
  // Under tensor parallelism every rank of the group runs this at once (the budgets are agreed on).
  void create_pool(int64_t workspace_tokens) {
    c10::InferenceMode guard;
    const ModelShape shape = model_->shape();
    PagedKVOptions kv;
    kv.num_layers = shape.num_layers;
    kv.num_kv_heads = shape.num_kv_heads;
    kv.head_dim = shape.head_dim;
    kv.page_size = options_.kv_page_size;
    kv.max_slots = std::max<int32_t>(1, options_.max_batch_size);
    kv.max_row_tokens = max_context_;
    kv.budget_bytes = kv_budget(options_, *model_, workspace_tokens);
    if (tp_ != nullptr && tp_->size() > 1) {
      // Every rank of a group must admit the same requests: the smallest budget of the group for all.
      at::Tensor mine = at::tensor({kv.budget_bytes}, at::TensorOptions().dtype(at::kLong)).to(device_);
      kv.budget_bytes = tp_->all_gather(mine, 0).min().item<int64_t>();
    }
    kv.dtype = model_->dtype();
    kv.device = device_;
    auto store = std::make_unique<PagedKVStore>(kv);
    GenerationResources resources;
    resources.model = model_.get();
    resources.tokenizer = tokenizer_.get();
    resources.resolver = resolver_;
    resources.tp = tp_;
    SchedulerOptions scheduling;
    scheduling.max_running = std::max<int32_t>(1, options_.max_batch_size);
    scheduling.cuda_graphs = options_.cuda_graphs;
    scheduling.share_prefills = options_.prefill_cache_copies >= 2;
    scheduler_ = std::make_unique<BatchScheduler>(std::move(resources), std::move(store), scheduling);
    spdlog::info("KV cache {:.2f} GiB in pages of {} tokens ({} decode slots, {} tokens of context, prefill "
                 "workspace for rows of {} tokens), prefill attention {}",
                 static_cast<double>(kv.budget_bytes) / kGiB, kv.page_size, kv.max_slots, max_context_,
                 workspace_tokens, kernels::prefill_attention_name());
  }

  BatchScheduler& scheduler() const {
    LOOM_CHECK(scheduler_, "the engine's KV pool is made by size_kv_pool() before the first request "
                           "(EngineOptions::defer_kv_pool)");
    return *scheduler_;
  }

  at::Device device_;
  std::unique_ptr<DecoderModel> model_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<BatchScheduler> scheduler_;
  parallel::Communicator* tp_ = nullptr;
  EngineOptions options_;
  PolicyResolver resolver_;
  int64_t max_context_ = 0;
};

}  // namespace

std::vector<InferenceResult> InferenceEngine::run(const std::vector<InferenceRequest>& batch) {
  std::vector<InferenceRequest> requests = batch;
  for (size_t i = 0; i < requests.size(); ++i) requests[i].tag = static_cast<int64_t>(i);
  submit(std::move(requests));
  std::vector<InferenceResult> results(batch.size());
  std::vector<bool> seen(batch.size(), false);
  while (true) {
    for (InferenceResult& result : step()) {
      const auto index = static_cast<size_t>(result.tag);
      LOOM_CHECK(index < results.size() && !seen[index], "the engine returned request {} twice or out of range",
                 result.tag);
      result.tag = batch[index].tag;
      results[index] = std::move(result);
      seen[index] = true;
    }
    if (idle()) break;
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    LOOM_CHECK(seen[i], "the engine went idle without a result for request {}", i);
  }
  return results;
}

std::unique_ptr<InferenceEngine> create_engine(const EngineOptions& options, parallel::Communicator* tp,
                                               PolicyResolver resolver) {
  return std::make_unique<TorchInferenceEngine>(options, tp, std::move(resolver));
}

}  // namespace loom::model
