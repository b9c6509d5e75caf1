// What turns texts into vectors for the embedding retrievers (docs/rag.md): the /v1/embeddings client
// (embedding_client.h) or a local encoder (method contriever: loom_rag_encoder's BERT encoder, bert_embedder.h).
// loom_rag is torch-free, so the local encoder is reached through a factory that the program installs
// (loom_mpi's main, the tests that need it); without one, method contriever is refused with the reason.
#pragma once

#include "rag/rag_config.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loom::rag {

class TextEmbedder {
 public:
  virtual ~TextEmbedder() = default;
  // One vector per text, in order. Throws (EmbeddingError or InputError) with the reason.
  virtual std::vector<std::vector<double>> embed(const std::vector<std::string>& texts) = 0;
};

using LocalEmbedderFactory = std::function<std::unique_ptr<TextEmbedder>(const RagConfig&)>;

// Installs the factory of method contriever's local encoder (replacing any earlier one).
void set_local_embedder_factory(LocalEmbedderFactory factory);
// The local encoder for `config` (rag.model, rag.device); throws loom::Error when no factory is installed.
std::unique_ptr<TextEmbedder> make_local_embedder(const RagConfig& config);

}  // namespace loom::rag
