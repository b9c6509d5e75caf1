// Continuous batching (see batch_scheduler.h).
#include "rank/model/batch_scheduler.h"

#include "common/error.h"
#include "kernels/paged_attention.h"
#include "rank/model/decode_compression.h"
#include "rank/model/device.h"
#include "rank/model/failure_text.h"
#include "rank/model/sliding_window_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace loom::model {

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

int64_t total_tokens(const Sequence& seq) {
  return static_cast<int64_t>(seq.request.input_ids.size()) + seq.request.generation.max_new_tokens;
}

}  // namespace

struct BatchScheduler::PrefillJob {
  std::vector<Sequence*> members;
  SequenceState shared;            // the prefill's state when members share it
  SequenceState* state = nullptr;  // the state being prefilled (shared, or the single member's)
  at::Tensor ids;                  // int64 [prompt length], CPU
  int64_t chunk = 0;
  int64_t cursor = 0;
  double seconds = 0;
};

BatchScheduler::BatchScheduler(GenerationResources resources, std::unique_ptr<PagedKVStore> store,
                               SchedulerOptions options)
    : res_(std::move(resources)), store_(std::move(store)), options_(options), meter_(res_.model->device()) {
  options_.max_running = std::max<int32_t>(1, std::min<int32_t>(options_.max_running,
                                                                 static_cast<int32_t>(store_->options().max_slots)));
  graphs_ = std::make_unique<DecodeGraphs>(*res_.model, *store_, store_->options().max_slots, options_.cuda_graphs);
  if (res_.model->static_rope()) res_.model->prepare_decode(store_->options().max_row_tokens);
}

BatchScheduler::~BatchScheduler() = default;

void BatchScheduler::submit(std::vector<InferenceRequest> requests) {
  std::vector<Sequence*> started;
  const std::vector<int32_t>& model_eos = res_.model->config().eos_token_ids;
  for (InferenceRequest& request : requests) {
    auto seq = std::make_unique<Sequence>();
    seq->submitted = Clock::now();
    seq->result.tag = request.tag;
    seq->result.sample_key = request.sample_key;
    seq->result.cost.input_tokens = static_cast<int64_t>(request.input_ids.size());
    seq->eos.insert(model_eos.begin(), model_eos.end());
    seq->eos.insert(request.generation.eos_token_ids.begin(), request.generation.eos_token_ids.end());
    seq->sampler = std::make_unique<Sampler>(request.generation);
    seq->request = std::move(request);
    try {
      start_sequence(res_, *seq);
      const int64_t context = store_->options().max_row_tokens;
      if (total_tokens(*seq) > context) {
        throw InputError("", 0, "model.max_context",
                         fmt::format("prompt ({} tokens) + max_new_tokens ({}) exceed the model's context of {} "
                                     "tokens", seq->request.input_ids.size(), seq->request.generation.max_new_tokens,
                                     context));
      }
      const int64_t trained = trained_context(res_.model->config());
      if (trained > 0 && total_tokens(*seq) > trained) {
        fail(*seq, fmt::format("the prompt ({} tokens) + max_new_tokens ({}) exceed the {} tokens the model was "
                               "trained for (max_position_embeddings in {}); it would run past its trained positions "
                               "(model.max_context is above it or the benchmark does not truncate: shorten the prompt)",
                               seq->request.input_ids.size(), seq->request.generation.max_new_tokens, trained,
                               res_.model->config().config_file.string()));
        done_.push_back(seq->result);
        continue;
      }
      started.push_back(seq.get());
    } catch (const std::exception& e) {
      fail(*seq, fmt::format("prefill failed: {}", failure_text(e)));
      done_.push_back(seq->result);
      continue;
    }
    live_.push_back(std::move(seq));
  }
  // Group the started ones: a prompt's sweep methods share one prefill unless a policy replaces prefill attention.
  std::vector<bool> grouped(started.size(), false);
  for (size_t i = 0; i < started.size(); ++i) {
    if (grouped[i]) continue;
    auto job = std::make_unique<PrefillJob>();
    job->members.push_back(started[i]);
    grouped[i] = true;
    if (options_.share_prefills && !started[i]->state.policy->replaces_prefill_attention()) {
      for (size_t j = i + 1; j < started.size(); ++j) {
        if (static_cast<int32_t>(job->members.size()) >= options_.max_running) break;  // a group must fit the slots
        if (!grouped[j] && !started[j]->state.policy->replaces_prefill_attention() &&
            same_prefill(*started[i], *started[j])) {
          job->members.push_back(started[j]);
          grouped[j] = true;
        }
      }
    }
    const std::vector<int32_t> ids = prefill_ids(job->members.front()->request);
    job->ids = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
    const int64_t chunk = job->members.front()->request.generation.prefill_chunk_size;
    job->chunk = chunk > 0 ? chunk : static_cast<int64_t>(ids.size());
    waiting_.push_back(std::move(job));
  }
}

