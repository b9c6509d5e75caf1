// KVzip policy (see kvzip_policy.h).
#include "rank/accel/kvzip_policy.h"

#include "common/error.h"
#include "rank/accel/eviction_policy.h"
#include "rank/accel/varlen_kv_cache.h"
#include "rank/parallel/communicator.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace loom::accel {

namespace {

constexpr int64_t kPreviousIds = 8;  // kvpress prepare(prev_postfix_size=8)

}  // namespace

at::Tensor kvzip_chunk_scores(const at::Tensor& queries, const at::Tensor& keys, int64_t start, int64_t end,
                              int64_t n_sink) {
  const int64_t q = queries.size(1);
  const int64_t kv_heads = keys.size(0);
  const int64_t dim = keys.size(2);
  const int64_t total = keys.size(1) - q;
  const int64_t sink = std::min(n_sink, start);
  const int64_t length = end - start;
  const at::Tensor subset =
      at::cat({keys.narrow(1, 0, sink), keys.narrow(1, start, length), keys.narrow(1, total, q)}, 1).to(at::kFloat);
  const int64_t groups = queries.size(0) / kv_heads;
  const at::Tensor grouped = queries.to(at::kFloat).reshape({kv_heads, groups, q, dim});
  at::Tensor logits = at::matmul(grouped, subset.unsqueeze(1).transpose(2, 3)) / std::sqrt(static_cast<double>(dim));
  // causal among the replayed tokens (kvpress adds finfo.min above the diagonal of the last q x q block)
  const at::Tensor future = at::ones({q, q}, logits.options().dtype(at::kBool)).triu(1);
  logits.narrow(3, sink + length, q).masked_fill_(future, -std::numeric_limits<float>::infinity());
  const at::Tensor attention = at::softmax(logits, -1).narrow(3, sink, length);  // [kv_heads, groups, q, length]
  return attention.amax({1, 2});
}

std::vector<std::vector<at::Tensor>> kvzip_kept(const at::Tensor& scores, double compression_ratio, bool layerwise) {
  const int64_t layers = scores.size(0), heads = scores.size(1), total = scores.size(2);
  const int64_t per_layer = heads * total;
  std::vector<int64_t> pruned(static_cast<size_t>(layers));
  if (layerwise) {
    std::fill(pruned.begin(), pruned.end(),
              static_cast<int64_t>(static_cast<double>(per_layer) * compression_ratio));
  } else {
    const auto n = static_cast<int64_t>(static_cast<double>(scores.numel()) * compression_ratio);
    const at::Tensor lowest = std::get<1>((-scores.reshape({-1})).topk(n));
    const at::Tensor counts = at::bincount(at::floor_divide(lowest, per_layer), {}, layers).to(at::kCPU);
    for (int64_t l = 0; l < layers; ++l) pruned[static_cast<size_t>(l)] = counts[l].item<int64_t>();
  }
  std::vector<std::vector<at::Tensor>> kept(static_cast<size_t>(layers));
  for (int64_t l = 0; l < layers; ++l) {
    const at::Tensor lowest = std::get<1>((-scores[l].reshape({-1})).topk(pruned[static_cast<size_t>(l)]));
    at::Tensor keep = at::ones({per_layer}, scores.options().dtype(at::kBool));
    keep.index_fill_(0, lowest, false);
    keep = keep.view({heads, total}).to(at::kCPU);
    for (int64_t h = 0; h < heads; ++h) kept[static_cast<size_t>(l)].push_back(keep[h].nonzero().view({-1}));
  }
  return kept;
}

void KVzipPolicy::begin_sequence(int64_t prompt_length) {
  prompt_length_ = prompt_length;
  kept_.clear();
  scores_ = at::zeros({context_.shape.num_layers, context_.shape.num_kv_heads, prompt_length},
                      at::TensorOptions(at::kFloat).device(context_.device));
}

double KVzipPolicy::ratio() const {
  if (settings_.budget.compression_ratio) return *settings_.budget.compression_ratio;
  if (prompt_length_ <= 0) return 0.0;
  return 1.0 - static_cast<double>(settings_.budget.kept_tokens(prompt_length_)) / static_cast<double>(prompt_length_);
}

std::vector<model::ReplayChunk> KVzipPolicy::replay_chunks(const std::vector<int32_t>& prompt_ids,
                                                          const model::ReplayPrompts& prompts) const {
  std::vector<model::ReplayChunk> chunks;
  const auto size = static_cast<int64_t>(prompt_ids.size());
  for (int64_t start = prompts.prefix_length; start < size; start += settings_.chunk_size) {
    const int64_t end = std::min(size, start + settings_.chunk_size);
    model::ReplayChunk chunk;
    chunk.start = start;
    chunk.end = end;
    if (chunks.empty()) {
      chunk.ids = prompts.first;
    } else {
      chunk.ids = prompts.later;
      const model::ReplayChunk& previous = chunks.back();
      const int64_t from = std::max(previous.end - kPreviousIds, previous.start);
      chunk.ids.insert(chunk.ids.end(), prompt_ids.begin() + from, prompt_ids.begin() + previous.end);
    }
    chunk.ids.insert(chunk.ids.end(), prompts.suffix.begin(), prompts.suffix.end());
    chunk.ids.insert(chunk.ids.end(), prompt_ids.begin() + start, prompt_ids.begin() + end);
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

void KVzipPolicy::observe_replay(int64_t layer, const model::ReplayChunk& chunk, const at::Tensor& queries,
                                 const at::Tensor& keys) {
  LOOM_CHECK(queries.defined() && queries.size(1) == static_cast<int64_t>(chunk.ids.size()),
             "KVzip: the replay of layer {} returned no queries for its {} tokens", layer, chunk.ids.size());
  scores_[layer].narrow(1, chunk.start, chunk.end - chunk.start)
      .copy_(kvzip_chunk_scores(queries, keys, chunk.start, chunk.end, settings_.n_sink));
}

void KVzipPolicy::select() {
  at::Tensor all = scores_;
  const bool sharded = context_.tp != nullptr && context_.tp->size() > 1;
  if (sharded) all = context_.tp->all_gather(scores_.contiguous(), 1);
  all = all.clone();
  // kvpress: the sinks are never evicted: the highest score + 1
  all.narrow(2, 0, std::min(settings_.n_sink, prompt_length_)).fill_(all.max().item<double>() + 1.0);
  std::vector<std::vector<at::Tensor>> kept = kvzip_kept(all, ratio(), settings_.layerwise);
  const int64_t kv_heads = context_.shape.num_kv_heads;
  const int64_t first = sharded ? static_cast<int64_t>(context_.tp->rank()) * kv_heads : 0;
  for (auto& layer : kept) {
    layer = std::vector<at::Tensor>(layer.begin() + first, layer.begin() + first + kv_heads);
    // a head left with nothing (only possible at ratios that evict the sinks) keeps position 0
    for (size_t h = 0; h < layer.size(); ++h) {
      if (layer[h].numel() == 0) layer[h] = at::zeros({1}, at::kLong);
    }
  }
  kept_ = std::move(kept);
}

std::unique_ptr<model::LayerKVCache> KVzipPolicy::finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                                const model::PrefillSummary& summary) {
  if (ratio() <= 0.0) return cache;
  if (kept_.empty()) select();
  auto [keys, values] = cache->dense();
  return PerHeadVarlenCache::from_selection(keys, values, kept_.at(static_cast<size_t>(summary.layer)),
                                            cache->logical_length(), decode_spare_rows(context_, keys.size(1)));
}

}  // namespace loom::accel
