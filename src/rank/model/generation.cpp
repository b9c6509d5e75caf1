#include "rank/model/generation.h"

#include "common/error.h"
#include "rank/model/device.h"
#include "rank/model/sampler.h"
#include "text/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace loom::model {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Sequence {
  const InferenceRequest* request = nullptr;
  InferenceResult* result = nullptr;
  SequenceState state;
  std::unique_ptr<Sampler> sampler;
  std::set<int32_t> eos;
  std::vector<int32_t> generated;
  int64_t next_position = 0;  // RoPE position of the next token fed to the model
  bool active = false;
  Clock::time_point decode_start;
};

void fail(Sequence& seq, const std::string& reason) {
  seq.result->ok = false;
  seq.result->error = reason;
  seq.result->output_ids.clear();
  seq.result->text.clear();
  seq.active = false;
  seq.state = SequenceState();  // releases caches
}

std::unique_ptr<AttentionPolicy> make_policy(const GenerationResources& res, const InferenceRequest& request,
                                             int64_t reserve_tokens) {
  PolicyContext context;
  context.shape = res.model->shape();
  context.dtype = res.model->dtype();
  context.device = res.model->device();
  context.tp = res.tp;
  context.reserve_tokens = reserve_tokens;
  const std::string& name = request.method.name;
  if (res.resolver) {
    if (auto factory = res.resolver(request.method)) return factory->create(context);
  }
  if (!name.empty() && name != "full") {
    throw InputError("", 0, "acceleration.method",
                     fmt::format("method '{}' cannot be resolved: this engine was created without a method "
                                 "resolver", name));
  }
  return std::make_unique<FullCachePolicy>(context);
}

// Records the token; returns true when the sequence is finished (EOS, stop string, length).
bool accept_token(Sequence& seq, int32_t token, const text::Tokenizer* tokenizer) {
  const GenerationSettings& settings = seq.request->generation;
  if (seq.eos.count(token)) return true;
  seq.generated.push_back(token);
  if (!settings.stop_strings.empty() && tokenizer != nullptr) {
    const std::string text = tokenizer->decode(seq.generated, true);
    for (const std::string& stop : settings.stop_strings) {
      if (!stop.empty() && text.find(stop) != std::string::npos) return true;
    }
  }
  return static_cast<int64_t>(seq.generated.size()) >= settings.max_new_tokens;
}

// Text cut at the earliest stop string; ids trimmed to the tokens needed for that text.
void finalize_output(Sequence& seq, const text::Tokenizer* tokenizer) {
  InferenceResult& result = *seq.result;
  result.output_ids = seq.generated;
  if (tokenizer == nullptr) return;
  std::string text = tokenizer->decode(seq.generated, true);
  size_t cut = std::string::npos;
  for (const std::string& stop : seq.request->generation.stop_strings) {
    if (stop.empty()) continue;
    cut = std::min(cut, text.find(stop));
  }
  if (cut != std::string::npos) {
    text.resize(cut);
    while (!result.output_ids.empty()) {
      std::vector<int32_t> shorter(result.output_ids.begin(), result.output_ids.end() - 1);
      if (tokenizer->decode(shorter, true).size() < cut) break;
      result.output_ids = std::move(shorter);
    }
  }
  result.text = std::move(text);
}

// Checks the request and creates its policy (begin_sequence included). Throws InputError for bad input.
void start_sequence(GenerationResources& res, Sequence& seq) {
  const InferenceRequest& request = *seq.request;
  const auto& ids = request.input_ids;
  const int64_t length = static_cast<int64_t>(ids.size());
  const int64_t vocab = res.model->config().vocab_size;
  if (length == 0) throw InputError("", 0, "input_ids", "empty prompt");
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab) throw InputError("", 0, "input_ids", fmt::format("token id {} outside [0, {})", id, vocab));
  }
  if (request.generation.max_new_tokens <= 0) {
    throw InputError("", 0, "generation.max_new_tokens", "expected a positive number");
  }
  if (!request.generation.stop_strings.empty() && res.tokenizer == nullptr) {
    throw InputError("", 0, "generation.stop_strings", "stop strings need a tokenizer in the model directory");
  }
  seq.state.prompt_length = length;
  seq.state.policy = make_policy(res, request, length + request.generation.max_new_tokens);
  seq.state.policy->begin_sequence(length);
}

// The prompt's chunked forward through `state` (its policy, caches and observations); the last position's logits.
at::Tensor run_prefill_chunks(DecoderModel& model, const std::vector<int32_t>& ids, int64_t chunk_size,
                              SequenceState& state) {
  const int64_t length = static_cast<int64_t>(ids.size());
  const int64_t layers = model.config().num_layers;
  for (int64_t layer = 0; layer < layers; ++layer) state.caches.push_back(state.policy->make_cache(layer));
  state.observations.resize(layers);
  const int64_t chunk = chunk_size > 0 ? chunk_size : length;
  at::Tensor all_ids = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
  at::Tensor logits;
  for (int64_t begin = 0; begin < length; begin += chunk) {
    const int64_t count = std::min(chunk, length - begin);
    SequenceSegment segment{0, count, begin, length, true, &state};
    logits = model.forward(all_ids.narrow(0, begin, count), {segment}, begin + count == length);
  }
  return logits;
}

