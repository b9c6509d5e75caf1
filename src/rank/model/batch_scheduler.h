// Continuous batching inside one engine (the body of InferenceEngine::submit/step/load).
//
// A submitted request becomes a Sequence; requests submitted together with the same prompt whose policies keep the
// dense prefill share one PrefillJob. step() does, in this order:
//   1. admission: the oldest waiting job starts its prefill when the KV pool can reserve its worst case
//      (prompt + max_new_tokens in every row of every member) and decode slots are free; with nothing else
//      running, a job that can never fit fails with the reason;
//   2. one prefill chunk of the job being prefilled (timed alone, synchronised); after its last chunk every member
//      runs finish_prefill, takes its first token, and moves its caches into the PagedKVStore (or keeps them when
//      they have no plain rows: quantized and channel-pruned caches);
//   3. one decode step of every decoding sequence: pages for the next token, then one forward for all of them
//      (a CUDA graph replay when every one is paged and the RoPE is static, decode_graphs.h), greedy tokens chosen
//      on the device, sampled ones on the host.
// A sequence whose policy compresses while decoding (decode_compression.h) records its queries in every decode step
// (such steps run without CUDA graphs) and, when due, has its paged rows rewritten after the step.
// A request with a question (InferenceRequest::question_tokens) prefills only its context in step 2 and feeds its
// question tokens through step 3, one per step, over the compressed cache (counted as prefill time); its first
// generated token comes from the question's last token.
// So long prefills interleave with running decodes one chunk per step, and a request's decode_seconds is the sum of
// the decode steps it took part in (no other request's prefill). A failure in a chunk fails that job's members, a
// failure in a decode step the members of that step, non-finite logits the sequence that produced them; the rest go
// on.
#pragma once

#include "rank/model/decode_graphs.h"
#include "rank/model/device.h"
#include "rank/model/generation.h"
#include "rank/model/paged_kv_store.h"

#include <deque>
#include <memory>
#include <vector>

namespace loom::model {

struct SchedulerOptions {
  int32_t max_running = 1;   // requests admitted at once (prefilling or decoding); at most the store's slots
  bool cuda_graphs = true;
  bool share_prefills = true;  // requests with the same prefill (a sweep's methods) share one; false: one each
};

class BatchScheduler {
 public:
  BatchScheduler(GenerationResources resources, std::unique_ptr<PagedKVStore> store, SchedulerOptions options);
  ~BatchScheduler();

  void submit(std::vector<InferenceRequest> requests);
  std::vector<InferenceResult> step();
  EngineLoad load() const;
  bool idle() const;

  const PagedKVStore& store() const { return *store_; }

 private:
  struct PrefillJob;
  enum class Admission { kAdmitted, kWait, kFailed };

  Admission try_admit(PrefillJob& job);
  void run_prefill_chunk(PrefillJob& job);
  void finish_prefill(PrefillJob& job, const at::Tensor& logits);
  void move_to_pages(Sequence& seq);
  void decode_step();
  void finish(Sequence& seq);
  void fail_sequence(Sequence& seq, const std::string& reason);
  int64_t reservation_for(const Sequence& seq) const;
  int64_t future_pages(const Sequence& seq) const;  // pages a paged sequence may still allocate
  int64_t reserved_pages() const;

  GenerationResources res_;
  std::unique_ptr<PagedKVStore> store_;
  SchedulerOptions options_;
  std::unique_ptr<DecodeGraphs> graphs_;
  std::vector<std::unique_ptr<Sequence>> live_;  // every sequence not yet returned
  std::deque<std::unique_ptr<PrefillJob>> waiting_;
  std::unique_ptr<PrefillJob> prefilling_;
  std::vector<Sequence*> decoding_;
  std::vector<InferenceResult> done_;
  PeakMemoryMeter meter_;
};

}  // namespace loom::model