int64_t BatchScheduler::reservation_for(const Sequence& seq) const {
  return store_->pages_for_sequence(total_tokens(seq));
}

int64_t BatchScheduler::reserved_pages() const {
  int64_t total = 0;
  for (const auto& seq : live_) total += seq->reserved_pages;
  return total;
}

BatchScheduler::Admission BatchScheduler::try_admit(PrefillJob& job) {
  int64_t pages = 0;
  for (const Sequence* seq : job.members) pages += reservation_for(*seq);
  const int64_t members = static_cast<int64_t>(job.members.size());
  int32_t running = static_cast<int32_t>(decoding_.size());
  const bool fits = pages <= store_->free_pages() - reserved_pages() && members <= store_->free_slots() &&
                    running + members <= options_.max_running;
  if (fits) {
    for (Sequence* seq : job.members) seq->reserved_pages = reservation_for(*seq);
    return Admission::kAdmitted;
  }
  if (!decoding_.empty()) return Admission::kWait;  // until running sequences free their memory
  // Nothing else holds memory: this job can never fit.
  std::string reason;
  if (members > store_->options().max_slots || members > options_.max_running) {
    reason = fmt::format("{} requests share this prompt but the engine decodes at most {} at once (raise "
                         "model.max_batch_size)", members, std::min<int64_t>(options_.max_running,
                                                                             store_->options().max_slots));
  } else {
    const int64_t longest = total_tokens(*job.members.front());
    reason = fmt::format("prompt + max_new_tokens ({} tokens) x {} request(s) need {} KV pages of {} KiB, the KV cache "
                         "holds {} (raise model.kv_cache_memory or lower generation.max_new_tokens)",
                         longest, members, pages, store_->page_bytes() / 1024, store_->total_pages());
  }
  for (Sequence* seq : job.members) fail_sequence(*seq, reason);
  return Admission::kFailed;
}

void BatchScheduler::run_prefill_chunk(PrefillJob& job) {
  const int64_t length = job.ids.size(0);
  const int64_t count = std::min(job.chunk, length - job.cursor);
  const auto start = Clock::now();
  at::Tensor logits = model::run_prefill_chunk(*res_.model, job.ids, job.cursor, count, *job.state);
  synchronize(res_.model->device());
  job.seconds += seconds_since(start);
  job.cursor += count;
  if (job.cursor >= length) finish_prefill(job, logits);
}

void BatchScheduler::finish_prefill(PrefillJob& job, const at::Tensor& logits) {
  const int64_t layers = res_.model->config().num_layers;
  const bool shared = job.members.size() > 1;
  // A policy that keeps the dense cache takes over the originals (last), so the dense cache exists at most twice.
  std::stable_partition(job.members.begin(), job.members.end(),
                        [](const Sequence* seq) { return !seq->state.policy->keeps_prefill_cache(); });
  for (size_t i = 0; i < job.members.size(); ++i) {
    Sequence& seq = *job.members[i];
    const auto own_start = Clock::now();
    try {
      if (shared) {
        const bool last = i + 1 == job.members.size();
        seq.state.caches.clear();
        for (int64_t layer = 0; layer < layers; ++layer) {
          if (last) {
            seq.state.caches.push_back(std::move(job.shared.caches[static_cast<size_t>(layer)]));
          } else {
            std::unique_ptr<LayerKVCache> copy = make_layer_cache(res_.model->config(), *seq.state.policy, layer);
            auto [keys, values] = job.shared.caches[static_cast<size_t>(layer)]->dense();
            copy->append(keys, values);
            seq.state.caches.push_back(std::move(copy));
          }
        }
        finish_sequence(res_, seq, job.shared.observations, logits);
      } else {
        std::vector<PrefillObservation> observations = std::move(seq.state.observations);
        finish_sequence(res_, seq, observations, logits);
      }
      if (seq.decoding) move_to_pages(seq);
      if (seq.decoding && compresses_while_decoding(seq)) begin_decode_queries(*res_.model, seq);
      synchronize(res_.model->device());
      seq.result.cost.prefill_seconds = job.seconds + seconds_since(own_start);
      seq.result.cost.prefill_shared_by = static_cast<int32_t>(job.members.size());
      if (seq.decoding) {
        decoding_.push_back(&seq);
      } else {
        finish(seq);
      }
    } catch (const std::exception& e) {
      fail_sequence(seq, fmt::format("prefill failed: {}", failure_text(e)));
      release_cached_memory(res_.model->device());
    }
  }
  job.shared = SequenceState();
}