// finish_prefill of every layer of `seq` from the observations collected during prefill (possibly by a shared
// prefill that kept a longer window), then the first token from the prompt's logits.
void finish_sequence(GenerationResources& res, Sequence& seq, const std::vector<PrefillObservation>& observations,
                     const at::Tensor& logits) {
  DecoderModel& model = *res.model;
  SequenceState& state = seq.state;
  AttentionPolicy& policy = *state.policy;
  const int64_t layers = model.config().num_layers;
  for (int64_t layer = 0; layer < layers; ++layer) {
    const PrefillObservation& obs = observations[layer];
    PrefillSummary summary;
    summary.layer = layer;
    summary.prompt_length = state.prompt_length;
    const int64_t window = policy.observation_window();
    if (window > 0 && obs.window_queries.defined()) {
      const int64_t have = obs.window_queries.size(1);
      summary.window_queries =
          window >= have ? obs.window_queries : obs.window_queries.narrow(1, have - window, window).contiguous();
    }
    if (policy.wants_query_statistics() && obs.query_count > 0) {
      summary.query_mean = obs.query_sum / static_cast<double>(obs.query_count);
      summary.query_covariance = obs.query_outer_sum / static_cast<double>(obs.query_count) -
                                 summary.query_mean.unsqueeze(2) * summary.query_mean.unsqueeze(1);
    }
    summary.o_proj_weight = model.o_proj_weight(layer);
    state.caches[layer] = policy.finish_prefill(std::move(state.caches[layer]), summary);
  }
  state.observations.clear();
  for (const auto& cache : state.caches) seq.result->kv_bytes += cache->bytes();
  seq.result->prefill_block_density = policy.prefill_block_density();
  seq.next_position = state.prompt_length;
  seq.active = true;
  if (accept_token(seq, seq.sampler->next(logits[0]), res.tokenizer)) seq.active = false;
}

// Prefill of one started sequence on its own.
void prefill_alone(GenerationResources& res, Sequence& seq) {
  const auto start = Clock::now();
  const at::Tensor logits = run_prefill_chunks(*res.model, seq.request->input_ids,
                                               seq.request->generation.prefill_chunk_size, seq.state);
  std::vector<PrefillObservation> observations = std::move(seq.state.observations);
  finish_sequence(res, seq, observations, logits);
  seq.result->prefill_seconds = seconds_since(start);
  seq.decode_start = Clock::now();
}

// The prefill a group of sequences with the same prompt runs once: a dense cache sized for the largest reservation,
// the longest observation window any of them asks for, query statistics when one of them wants them.
class SharedPrefillPolicy final : public AttentionPolicy {
 public:
  SharedPrefillPolicy(PolicyContext context, int64_t window, bool statistics)
      : AttentionPolicy(std::move(context)), window_(window), statistics_(statistics) {}
  int64_t observation_window() const override { return window_; }
  bool wants_query_statistics() const override { return statistics_; }

 private:
  int64_t window_;
  bool statistics_;
};

// One prefill for sequences whose prompts are identical and whose policies compress only after a dense prefill
// (every method but the sparse-prefill ones): each sequence then gets a copy of the dense caches (the last one
// takes them over) and runs its own finish_prefill. prefill_seconds = the shared prefill + its own compression.
void prefill_shared(GenerationResources& res, std::vector<Sequence*> group) {
  DecoderModel& model = *res.model;
  // A policy that keeps the dense cache takes over the originals (last), so the dense cache exists at most twice
  // (the originals and one copy being compressed).
  std::stable_partition(group.begin(), group.end(),
                        [](const Sequence* seq) { return !seq->state.policy->keeps_prefill_cache(); });
  const auto start = Clock::now();
  int64_t window = 0, reserve = 0;
  bool statistics = false;
  for (Sequence* seq : group) {
    window = std::max(window, seq->state.policy->observation_window());
    statistics = statistics || seq->state.policy->wants_query_statistics();
    reserve = std::max(reserve, seq->state.policy->context().reserve_tokens);
  }
  PolicyContext context = group.front()->state.policy->context();
  context.reserve_tokens = reserve;
  SequenceState shared;
  shared.prompt_length = group.front()->state.prompt_length;
  shared.policy = std::make_unique<SharedPrefillPolicy>(context, window, statistics);
  const InferenceRequest& first = *group.front()->request;
  const at::Tensor logits =
      run_prefill_chunks(model, first.input_ids, first.generation.prefill_chunk_size, shared);
  const double shared_seconds = seconds_since(start);
  const int64_t layers = model.config().num_layers;
  for (size_t i = 0; i < group.size(); ++i) {
    Sequence& seq = *group[i];
    const auto own_start = Clock::now();
    try {
      const bool last = i + 1 == group.size();
      for (int64_t layer = 0; layer < layers; ++layer) {
        if (last) {
          seq.state.caches.push_back(std::move(shared.caches[layer]));
        } else {
          std::unique_ptr<LayerKVCache> copy = seq.state.policy->make_cache(layer);
          auto [keys, values] = shared.caches[layer]->dense();
          copy->append(keys, values);
          seq.state.caches.push_back(std::move(copy));
        }
      }
      finish_sequence(res, seq, shared.observations, logits);
      seq.result->prefill_seconds = shared_seconds + seconds_since(own_start);
      seq.result->prefill_shared_by = static_cast<int32_t>(group.size());
    } catch (const std::exception& e) {
      fail(seq, fmt::format("prefill failed: {}", e.what()));
      release_cached_memory(model.device());
    }
    seq.decode_start = Clock::now();
  }
}

