// `loom_mpi serve`'s HTTP server: OpenAI's /v1/completions, /v1/chat/completions and /v1/models over one
// InferenceEngine (cpp-httplib). Requests are parsed by parse_completion_request (400 with the key on a bad one),
// rendered (chat template) and tokenized here, then handed to one engine thread that batches them continuously: every
// request that arrives while others run is submitted at once and joins the running batch (up to the engine's
// max_batch_size decode slots; the rest wait in the engine's queue). Each response carries OpenAI's `usage` (prompt and
// completion tokens from this model's tokenizer) and a `loom` object (output ids, method, timings).
// /v1/embeddings: each input's final hidden states (after the model's final norm) pooled over its tokens (mean by
// default, or the last token's: ServedModel::embedding_pooling, a request's `loom_pooling`) and L2-normalised; the
// engine thread runs them between decode steps (InferenceEngine::hidden_states, a prefill-only forward).
#pragma once

#include "rank/model/inference_engine.h"
#include "serve/openai_request.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace loom::serve {

struct ServedModel {
  std::string name;  // what /v1/models lists and responses name
  std::unique_ptr<model::InferenceEngine> engine;
  std::unique_ptr<text::Tokenizer> tokenizer;
  text::ChatTemplate chat_template;
  int64_t max_context = 0;  // prompt + max_tokens must fit
  int64_t vocab_size = 0;
  model::HiddenPooling embedding_pooling = model::HiddenPooling::kMean;  // /v1/embeddings without loom_pooling
  // The engine was made for the full cache alone (EngineOptions::prefill_cache_copies 1: a larger KV pool): a
  // request naming another loom_method gets 400.
  bool full_cache_only = false;
};

class OpenAiServer {
 public:
  explicit OpenAiServer(ServedModel model);
  ~OpenAiServer();
  OpenAiServer(const OpenAiServer&) = delete;
  OpenAiServer& operator=(const OpenAiServer&) = delete;

  // Binds host:port (port 0: any free port) and returns the port; throws loom::Error when it cannot.
  int bind(const std::string& host, int port);
  // Serves until stop() (from any thread). Blocks.
  void serve();
  void stop();

 private:
  nlohmann::json complete(const CompletionRequest& request);
  nlohmann::json embed(const EmbeddingRequest& request);
  std::vector<std::vector<float>> pooled(std::vector<std::vector<int32_t>> prompts, model::HiddenPooling pooling);
  model::InferenceResult generate(model::InferenceRequest request);
  void engine_loop();

  ServedModel model_;
  std::unique_ptr<httplib::Server> http_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::pair<model::InferenceRequest, std::promise<model::InferenceResult>>> pending_;
  std::map<int64_t, std::promise<model::InferenceResult>> running_;
  struct EmbeddingJob {
    std::vector<std::vector<int32_t>> prompts;
    model::HiddenPooling pooling;
    std::promise<std::vector<std::vector<float>>> done;
  };
  std::vector<EmbeddingJob> pending_embeddings_;
  int64_t next_tag_ = 0;
  bool stopping_ = false;
  std::thread engine_thread_;
};

}  // namespace loom::serve
