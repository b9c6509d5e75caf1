// Decode-time compression bookkeeping (see decode_compression.h).
#include "rank/model/decode_compression.h"

#include "common/error.h"
#include "kernels/rope.h"
#include "rank/model/sliding_window_cache.h"

#include <algorithm>
#include <tuple>

namespace loom::model {

namespace {

// The layer's buffered queries [num_heads, n, head_dim], rotated as kvpress rotates them: the last `step_tokens`
// (the current forward's) at their own positions, the older ones at the current token's position.
at::Tensor rotated_queries(DecoderModel& model, const std::vector<at::Tensor>& entries, int64_t position,
                           int64_t step_tokens) {
  const at::Tensor queries = at::cat(entries, 1);
  const int64_t n = queries.size(1);
  const int64_t own = std::min(step_tokens, n);
  const auto [cos, sin] = model.rope_cos_sin(position - own + 1, own);
  at::Tensor current = kernels::apply_rope(queries.narrow(1, n - own, own).contiguous(), cos, sin);
  if (own == n) return current;
  const at::Tensor last_cos = cos.narrow(0, own - 1, 1).expand({n - own, cos.size(1)}).contiguous();
  const at::Tensor last_sin = sin.narrow(0, own - 1, 1).expand({n - own, sin.size(1)}).contiguous();
  const at::Tensor older = kernels::apply_rope(queries.narrow(1, 0, n - own).contiguous(), last_cos, last_sin);
  return at::cat({older, current}, 1);
}

std::vector<at::Tensor> compress_layer(const GenerationResources& res, Sequence& seq, PagedKVStore* store,
                                       int64_t layer, const at::Tensor& queries, int64_t target_size) {
  DecoderModel& model = *res.model;
  const int64_t kv_heads = model.shape().num_kv_heads;
  at::Tensor keys, values;
  if (seq.slot >= 0) {
    LOOM_CHECK(store != nullptr, "a paged sequence compressed without its KV store");
    std::vector<at::Tensor> k, v;
    for (int64_t h = 0; h < kv_heads; ++h) {
      auto [hk, hv] = store->read_row(seq.slot, layer, h);
      LOOM_CHECK(h == 0 || hk.size(0) == k.front().size(0),
                 "decode-time compression needs every KV head of layer {} to hold the same number of tokens", layer);
      k.push_back(hk);
      v.push_back(hv);
    }
    keys = at::stack(k);
    values = at::stack(v);
  } else {
    std::tie(keys, values) = seq.state.caches.at(static_cast<size_t>(layer))->dense();
  }
  DecodeSummary summary;
  summary.layer = layer;
  summary.target_size = target_size;
  summary.queries = queries;
  summary.o_proj_weight = model.o_proj_weight(layer);
  std::vector<at::Tensor> kept = seq.state.policy->decode_kept_rows(keys, values, summary);
  if (kept.empty()) return kept;
  LOOM_CHECK(static_cast<int64_t>(kept.size()) == kv_heads, "{} kept-row lists for {} KV heads", kept.size(),
             kv_heads);
  if (seq.slot >= 0) {
    std::vector<std::pair<at::Tensor, at::Tensor>> rows;
    for (int64_t h = 0; h < kv_heads; ++h) {
      const at::Tensor index = kept[static_cast<size_t>(h)].to(keys.device());
      rows.emplace_back(keys[h].index_select(0, index), values[h].index_select(0, index));
    }
    store->load(seq.slot, layer, rows);  // frees the evicted rows' pages
  } else {
    const at::Tensor index = at::stack(kept).to(keys.device());  // every head keeps as many rows
    const at::Tensor gather = index.unsqueeze(-1).expand({-1, -1, keys.size(2)});
    auto cache = make_dense_cache(kv_heads, keys.size(2), keys.scalar_type(), keys.device(),
                                  seq.state.policy->context().reserve_tokens);
    cache->append(keys.gather(1, gather), values.gather(1, gather));
    seq.state.caches[static_cast<size_t>(layer)] = std::move(cache);
  }
  return kept;
}

}  // namespace

bool compresses_while_decoding(const Sequence& seq) {
  return seq.state.policy != nullptr && seq.state.policy->decode_compression().interval > 0;
}

void begin_decode_queries(const DecoderModel& model, Sequence& seq) {
  seq.state.decode_queries.entries.assign(static_cast<size_t>(model.config().num_layers), {});
  seq.state.decode_queries.steps = 0;
}

std::vector<std::vector<at::Tensor>> after_decode_step(const GenerationResources& res, Sequence& seq,
                                                       PagedKVStore* store, DecodeStepKind kind) {
  if (!compresses_while_decoding(seq)) return {};
  const DecodeCompression spec = seq.state.policy->decode_compression();
  DecodeQueryBuffer& buffer = seq.state.decode_queries;
  LOOM_CHECK(!buffer.entries.empty() && !buffer.entries.front().empty(), "a decode step recorded no queries");
  for (std::vector<at::Tensor>& entries : buffer.entries) {
    if (kind.joins_previous && entries.size() >= 2) {
      at::Tensor joined = at::cat({entries[entries.size() - 2], entries.back()}, 1);
      entries.pop_back();
      entries.back() = std::move(joined);
    }
  }
  if (kind.open) return {};
  buffer.steps += 1;
  const int64_t step_tokens = buffer.entries.front().back().size(1);
  std::vector<std::vector<at::Tensor>> kept;
  const int64_t position = seq.next_position - 1;  // the token just fed
  const int64_t target_size = decode_target_size(spec, position);
  if (buffer.steps >= spec.interval || step_tokens >= target_size) {
    const ModelCard& config = res.model->config();
    for (int64_t layer = 0; layer < config.num_layers; ++layer) {
      std::vector<at::Tensor>& entries = buffer.entries[static_cast<size_t>(layer)];
      if (layer_window(config, layer) > 0) {  // a sliding layer keeps its window
        kept.emplace_back();
      } else {
        kept.push_back(compress_layer(res, seq, store, layer,
                                      rotated_queries(*res.model, entries, position, step_tokens), target_size));
      }
      entries.clear();  // kvpress empties the buffer after a compression
    }
    buffer.steps = 0;
  }
  const auto keep = static_cast<size_t>(std::max<int64_t>(0, spec.buffer_entries));
  for (std::vector<at::Tensor>& entries : buffer.entries) {
    if (entries.size() > keep) entries.erase(entries.begin(), entries.end() - static_cast<std::ptrdiff_t>(keep));
  }
  bool any = false;
  for (const auto& layer : kept) any = any || !layer.empty();
  if (!any) kept.clear();
  return kept;
}

}  // namespace loom::model
