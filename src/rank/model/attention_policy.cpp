// Default hook implementations of AttentionPolicy (the full, dense cache).
#include "rank/model/attention_policy.h"

namespace loom::model {

std::unique_ptr<LayerKVCache> AttentionPolicy::make_cache(int64_t layer) {
  return make_dense_cache(context_.shape.num_kv_heads, context_.shape.head_dim, context_.dtype, context_.device,
                          context_.reserve_tokens);
}

}  // namespace loom::model
