// Decode steps as CUDA graphs: one graph per batch-size bucket (1, 2, 4, 8, 16, 24, 32, 48, 64, ...), captured the
// first time a step of that size runs and replayed afterwards, so a step costs one launch instead of ~15 per layer.
// The graph reads its inputs from fixed device buffers (token ids, positions, slots; entries past the batch are
// padding with slot -1, which the paged kernels skip) and the PagedKVStore's fixed pools, tables and lengths, so it
// stays valid while caches grow. Capture runs with every slot -1: nothing is written to any cache.
// usable(): a CUDA build on a CUDA device, static RoPE, no tensor parallelism (collectives are not captured),
// mixture-of-experts layers only where they run the grouped experts (DecoderModel::mlp_capturable: bf16 on a compute
// capability 9.x/10.x device with libtorch >= 2.8; the per-expert path reads its token counts on the host,
// sparse_moe.h), and paged kernels for the model's dtype and head_dim. Otherwise the scheduler runs forward_decode
// eagerly.
#pragma once

#include "rank/model/decoder_model.h"
#include "rank/model/paged_kv_store.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace loom::model {

struct DecodeOutput {
  at::Tensor logits;  // fp32 [rows, vocab] on the device (rows >= batch)
  at::Tensor greedy;  // int64 [rows]: argmax of each row (lowest id on ties)
  at::Tensor finite;  // bool [rows]: every logit finite
};

class DecodeGraphs {
 public:
  DecodeGraphs(DecoderModel& model, const PagedKVStore& store, int64_t max_batch, bool enabled);
  ~DecodeGraphs();

  bool usable() const { return usable_; }
  void disable();  // after a capture failed: every later step runs eagerly
  int64_t captured() const;  // graphs captured so far
  // One step for ids.size() entries (all paged). The outputs' first ids.size() rows belong to them.
  DecodeOutput run(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions,
                   const std::vector<int32_t>& slots);

 private:
  struct Impl;
  bool usable_ = false;
  std::unique_ptr<Impl> impl_;
};

// The bucket a batch of `batch` entries runs in (>= batch; max_batch when larger than every bucket).
int64_t decode_bucket(int64_t batch, int64_t max_batch);

}  // namespace loom::model
