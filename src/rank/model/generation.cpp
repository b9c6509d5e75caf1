#include "rank/model/generation.h"

#include "common/error.h"
#include "rank/model/context_replay.h"
#include "rank/model/sliding_window_cache.h"
#include "text/tokenizer.h"

#include <algorithm>

namespace loom::model {

namespace {

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

}  // namespace

std::vector<int32_t> prefill_ids(const InferenceRequest& request) {
  const auto context = static_cast<std::ptrdiff_t>(request.input_ids.size()) -
                       static_cast<std::ptrdiff_t>(std::max<int64_t>(0, request.question_tokens));
  return std::vector<int32_t>(request.input_ids.begin(),
                              request.input_ids.begin() + std::max<std::ptrdiff_t>(0, context));
}

bool feeding_question(const Sequence& seq) {
  return static_cast<int64_t>(seq.question_fed) < seq.request.question_tokens;
}

int32_t next_input(const Sequence& seq) {
  if (!feeding_question(seq)) return seq.generated.back();
  const size_t context = seq.request.input_ids.size() - static_cast<size_t>(seq.request.question_tokens);
  return seq.request.input_ids[context + seq.question_fed];
}

bool greedy(const GenerationSettings& settings) { return !settings.do_sample || settings.temperature <= 0; }

void fail(Sequence& seq, const std::string& reason) {
  seq.result.ok = false;
  seq.result.error = reason;
  seq.result.output_ids.clear();
  seq.result.text.clear();
  seq.decoding = false;
  seq.state = SequenceState();  // releases caches
}

void start_sequence(const GenerationResources& res, Sequence& seq) {
  const InferenceRequest& request = seq.request;
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
  if (request.question_tokens < 0 || request.question_tokens >= length) {
    throw InputError("", 0, "question_tokens",
                     fmt::format("a question of 0 to {} tokens (the context needs at least one), got {}", length - 1,
                                 request.question_tokens));
  }
  const int64_t context = length - request.question_tokens;
  seq.state.prompt_length = context;
  seq.state.policy = make_policy(res, request, length + request.generation.max_new_tokens);
  if (seq.state.policy->renumbers_positions()) {
    for (int64_t layer = 0; layer < res.model->config().num_layers; ++layer) {
      if (layer_window(res.model->config(), layer) > 0) {
        throw InputError("", 0, "acceleration.method",
                         fmt::format("method '{}' renumbers the kept tokens' positions (key re-rotation), but layer "
                                     "{} of this model is a sliding-window layer, whose cache keeps the original "
                                     "positions; use a model without sliding-window layers",
                                     request.method.name, layer));
      }
    }
  }
  seq.state.policy->begin_sequence(context);
  seq.started = true;
}

at::Tensor run_prefill_chunk(DecoderModel& model, const at::Tensor& all_ids, int64_t begin, int64_t count,
                             SequenceState& state) {
  const int64_t length = all_ids.size(0);
  if (begin == 0) {
    const int64_t layers = model.config().num_layers;
    state.caches.clear();
    for (int64_t layer = 0; layer < layers; ++layer) {
      state.caches.push_back(make_layer_cache(model.config(), *state.policy, layer));
    }
    state.observations.assign(static_cast<size_t>(layers), PrefillObservation());
  }
  SequenceSegment segment{0, count, begin, length, true, &state};
  return model.forward(all_ids.narrow(0, begin, count), {segment}, begin + count == length);
}

void finish_sequence(const GenerationResources& res, Sequence& seq, const std::vector<PrefillObservation>& observations,
                     const at::Tensor& logits) {
  DecoderModel& model = *res.model;
  SequenceState& state = seq.state;
  AttentionPolicy& policy = *state.policy;
  const int64_t layers = model.config().num_layers;
  replay_context(res, seq);  // KVzip: the policy re-reads the context before it compresses
  for (int64_t layer = 0; layer < layers; ++layer) {
    if (layer_window(model.config(), layer) > 0) continue;  // a sliding layer keeps its window (sliding_window_cache.h)
    const PrefillObservation& obs = observations[static_cast<size_t>(layer)];
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
    summary.rope_inv_freq = model.rope_inv_freq(state.prompt_length);
    state.caches[static_cast<size_t>(layer)] = policy.finish_prefill(std::move(state.caches[static_cast<size_t>(layer)]), summary);
  }
  state.observations.clear();
  seq.result.cost.kv_bytes = 0;
  for (const auto& cache : state.caches) seq.result.cost.kv_bytes += cache->bytes();
  seq.result.cost.prefill_block_density = policy.prefill_block_density();
  seq.next_position = state.prompt_length;
  if (policy.renumbers_positions()) {
    for (int64_t layer = 0; layer < layers; ++layer) {
      if (layer_window(model.config(), layer) > 0) continue;
      seq.next_position = state.caches[static_cast<size_t>(layer)]->logical_length();
      break;
    }
  }
  if (feeding_question(seq)) {  // the question comes next, over the compressed cache; no token from the context
    seq.decoding = true;
    return;
  }
  at::Tensor first = logits[0];
  if (!at::isfinite(first).all().item<bool>()) {
    throw std::runtime_error("the prompt's logits are not finite (NaN or Inf): check the model's weights and dtype");
  }
  seq.decoding = !accept_token(seq, seq.sampler->next(first), res.tokenizer);
}

bool accept_token(Sequence& seq, int32_t token, const text::Tokenizer* tokenizer) {
  const GenerationSettings& settings = seq.request.generation;
  if (seq.eos.count(token) && !settings.ignore_eos) return true;
  seq.generated.push_back(token);
  if (!settings.stop_strings.empty() && tokenizer != nullptr) {
    const std::string text = tokenizer->decode(seq.generated, true);
    for (const std::string& stop : settings.stop_strings) {
      if (!stop.empty() && text.find(stop) != std::string::npos) return true;
    }
  }
  return static_cast<int64_t>(seq.generated.size()) >= settings.max_new_tokens;
}

void finalize_output(Sequence& seq, const text::Tokenizer* tokenizer) {
  InferenceResult& result = seq.result;
  result.output_ids = seq.generated;
  result.cost.output_tokens = static_cast<int64_t>(result.output_ids.size());
  if (tokenizer == nullptr) return;
  std::string text = tokenizer->decode(seq.generated, true);
  size_t cut = std::string::npos;
  for (const std::string& stop : seq.request.generation.stop_strings) {
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
  result.cost.output_tokens = static_cast<int64_t>(result.output_ids.size());
}

std::unique_ptr<AttentionPolicy> make_shared_prefill_policy(const std::vector<Sequence*>& group) {
  int64_t window = 0, reserve = 0;
  bool statistics = false;
  for (const Sequence* seq : group) {
    window = std::max(window, seq->state.policy->observation_window());
    statistics = statistics || seq->state.policy->wants_query_statistics();
    reserve = std::max(reserve, seq->state.policy->context().reserve_tokens);
  }
  PolicyContext context = group.front()->state.policy->context();
  context.reserve_tokens = reserve;
  return std::make_unique<SharedPrefillPolicy>(context, window, statistics);
}

bool same_prefill(const Sequence& a, const Sequence& b) {
  // Two integers, not two id vectors (the caller vouches that one prompt_id means one prompt; the length check is a
  // cheap guard against a caller that breaks that).
  return a.request.prompt_id >= 0 && a.request.prompt_id == b.request.prompt_id &&
         a.request.input_ids.size() == b.request.input_ids.size() &&
         a.request.generation.prefill_chunk_size == b.request.generation.prefill_chunk_size &&
         a.request.question_tokens == b.request.question_tokens;
}

}  // namespace loom::model