void BatchScheduler::move_to_pages(Sequence& seq) {
  const int64_t layers = res_.model->config().num_layers;
  const int64_t kv_heads = store_->options().num_kv_heads;
  std::vector<std::vector<std::pair<at::Tensor, at::Tensor>>> rows(static_cast<size_t>(layers));
  for (int64_t layer = 0; layer < layers; ++layer) {
    const LayerKVCache& cache = *seq.state.caches[static_cast<size_t>(layer)];
    for (int64_t h = 0; h < kv_heads; ++h) {
      auto head = cache.head_rows(h);
      if (!head.first.defined()) {
        // A layout without plain rows decodes through its own caches; its memory is outside the pool.
        seq.reserved_pages = 0;
        return;
      }
      rows[static_cast<size_t>(layer)].push_back(std::move(head));
    }
  }
  seq.slot = store_->acquire_slot();
  try {
    for (int64_t layer = 0; layer < layers; ++layer) store_->load(seq.slot, layer, rows[static_cast<size_t>(layer)]);
  } catch (...) {
    store_->release(seq.slot);
    seq.slot = -1;
    throw;
  }
  rows.clear();
  seq.state.caches.clear();  // the dense/varlen copies go; the pages hold the cache now
  seq.result.cost.kv_bytes = store_->slot_token_bytes(seq.slot);
  seq.reserved_pages = future_pages(seq);
}

int64_t BatchScheduler::future_pages(const Sequence& seq) const {
  // What it may still allocate: every row's growth by the tokens it has still to feed (one more than it will: the
  // count right after the prefill, whose first token is already generated, is max_new_tokens + the question).
  const int64_t layers = res_.model->config().num_layers;
  const int64_t kv_heads = store_->options().num_kv_heads;
  int64_t future = 0;
  const int64_t generated_past_first = std::max<int64_t>(0, static_cast<int64_t>(seq.generated.size()) - 1);
  const int64_t remaining = seq.request.generation.max_new_tokens + seq.request.question_tokens -
                            static_cast<int64_t>(seq.question_fed) - generated_past_first;
  for (int64_t layer = 0; layer < layers; ++layer) {
    for (int64_t h = 0; h < kv_heads; ++h) {
      const int64_t n = store_->row_tokens(seq.slot, layer, h);
      future += store_->pages_for_row(n + std::max<int64_t>(0, remaining)) - store_->pages_for_row(n);
    }
  }
  return future;
}

