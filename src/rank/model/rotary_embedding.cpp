#include "rank/model/rotary_embedding.h"

#include "common/error.h"
#include "kernels/rope.h"

#include <algorithm>
#include <cmath>

namespace loom::model {

namespace {

// 1 / base^(arange(0, dim, 2) / dim), as transformers computes it in fp32.
at::Tensor default_inv_freq(double base, int64_t dim) {
  at::Tensor exponent = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / dim;
  return at::reciprocal(at::pow(base, exponent));
}

// LongRoPE: 1 / (ext_factors * base^(arange(0, dim, 2) / dim)), the factors as an fp32 tensor (transformers'
// _compute_longrope_parameters).
at::Tensor longrope_inv_freq(double base, int64_t dim, const std::vector<double>& factors) {
  at::Tensor ext = at::tensor(factors, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat);
  at::Tensor exponent = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / dim;
  return at::reciprocal(ext * at::pow(base, exponent));
}

double yarn_mscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

double yarn_correction_dim(double rotations, int64_t dim, double base, int64_t max_positions) {
  return (dim * std::log(max_positions / (rotations * 2 * M_PI))) / (2 * std::log(base));
}

}  // namespace

RotaryEmbedding::RotaryEmbedding(const ModelCard& config, at::Device device)
    : rope_(config.rope), head_dim_(config.head_dim), max_position_embeddings_(config.max_position_embeddings),
      device_(device) {
  const int64_t dim = head_dim_;
  const double base = rope_.theta;
  at::Tensor inv_freq = default_inv_freq(base, dim);
  if (rope_.partial_rotary_factor != 1.0) {
    // Partial rotary (GLM, default RoPE only: check_model_card): frequencies of the first `rotary` dims, as
    // transformers computes them, then zeros: angle 0 leaves the remaining pairs exactly as they are (cos 1, sin 0).
    const auto rotary = static_cast<int64_t>(static_cast<double>(dim) * rope_.partial_rotary_factor);
    at::Tensor rotated = default_inv_freq(base, rotary);
    inv_freq = at::cat({rotated, at::zeros({dim / 2 - rotated.size(0)}, rotated.options())});
  }
  if (rope_.type == "linear") {
    inv_freq = inv_freq / rope_.factor;
  } else if (rope_.type == "llama3") {
    const double factor = rope_.factor;
    const double old_context = static_cast<double>(rope_.original_max_position_embeddings);
    const double low_wavelen = old_context / rope_.low_freq_factor;
    const double high_wavelen = old_context / rope_.high_freq_factor;
    at::Tensor wavelen = at::reciprocal(inv_freq) * (2 * M_PI);
    at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / factor, inv_freq);
    at::Tensor smooth = (at::reciprocal(wavelen) * old_context - rope_.low_freq_factor) /
                        (rope_.high_freq_factor - rope_.low_freq_factor);
    at::Tensor smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
    at::Tensor medium = at::logical_not(wavelen < high_wavelen).logical_and(at::logical_not(wavelen > low_wavelen));
    inv_freq = at::where(medium, smoothed, scaled);
  } else if (rope_.type == "yarn") {
    const double factor = rope_.factor;
    if (rope_.attention_factor) {
      attention_scaling_ = *rope_.attention_factor;
    } else if (rope_.mscale && rope_.mscale_all_dim && *rope_.mscale != 0 && *rope_.mscale_all_dim != 0) {
      attention_scaling_ = yarn_mscale(factor, *rope_.mscale) / yarn_mscale(factor, *rope_.mscale_all_dim);
    } else {
      attention_scaling_ = yarn_mscale(factor, 1.0);
    }
    const double beta_fast = rope_.beta_fast && *rope_.beta_fast != 0 ? *rope_.beta_fast : 32.0;
    const double beta_slow = rope_.beta_slow && *rope_.beta_slow != 0 ? *rope_.beta_slow : 1.0;
    at::Tensor pos_freqs =
        at::pow(base, at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / dim);
    at::Tensor extrapolation = at::reciprocal(pos_freqs);
    at::Tensor interpolation = at::reciprocal(factor * pos_freqs);
    double low = yarn_correction_dim(beta_fast, dim, base, rope_.original_max_position_embeddings);
    double high = yarn_correction_dim(beta_slow, dim, base, rope_.original_max_position_embeddings);
    if (rope_.truncate) {
      low = std::floor(low);
      high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(dim - 1));
    if (low == high) high += 0.001;
    at::Tensor ramp = ((at::arange(dim / 2, at::TensorOptions().dtype(at::kFloat)) - low) / (high - low)).clamp(0, 1);
    at::Tensor extrapolation_factor = 1 - ramp;
    inv_freq = interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor;
  } else if (rope_.type == "longrope") {
    // One attention factor for both factor sets (transformers computes it once, at init).
    const double factor = rope_.factor;
    const double original = static_cast<double>(rope_.original_max_position_embeddings);
    if (rope_.attention_factor) {
      attention_scaling_ = *rope_.attention_factor;
    } else {
      attention_scaling_ = factor <= 1.0 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(original));
    }
    inv_freq = longrope_inv_freq(base, dim, rope_.short_factor);
    long_ = longrope_inv_freq(base, dim, rope_.long_factor).to(device_);
  }
  original_ = inv_freq.to(device_);
}

at::Tensor RotaryEmbedding::compute(int64_t seq_len) const {
  // Dynamic NTK: base * ((factor * seq_len / max_pos) - (factor - 1)) ^ (dim / (dim - 2)). transformers evaluates
  // this on a 0-d int64 tensor (max(position_ids) + 1), i.e. in fp32; so do we.
  const int64_t dim = head_dim_;
  const double factor = rope_.factor;
  at::Tensor length = at::scalar_tensor(seq_len, at::TensorOptions().dtype(at::kLong));
  at::Tensor base = ((length * factor) / max_position_embeddings_ - (factor - 1))
                        .pow(static_cast<double>(dim) / static_cast<double>(dim - 2)) *
                    rope_.theta;
  at::Tensor exponent = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / dim;
  return at::reciprocal(at::pow(base, exponent)).to(device_);
}

const at::Tensor& RotaryEmbedding::inv_freq(int64_t seq_len) {
  if (rope_.type == "longrope") return seq_len > rope_.original_max_position_embeddings ? long_ : original_;
  if (rope_.type != "dynamic" || seq_len <= max_position_embeddings_) return original_;
  if (seq_len != dynamic_seq_len_) {
    dynamic_ = compute(seq_len);
    dynamic_seq_len_ = seq_len;
  }
  return dynamic_;
}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::cos_sin(int64_t start, int64_t length, int64_t seq_len,
                                                          at::ScalarType dtype) {
  return kernels::rope_cos_sin(inv_freq(seq_len), start, length, attention_scaling_, dtype);
}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::step_cos_sin(int64_t count, at::ScalarType dtype) {
  LOOM_CHECK(rope_.type != "dynamic", "step_cos_sin needs a RoPE that depends on positions only (not dynamic NTK)");
  const int64_t original = rope_.original_max_position_embeddings;
  if (rope_.type != "longrope" || count <= original) return cos_sin(0, count, count, dtype);
  // A step at position p covers p + 1 tokens: the short factors up to original - 1, the long ones from there.
  auto [short_cos, short_sin] = kernels::rope_cos_sin(original_, 0, original, attention_scaling_, dtype);
  auto [long_cos, long_sin] = kernels::rope_cos_sin(long_, original, count - original, attention_scaling_, dtype);
  return {at::cat({short_cos, long_cos}), at::cat({short_sin, long_sin})};
}

}  // namespace loom::model
