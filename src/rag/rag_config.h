// The job's `rag:` section (docs/rag.md, docs/job-file.md): how a sample's context is replaced by retrieved chunks.
#pragma once

#include <string>

namespace loom::rag {

struct RagConfig {
  std::string method;       // empty: no retrieval; bm25 | embedding | contriever | llamaindex
  int chunk_size = 512;     // chunker tokens per chunk (chunker.h)
  int overlap = 0;          // chunker tokens carried over into the next chunk
  int num_chunks = 15;      // chunks kept (top-k)
  std::string order = "score";  // score: best first (LOOM-Scope's order); document: in the context's order
  // method embedding: an OpenAI-compatible /v1/embeddings endpoint.
  std::string base_url;     // e.g. http://127.0.0.1:8000/v1 (POST <base_url>/embeddings)
  std::string model;        // embedding: sent as "model" (empty: not sent); contriever, llamaindex: the encoder's
                            // directory
  std::string api_key_env;  // variable holding the key (empty: no Authorization header)
  double timeout_s = 60;    // per request
  int max_retries = 4;      // retries after a timeout, a refused connection, 408, 429 or 5xx
  int batch_size = 64;      // texts per request
  // methods contriever and llamaindex: a local BERT encoder (config.json, model.safetensors, tokenizer.json in
  // `model`).
  std::string device = "cpu";  // cpu | cuda | cuda:N
  // method llamaindex: the text put before the question for the local encoder (HuggingFaceEmbedding's query
  // instruction for BGE English models), and the directory whose tokenizer.json counts chunk_size / overlap tokens
  // (empty: `model`'s; required with base_url, where embeddings come from the endpoint).
  std::string query_instruction = "Represent this question for searching relevant passages: ";
  std::string chunk_tokenizer;

  bool enabled() const { return !method.empty(); }
};

}  // namespace loom::rag