void BatchScheduler::decode_step() {
  std::vector<Sequence*> step;
  step.swap(decoding_);
  // Pages for the next token of every paged row.
  for (Sequence* seq : step) {
    if (seq->slot < 0) continue;
    const int64_t allocated = store_->prepare_append(seq->slot);
    if (allocated < 0) {
      fail_sequence(*seq, "the KV cache ran out of pages while decoding");
      continue;
    }
    seq->reserved_pages = std::max<int64_t>(0, seq->reserved_pages - allocated);
  }
  step.erase(std::remove_if(step.begin(), step.end(), [](const Sequence* s) { return !s->decoding; }), step.end());
  if (step.empty()) return;
  const int64_t batch = static_cast<int64_t>(step.size());
  std::vector<int64_t> ids, positions;
  std::vector<int32_t> slots;
  bool all_paged = true, any_paged = false, any_observed = false;
  for (Sequence* seq : step) {
    ids.push_back(next_input(*seq));
    positions.push_back(seq->next_position);
    slots.push_back(seq->slot);
    all_paged = all_paged && seq->slot >= 0;
    any_paged = any_paged || seq->slot >= 0;
    any_observed = any_observed || compresses_while_decoding(*seq);
  }
  const auto start = Clock::now();
  DecodeOutput out;
  try {
    store_->flush();
    if (all_paged && !any_observed && graphs_->usable()) {
      try {
        out = graphs_->run(ids, positions, slots);
      } catch (const std::exception& e) {
        spdlog::warn("CUDA-graph decode failed ({}); decode steps run without graphs from now on", e.what());
        graphs_->disable();
      }
    }
    if (!out.logits.defined()) {
      const at::Device device = res_.model->device();
      DecodeStep decode;
      decode.token_ids = at::tensor(ids, at::kLong).to(device);
      decode.positions = at::tensor(positions, at::kLong).to(device);
      decode.slot_of = at::tensor(slots, at::kInt).to(device);
      decode.store = any_paged ? store_.get() : nullptr;
      const PagedKVOptions& kv = store_->options();
      const ModelCard& config = res_.model->config();
      decode.num_splits =
          kernels::decode_splits(batch, kv.num_kv_heads, config.num_heads / config.num_kv_heads, kv.head_dim, kv.dtype);
      for (int64_t b = 0; b < batch; ++b) {
        if (slots[static_cast<size_t>(b)] < 0) decode.unpaged.emplace_back(b, &step[static_cast<size_t>(b)]->state);
        if (compresses_while_decoding(*step[static_cast<size_t>(b)])) {
          decode.observed.emplace_back(b, &step[static_cast<size_t>(b)]->state);
        }
      }
      out.logits = res_.model->forward_decode(decode);
      out.greedy = out.logits.argmax(1);
      out.finite = at::isfinite(out.logits).all(1);
    }
    at::Tensor greedy_ids = out.greedy.narrow(0, 0, batch).to(at::kCPU);
    at::Tensor finite = out.finite.narrow(0, 0, batch).to(at::kCPU);
    const double elapsed = seconds_since(start);
    for (int64_t b = 0; b < batch; ++b) {
      Sequence& seq = *step[static_cast<size_t>(b)];
      seq.next_position += 1;
      if (seq.slot >= 0) store_->advance(seq.slot);
      if (compresses_while_decoding(seq)) {
        // kvpress feeds a question in one forward: its tokens make one step of the decode-time compression.
        DecodeStepKind kind;
        kind.joins_previous = feeding_question(seq) && seq.question_fed > 0;
        kind.open = feeding_question(seq) && static_cast<int64_t>(seq.question_fed) + 1 < seq.request.question_tokens;
        if (!after_decode_step(res_, seq, store_.get(), kind).empty() && seq.slot >= 0) {
          seq.reserved_pages = future_pages(seq);
        }
      }
      if (feeding_question(seq)) {  // a question token over the compressed cache: part of the prompt's cost
        seq.question_fed += 1;
        seq.result.cost.prefill_seconds += elapsed;
        if (feeding_question(seq)) {
          decoding_.push_back(&seq);
          continue;
        }
        // The cache the answer is generated from: the compressed context and the question, as kv_bytes of a
        // query-aware row holds its whole prompt.
        if (seq.slot >= 0) {
          seq.result.cost.kv_bytes = store_->slot_token_bytes(seq.slot);
        } else {
          seq.result.cost.kv_bytes = 0;
          for (const auto& cache : seq.state.caches) seq.result.cost.kv_bytes += cache->bytes();
        }
      } else {
        seq.result.cost.decode_seconds += elapsed;
        seq.decode_steps += 1;
        seq.decode_batch_sum += static_cast<double>(batch);
      }
      if (!finite[b].item<bool>()) {
        fail_sequence(seq, fmt::format("non-finite logits (NaN or Inf) at generated token {}: check the model's "
                                       "weights and dtype", seq.generated.size() + 1));
        continue;
      }
      const int32_t token = greedy(seq.request.generation)
                                ? static_cast<int32_t>(greedy_ids[b].item<int64_t>())
                                : seq.sampler->next(out.logits[b].to(at::kCPU));
      if (accept_token(seq, token, res_.tokenizer)) {
        seq.decoding = false;
        finish(seq);
      } else {
        decoding_.push_back(&seq);
      }
    }
  } catch (const std::exception& e) {
    for (Sequence* seq : step) {
      if (seq->decoding) fail_sequence(*seq, fmt::format("decode failed: {}", failure_text(e)));
    }
    release_cached_memory(res_.model->device());
  }
}