// Whether two started sequences may share one prefill.
bool same_prefill(const Sequence& a, const Sequence& b) {
  return a.request->input_ids == b.request->input_ids &&
         a.request->generation.prefill_chunk_size == b.request->generation.prefill_chunk_size;
}

void decode(GenerationResources& res, std::vector<Sequence>& sequences) {
  while (true) {
    std::vector<Sequence*> step;
    for (Sequence& seq : sequences) {
      if (seq.active) step.push_back(&seq);
    }
    if (step.empty()) return;
    std::vector<int64_t> ids;
    std::vector<SequenceSegment> segments;
    for (size_t i = 0; i < step.size(); ++i) {
      Sequence& seq = *step[i];
      ids.push_back(seq.generated.back());
      segments.push_back(SequenceSegment{static_cast<int64_t>(i), 1, seq.next_position, seq.next_position + 1, false,
                                         &seq.state});
    }
    at::Tensor logits;
    try {
      logits = res.model->forward(at::tensor(ids, at::kLong), segments, true).to(at::kCPU);
    } catch (const std::exception& e) {
      for (Sequence* seq : step) fail(*seq, fmt::format("decode failed: {}", e.what()));
      release_cached_memory(res.model->device());
      continue;
    }
    for (size_t i = 0; i < step.size(); ++i) {
      Sequence& seq = *step[i];
      seq.next_position += 1;
      if (accept_token(seq, seq.sampler->next(logits[static_cast<int64_t>(i)]), res.tokenizer)) {
        seq.active = false;
        seq.result->decode_seconds = seconds_since(seq.decode_start);
      }
    }
  }
}

}  // namespace

std::vector<InferenceResult> generate_batch(GenerationResources& res, const std::vector<InferenceRequest>& batch) {
  c10::InferenceMode guard;
  PeakMemoryMeter meter(res.model->device());
  meter.reset();
  std::vector<InferenceResult> results(batch.size());
  std::vector<Sequence> sequences(batch.size());
  std::vector<int32_t> model_eos = res.model->config().eos_token_ids;
  for (size_t i = 0; i < batch.size(); ++i) {
    Sequence& seq = sequences[i];
    seq.request = &batch[i];
    seq.result = &results[i];
    results[i].sample_key = batch[i].sample_key;
    results[i].input_tokens = static_cast<int64_t>(batch[i].input_ids.size());
    seq.eos.insert(model_eos.begin(), model_eos.end());
    seq.eos.insert(batch[i].generation.eos_token_ids.begin(), batch[i].generation.eos_token_ids.end());
    seq.sampler = std::make_unique<Sampler>(batch[i].generation);
  }
  // Policies first, so that sequences with the same prompt and a dense prefill can share it.
  std::vector<bool> started(batch.size(), false);
  for (size_t i = 0; i < batch.size(); ++i) {
    try {
      start_sequence(res, sequences[i]);
      started[i] = true;
    } catch (const std::exception& e) {
      fail(sequences[i], fmt::format("prefill failed: {}", e.what()));
    }
  }
  std::vector<bool> done(batch.size(), false);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!started[i] || done[i]) continue;
    std::vector<Sequence*> group{&sequences[i]};
    done[i] = true;
    if (!sequences[i].state.policy->replaces_prefill_attention()) {
      for (size_t j = i + 1; j < batch.size(); ++j) {
        if (started[j] && !done[j] && !sequences[j].state.policy->replaces_prefill_attention() &&
            same_prefill(sequences[i], sequences[j])) {
          group.push_back(&sequences[j]);
          done[j] = true;
        }
      }
    }
    try {
      if (group.size() == 1) {
        prefill_alone(res, *group.front());
      } else {
        prefill_shared(res, group);
      }
    } catch (const std::exception& e) {
      for (Sequence* seq : group) fail(*seq, fmt::format("prefill failed: {}", e.what()));
      release_cached_memory(res.model->device());
    }
  }
  for (Sequence& seq : sequences) {
    if (!seq.active && seq.result->ok) seq.result->decode_seconds = 0.0;
  }
  decode(res, sequences);
  const int64_t peak = meter.peak_bytes();
  for (Sequence& seq : sequences) {
    if (seq.result->ok) finalize_output(seq, res.tokenizer);
    seq.result->peak_memory_bytes = peak;
    seq.state = SequenceState();
  }
  return results;
}

}  // namespace loom::model
