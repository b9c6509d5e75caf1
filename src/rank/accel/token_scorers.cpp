// Token importance scores of the eviction methods (see token_scorers.h).
#include "rank/accel/token_scorers.h"

#include "common/error.h"
#include "rank/accel/method_files.h"
#include "rank/accel/partition_scorers.h"
#include "rank/parallel/communicator.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>

namespace loom::accel {

namespace {

const std::vector<std::string> kScorerNames = {"streaming_llm", "snapkv", "h2o", "knorm", "tova",
                                               "observed_attention", "keydiff", "expected_attention"};

double default_scale(const at::Tensor& keys) { return 1.0 / std::sqrt(static_cast<double>(keys.size(2))); }

at::Tensor pool(const at::Tensor& scores, int64_t kernel, bool max_pooling) {
  if (kernel <= 1) return scores;
  at::Tensor x = scores.unsqueeze(1);
  at::Tensor y = max_pooling ? at::max_pool1d(x, {kernel}, {1}, {kernel / 2})
                             : at::avg_pool1d(x, {kernel}, {1}, {kernel / 2}, false, true);
  return y.squeeze(1);
}

at::Tensor require_window(const ScoreInputs& in) {
  LOOM_CHECK(in.summary != nullptr && in.summary->window_queries.defined() && in.summary->window_queries.size(1) > 0,
             "the engine passed no observation-window queries to finish_prefill");
  return in.summary->window_queries.to(at::kFloat);
}

at::Tensor snapkv_scores(const ScorerSettings& s, const ScoreInputs& in) {
  const at::Tensor queries = require_window(in);
  const int64_t total = in.keys.size(1);
  const int64_t w = queries.size(1);
  at::Tensor attn = window_attention(queries, in.keys, default_scale(in.keys)).narrow(2, 0, total - w);
  at::Tensor scores = pool(attn.mean(1), s.kernel_size, s.max_pooling);
  return pad_protected(group_mean(scores, in.keys.size(0)), 0, w);
}

// kvpress FinchPress.score.
at::Tensor finch_scores(const ScorerSettings& s, const ScoreInputs& in) {
  const at::Tensor queries = require_window(in);
  const int64_t total = in.keys.size(1);
  const int64_t w = queries.size(1);
  at::Tensor attn = window_attention(queries, in.keys, default_scale(in.keys)).narrow(2, 0, total - w);
  if (s.normalize_scores) {
    attn = attn * at::arange(total - w, total, attn.options()).view({1, w, 1});
  }
  return pad_protected(group_mean(attn.mean(1), in.keys.size(0)), 0, w);
}

// kvpress QFilterPress.score on this rank's KV heads.
at::Tensor qfilter_scores(const ScorerSettings& s, const ScoreInputs& in) {
  LOOM_CHECK(s.q_filters != nullptr, "qfilter scored without its filters");
  const at::Tensor& filters = *s.q_filters;
  const int64_t kv_heads = in.keys.size(0);
  const int64_t layer = in.summary != nullptr ? in.summary->layer : 0;
  int64_t first = 0, ranks = 1;
  if (in.context != nullptr && in.context->tp != nullptr && in.context->tp->size() > 1) {
    first = static_cast<int64_t>(in.context->tp->rank()) * kv_heads;
    ranks = in.context->tp->size();
  }
  const int64_t layers = in.context != nullptr ? in.context->shape.num_layers : filters.size(0);
  if (filters.size(0) != layers || layer >= layers || filters.size(1) != kv_heads * ranks ||
      filters.size(2) != in.keys.size(2)) {
    throw InputError("acceleration method 'qfilter'", 0, "params.filters_path",
                     fmt::format("Q-filters matching the model: q_filters [num_layers, num_kv_heads, head_dim] = "
                                 "[{}, {}, {}]; the file holds {}",
                                 layers, kv_heads * ranks, in.keys.size(2), c10::str(filters.sizes())));
  }
  const at::Tensor f = filters[layer].narrow(0, first, kv_heads).to(in.keys.device()).unsqueeze(1);
  return -(in.keys.to(at::kFloat) * f).sum(-1);
}

at::Tensor h2o_scores(const ScorerSettings& s, const ScoreInputs& in) {
  const at::Tensor queries = require_window(in);
  const int64_t heads = queries.size(0);
  const int64_t kv_heads = in.keys.size(0);
  const int64_t total = in.keys.size(1);
  const int64_t w = queries.size(1);
  at::Tensor q = queries.reshape({kv_heads, (heads / kv_heads) * w, -1});
  at::Tensor logits = at::matmul(q, in.keys.to(at::kFloat).transpose(1, 2)).reshape({heads, w, total}) *
                      default_scale(in.keys);
  at::Tensor q_pos = at::arange(total - w, total, logits.options().dtype(at::kLong)).unsqueeze(1);
  at::Tensor k_pos = at::arange(total, logits.options().dtype(at::kLong)).unsqueeze(0);
  logits.masked_fill_((k_pos > q_pos).unsqueeze(0), -std::numeric_limits<float>::infinity());
  at::Tensor probs;
  if (s.softmax_chunk > 0) {
    std::vector<at::Tensor> parts;
    for (int64_t start = 0; start < total; start += s.softmax_chunk) {
      const int64_t len = std::min(s.softmax_chunk, total - start);
      parts.push_back(at::nan_to_num(at::softmax(logits.narrow(2, start, len), -1), 0.0));
    }
    probs = at::cat(parts, 2);
  } else {
    probs = at::softmax(logits, -1);
  }
  at::Tensor scores = probs.sum(1).narrow(1, 0, total - w);
  return pad_protected(group_mean(scores, kv_heads), 0, w);
}

at::Tensor tova_scores(const ScoreInputs& in) {
  const at::Tensor queries = require_window(in);
  const int64_t total = in.keys.size(1);
  at::Tensor last = queries.narrow(1, queries.size(1) - 1, 1);
  at::Tensor attn = window_attention(last, in.keys, default_scale(in.keys)).select(1, 0).narrow(1, 0, total - 1);
  at::Tensor summed = attn.sum(0);
  int64_t head_count = attn.size(0);
  if (in.context != nullptr && in.context->tp != nullptr && in.context->tp->size() > 1) {
    in.context->tp->all_reduce_sum(summed);
    head_count *= in.context->tp->size();
  }
  at::Tensor scores = (summed / static_cast<double>(head_count)).unsqueeze(0).repeat({in.keys.size(0), 1});
  return pad_protected(scores, 0, 1);
}

at::Tensor observed_scores(const ScoreInputs& in) {
  const at::Tensor queries = require_window(in);
  const int64_t total = in.keys.size(1);
  LOOM_CHECK(queries.size(1) == total, "ObservedAttention needs all {} prompt queries, the engine kept {}", total,
             queries.size(1));
  const int64_t heads = queries.size(0);
  const int64_t kv_heads = in.keys.size(0);
  const int64_t group = heads / kv_heads;
  const at::Tensor keys = in.keys.to(at::kFloat);
  const double scale = default_scale(in.keys);
  at::Tensor sums = at::zeros({heads, total}, keys.options());
  constexpr int64_t kRows = 256;
  for (int64_t start = 0; start < total; start += kRows) {
    const int64_t rows = std::min(kRows, total - start);
    at::Tensor q = queries.narrow(1, start, rows).reshape({kv_heads, group * rows, -1});
    at::Tensor logits = at::matmul(q, keys.transpose(1, 2)).reshape({heads, rows, total}) * scale;
    at::Tensor q_pos = at::arange(start, start + rows, logits.options().dtype(at::kLong)).unsqueeze(1);
    at::Tensor k_pos = at::arange(total, logits.options().dtype(at::kLong)).unsqueeze(0);
    logits.masked_fill_((k_pos > q_pos).unsqueeze(0), -std::numeric_limits<float>::infinity());
    sums += at::softmax(logits, -1).sum(1);
  }
  at::Tensor counts = at::arange(total, 0, -1, sums.options());
  return group_mean(sums / counts, kv_heads);
}

at::Tensor keydiff_scores(const ScoreInputs& in) {
  const at::Tensor keys = in.keys.to(at::kFloat);
  at::Tensor normalized = keys / keys.norm(2, -1, true).clamp_min(1e-12);
  at::Tensor anchor = normalized.mean(1, true);
  at::Tensor dot = (keys * anchor).sum(-1);
  at::Tensor norms = (keys.pow(2).sum(-1) * anchor.pow(2).sum(-1)).clamp_min(1e-16).sqrt();
  return -(dot / norms);
}

// Average RoPE rotation over positions [T, T + n): R[i][j] = mean_p(cos_p[j] delta_ij + sin_p[j] P[i][j]) with P the
// rotate_half matrix (HF convention), built in float32 like transformers' rotary embedding.
at::Tensor average_rope(int64_t prompt_length, int64_t n_future, int64_t head_dim, double theta,
                        const at::TensorOptions& options) {
  const at::TensorOptions f32 = options.dtype(at::kFloat);
  at::Tensor exponents = at::arange(0, head_dim, 2, f32.dtype(at::kLong)).to(at::kFloat) / static_cast<double>(head_dim);
  at::Tensor inv_freq = 1.0 / at::pow(at::scalar_tensor(theta, f32), exponents);
  at::Tensor positions = at::arange(prompt_length, prompt_length + n_future, f32.dtype(at::kLong)).to(at::kFloat);
  at::Tensor freqs = positions.unsqueeze(1) * inv_freq.unsqueeze(0);
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  at::Tensor cos = emb.cos();
  at::Tensor sin = emb.sin();
  at::Tensor identity = at::eye(head_dim, f32);
  at::Tensor rotate = at::zeros({head_dim, head_dim}, f32);
  const int64_t half = head_dim / 2;
  rotate.narrow(0, half, half).narrow(1, 0, half).copy_(at::eye(half, f32));
  rotate.narrow(0, 0, half).narrow(1, half, half).copy_(-at::eye(half, f32));
  at::Tensor r = cos.unsqueeze(1) * identity + sin.unsqueeze(1) * rotate;
  return r.mean(0);
}

at::Tensor expected_scores(const ScorerSettings& s, const ScoreInputs& in) {
  LOOM_CHECK(in.summary != nullptr && in.summary->query_mean.defined(),
             "ExpectedAttention needs the prompt's query statistics from the engine");
  const int64_t kv_heads = in.keys.size(0);
  const int64_t total = in.keys.size(1);
  const int64_t d = in.keys.size(2);
  LOOM_CHECK(total > s.n_sink, "ExpectedAttention needs more than n_sink={} tokens, got {}", s.n_sink, total);
  const double theta = in.context != nullptr ? in.context->shape.rope_theta : 10000.0;
  at::Tensor r = average_rope(in.summary->prompt_length > 0 ? in.summary->prompt_length : total, s.n_future_positions,
                              d, theta, in.keys.options());
  at::Tensor mu = at::matmul(in.summary->query_mean.to(at::kFloat), r.t());  // [H, d]
  const int64_t heads = mu.size(0);
  const int64_t group = heads / kv_heads;
  at::Tensor keys = in.keys.narrow(1, s.n_sink, total - s.n_sink).to(at::kFloat);
  at::Tensor values = in.values.narrow(1, s.n_sink, total - s.n_sink).to(at::kFloat);
  at::Tensor keys_rep = keys.repeat_interleave(group, 0);  // [H, n, d]
  at::Tensor scores = at::matmul(keys_rep, mu.unsqueeze(-1)).squeeze(-1) / std::sqrt(static_cast<double>(d));
  if (s.use_covariance) {
    LOOM_CHECK(in.summary->query_covariance.defined(), "ExpectedAttention with use_covariance needs the covariance");
    at::Tensor cov = at::matmul(r, at::matmul(in.summary->query_covariance.to(at::kFloat), r.t()));  // [H, d, d]
    scores = scores + (at::matmul(keys_rep, cov) * keys_rep).sum(-1) / static_cast<double>(d) / 2.0;
  }
  scores = group_mean(at::softmax(scores, -1), kv_heads);
  if (s.use_vnorm) scores = (scores + s.epsilon) * values.norm(2, -1);
  return pad_protected(scores, s.n_sink, 0);
}

at::Tensor cake_scores(const ScorerSettings& s, const ScoreInputs& in) {
  const at::Tensor queries = require_window(in);
  const int64_t total = in.keys.size(1);
  const int64_t w = queries.size(1);
  at::Tensor attn = window_attention(queries, in.keys, default_scale(in.keys));
  at::Tensor indicator = (attn.mean(1) + s.gamma * attn.var(1, /*unbiased=*/true)).narrow(1, 0, total - w);
  return pad_protected(group_mean(pool(indicator, 5, false), in.keys.size(0)), 0, w);
}

at::Tensor streaming_scores(const ScorerSettings& s, const ScoreInputs& in) {
  const int64_t total = in.keys.size(1);
  at::Tensor scores = at::arange(total, in.keys.options().dtype(at::kFloat)) / static_cast<double>(total);
  scores.narrow(0, 0, std::min(s.n_sink, total)).fill_(2.0);
  return scores.unsqueeze(0).repeat({in.keys.size(0), 1});
}

}  // namespace

const std::vector<std::string>& scorer_names() { return kScorerNames; }

ScorerKind scorer_kind(const std::string& name) {
  if (name == "streaming_llm") return ScorerKind::kStreaming;
  if (name == "snapkv") return ScorerKind::kSnapKV;
  if (name == "h2o") return ScorerKind::kH2O;
  if (name == "knorm") return ScorerKind::kKnorm;
  if (name == "tova") return ScorerKind::kTOVA;
  if (name == "observed_attention") return ScorerKind::kObserved;
  if (name == "keydiff") return ScorerKind::kKeyDiff;
  if (name == "expected_attention") return ScorerKind::kExpected;
  LOOM_CHECK(false, "unknown scorer {}", name);
  return ScorerKind::kSnapKV;
}

ScorerSettings read_scorer_settings(ScorerKind kind, const MethodParams& params) {
  ScorerSettings s;
  s.kind = kind;
  switch (kind) {
    case ScorerKind::kStreaming:
      s.n_sink = params.get_int("n_sink");
      break;
    case ScorerKind::kSnapKV:
      s.window_size = params.get_int("window_size");
      s.kernel_size = params.get_int("kernel_size");
      s.max_pooling = params.get_string("pooling") == "maxpool";
      break;
    case ScorerKind::kH2O:
      s.window_size = params.get_int("window_size");
      s.softmax_chunk = params.get_int("softmax_chunk");
      break;
    case ScorerKind::kKnorm:
    case ScorerKind::kKeyDiff:
    case ScorerKind::kObserved:
      break;
    case ScorerKind::kTOVA:
      s.window_size = 1;
      break;
    case ScorerKind::kExpected:
      s.n_future_positions = params.get_int("n_future_positions");
      s.n_sink = params.get_int("n_sink");
      s.use_covariance = params.get_bool("use_covariance");
      s.use_vnorm = params.get_bool("use_vnorm");
      s.epsilon = params.get_double("epsilon");
      break;
    case ScorerKind::kCake:
      s.window_size = params.get_int("window_size");
      s.gamma = params.get_double("gamma");
      break;
    case ScorerKind::kCur:
      s.n_sink = params.get_int("n_sink");
      s.leverage = params.get_string("leverage");
      s.local_approximation = params.get_bool("local_approximation");
      s.local_window = params.get_int("local_window_size");
      break;
    case ScorerKind::kRandom:
      s.seed = static_cast<uint64_t>(params.get_int("seed"));
      break;
    case ScorerKind::kLagKV:
      s.n_sink = params.get_int("n_sink");
      s.lag_size = params.get_int("lag_size");
      break;
    case ScorerKind::kFinch:
      s.window_size = params.get_int("window_size");
      s.normalize_scores = params.get_bool("normalize_scores");
      break;
    case ScorerKind::kQFilter:
      s.q_filters = std::make_shared<const at::Tensor>(load_q_filters(params.get_string("filters_path")));
      break;
  }
  return s;
}

int64_t scorer_query_window(const ScorerSettings& s, int64_t prompt_length) {
  switch (s.kind) {
    case ScorerKind::kSnapKV:
    case ScorerKind::kH2O:
    case ScorerKind::kCake:
    case ScorerKind::kFinch:
      return s.window_size;
    case ScorerKind::kTOVA:
      return 1;
    case ScorerKind::kObserved:
      return prompt_length;
    default:
      return 0;
  }
}

at::Tensor window_attention(const at::Tensor& window_queries, const at::Tensor& keys, double scale) {
  const int64_t heads = window_queries.size(0);
  const int64_t kv_heads = keys.size(0);
  const int64_t w = window_queries.size(1);
  const int64_t total = keys.size(1);
  at::Tensor q = window_queries.to(at::kFloat).reshape({kv_heads, (heads / kv_heads) * w, -1});
  at::Tensor logits = at::matmul(q, keys.to(at::kFloat).transpose(1, 2)).reshape({heads, w, total}) * scale;
  at::Tensor q_pos = at::arange(total - w, total, logits.options().dtype(at::kLong)).unsqueeze(1);
  at::Tensor k_pos = at::arange(total, logits.options().dtype(at::kLong)).unsqueeze(0);
  logits.masked_fill_((k_pos > q_pos).unsqueeze(0), -std::numeric_limits<float>::infinity());
  return at::softmax(logits, -1);
}

at::Tensor group_mean(const at::Tensor& x, int64_t num_kv_heads) {
  std::vector<int64_t> shape = {num_kv_heads, x.size(0) / num_kv_heads};
  for (int64_t i = 1; i < x.dim(); ++i) shape.push_back(x.size(i));
  return x.reshape(shape).mean(1);
}

at::Tensor pad_protected(const at::Tensor& scores, int64_t before, int64_t after) {
  const double top = scores.numel() > 0 ? scores.max().item<double>() + 1.0 : 1.0;
  std::vector<at::Tensor> parts;
  std::vector<int64_t> shape(scores.sizes().begin(), scores.sizes().end());
  if (before > 0) {
    shape.back() = before;
    parts.push_back(at::full(shape, top, scores.options()));
  }
  parts.push_back(scores);
  if (after > 0) {
    shape.back() = after;
    parts.push_back(at::full(shape, top, scores.options()));
  }
  return at::cat(parts, -1);
}

at::Tensor score_tokens(const ScorerSettings& s, const ScoreInputs& in) {
  switch (s.kind) {
    case ScorerKind::kStreaming:
      return streaming_scores(s, in);
    case ScorerKind::kSnapKV:
      return snapkv_scores(s, in);
    case ScorerKind::kH2O:
      return h2o_scores(s, in);
    case ScorerKind::kKnorm:
      return -in.keys.to(at::kFloat).norm(2, -1);
    case ScorerKind::kTOVA:
      return tova_scores(in);
    case ScorerKind::kObserved:
      return observed_scores(in);
    case ScorerKind::kKeyDiff:
      return keydiff_scores(in);
    case ScorerKind::kExpected:
      return expected_scores(s, in);
    case ScorerKind::kCake:
      return cake_scores(s, in);
    case ScorerKind::kCur:
      return cur_scores(in.keys, in.values, s.n_sink, s.leverage, s.local_approximation, s.local_window);
    case ScorerKind::kRandom: {
      at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(s.seed);
      const at::Tensor draws = at::rand({in.keys.size(0), in.keys.size(1)}, generator, at::TensorOptions(at::kFloat));
      return draws.to(in.keys.device());
    }
    case ScorerKind::kLagKV:
      return lagkv_scores(in.keys, in.values, s.n_sink, s.lag_size);
    case ScorerKind::kFinch:
      return finch_scores(s, in);
    case ScorerKind::kQFilter:
      return qfilter_scores(s, in);
  }
  return at::Tensor();
}

}  // namespace loom::accel