void BatchScheduler::finish(Sequence& seq) {
  if (seq.result.ok) finalize_output(seq, res_.tokenizer);
  if (seq.slot >= 0) {
    store_->release(seq.slot);
    seq.slot = -1;
  }
  seq.reserved_pages = 0;
  seq.state = SequenceState();
  if (seq.decode_steps > 0) seq.result.mean_decode_batch = seq.decode_batch_sum / static_cast<double>(seq.decode_steps);
  seq.returned = true;  // removed from live_ at the end of the step, when nothing points at it any more
  done_.push_back(seq.result);
}

void BatchScheduler::fail_sequence(Sequence& seq, const std::string& reason) {
  fail(seq, reason);
  spdlog::debug("request {} failed: {}", seq.result.sample_key, reason);
  finish(seq);
}

std::vector<InferenceResult> BatchScheduler::step() {
  c10::InferenceMode guard;
  meter_.reset();
  std::vector<Sequence*> touched(decoding_.begin(), decoding_.end());
  if (!prefilling_ && !waiting_.empty()) {
    const Admission admission = try_admit(*waiting_.front());
    if (admission == Admission::kFailed) waiting_.pop_front();
    if (admission == Admission::kAdmitted) {
      prefilling_ = std::move(waiting_.front());
      waiting_.pop_front();
      const auto now = Clock::now();
      for (Sequence* seq : prefilling_->members) {
        seq->result.queue_seconds = std::chrono::duration<double>(now - seq->submitted).count();
      }
      if (prefilling_->members.size() > 1) {
        prefilling_->shared.prompt_length = prefilling_->ids.size(0);
        prefilling_->shared.policy = make_shared_prefill_policy(prefilling_->members);
        prefilling_->state = &prefilling_->shared;
      } else {
        prefilling_->state = &prefilling_->members.front()->state;
      }
    }
  }
  if (prefilling_) {
    touched.insert(touched.end(), prefilling_->members.begin(), prefilling_->members.end());
    try {
      run_prefill_chunk(*prefilling_);
      if (prefilling_->cursor >= prefilling_->ids.size(0)) prefilling_.reset();
    } catch (const std::exception& e) {
      for (Sequence* seq : prefilling_->members) {
        if (seq->result.ok && !seq->decoding) fail_sequence(*seq, fmt::format("prefill failed: {}", failure_text(e)));
      }
      prefilling_.reset();
      release_cached_memory(res_.model->device());
    }
  }
  if (!decoding_.empty()) decode_step();
  // Memory in use during this step (weights, caches, activations; not the pool's idle pages).
  const int64_t peak = meter_.peak_bytes() - store_->idle_bytes();
  for (Sequence* seq : touched) seq->result.cost.peak_memory_bytes = std::max(seq->result.cost.peak_memory_bytes, peak);
  for (InferenceResult& result : done_) {
    for (Sequence* seq : touched) {
      if (seq->result.tag == result.tag && seq->result.sample_key == result.sample_key) {
        result.cost.peak_memory_bytes = seq->result.cost.peak_memory_bytes;
      }
    }
  }
  live_.erase(std::remove_if(live_.begin(), live_.end(), [](const auto& seq) { return seq->returned; }), live_.end());
  std::vector<InferenceResult> out;
  out.swap(done_);
  return out;
}

EngineLoad BatchScheduler::load() const {
  EngineLoad load;
  load.running = static_cast<int32_t>(
      std::count_if(live_.begin(), live_.end(), [](const auto& seq) { return !seq->returned; }));
  int32_t waiting = 0;
  for (const auto& job : waiting_) waiting += static_cast<int32_t>(job->members.size());
  load.waiting = waiting;
  load.decoding = static_cast<int32_t>(decoding_.size());
  const int32_t admitted = static_cast<int32_t>(decoding_.size()) +
                           (prefilling_ ? static_cast<int32_t>(prefilling_->members.size()) : 0);
  load.free_slots = waiting > 0 ? 0 : std::max<int32_t>(0, options_.max_running - admitted);
  const int64_t free_pages = std::max<int64_t>(0, store_->free_pages() - reserved_pages());
  const int64_t per_token_row_pages = store_->pages_for_sequence(store_->options().page_size);  // one page per row
  load.free_kv_tokens = per_token_row_pages > 0 ? free_pages / per_token_row_pages * store_->options().page_size : 0;
  return load;
}

bool BatchScheduler::idle() const {
  return done_.empty() && std::all_of(live_.begin(), live_.end(), [](const auto& seq) { return seq->returned; });
}

}  // namespace loom::model
