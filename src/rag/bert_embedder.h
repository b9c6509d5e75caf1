// method contriever's local encoder (docs/rag.md): LOOM-Scope's contriever retriever (models/rag/contriever/
// contriever.py, loom-scope 0.8) embeds each text alone: tokenized by the model's tokenizer with its special
// tokens ([CLS] ... [SEP]) and truncated to 512 tokens, run through the BERT encoder (bert_encoder.h), and averaged
// over every token of the last hidden state. Here the same, with the tokenizer.json of rag.model (text/tokenizer.h)
// and the encoder on rag.device; texts run one at a time as upstream (so equal texts get equal vectors). Method
// llamaindex uses the same encoder with [CLS] pooling.
#pragma once

#include "rag/bert_encoder.h"
#include "rag/rag_config.h"
#include "rag/text_embedder.h"
#include "text/tokenizer.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace loom::rag {

class BertEmbedder final : public TextEmbedder {
 public:
  // Loads <model_dir>/tokenizer.json, config.json and the weights; `device`: cpu, cuda or cuda:N.
  BertEmbedder(const std::filesystem::path& model_dir, const std::string& device,
               BertEncoder::Pooling pooling = BertEncoder::Pooling::kMean);
  std::vector<std::vector<double>> embed(const std::vector<std::string>& texts) override;

  // The ids the encoder sees for `text`: special tokens added, truncated to max_tokens() (the text's own ids are
  // cut, the special tokens kept, as transformers' truncation=True does).
  std::vector<int32_t> token_ids(const std::string& text) const;
  int64_t max_tokens() const;

 private:
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<BertEncoder> encoder_;
  BertEncoder::Pooling pooling_;
};

// The device a rag.device value names; InputError (key rag.device) for anything else or a CUDA device libtorch
// cannot reach.
at::Device encoder_device(const std::string& name);

// Installs BertEmbedder as the local encoder (text_embedder.h): mean pooling for method contriever, the [CLS]
// token's state for method llamaindex (BAAI/bge-small-en-v1.5 through sentence-transformers, LOOM-Scope's
// llamaindex model; its L2 normalisation does not change the cosine similarity).
void install_bert_embedder();

}  // namespace loom::rag
