#include "rag/bert_embedder.h"

#include "common/error.h"

#include <ATen/Context.h>

#include <algorithm>
#include <regex>

namespace loom::rag {

namespace {
constexpr int64_t kLoomScopeMaxLength = 512;  // contriever.py: truncation=True, max_length=512
}  // namespace

at::Device encoder_device(const std::string& name) {
  static const std::regex pattern("cpu|cuda(:[0-9]+)?");
  if (!std::regex_match(name, pattern))
    throw InputError("", 0, "rag.device", "cpu, cuda or cuda:N, got '" + name + "'");
  const at::Device device(name);
  if (device.is_cuda() && (!at::hasCUDA() || device.index() >= static_cast<int>(at::getNumGPUs())))
    throw InputError("", 0, "rag.device", "a device this process can reach; " + name + " is not available");
  return device;
}

BertEmbedder::BertEmbedder(const std::filesystem::path& model_dir, const std::string& device,
                           BertEncoder::Pooling pooling)
    : tokenizer_(text::load_tokenizer(model_dir)),
      encoder_(std::make_unique<BertEncoder>(model_dir, encoder_device(device))),
      pooling_(pooling) {
  if (tokenizer_->vocab_size() > encoder_->config().vocab_size)
    throw InputError((model_dir / "tokenizer.json").string(), 0, "model.vocab",
                     "at most config.json's vocab_size (" + std::to_string(encoder_->config().vocab_size) +
                         ") tokens, got " + std::to_string(tokenizer_->vocab_size()));
}

int64_t BertEmbedder::max_tokens() const { return std::min(kLoomScopeMaxLength, encoder_->config().max_positions); }

std::vector<int32_t> BertEmbedder::token_ids(const std::string& text) const {
  const auto [prefix, suffix] = tokenizer_->special_frame();
  std::vector<int32_t> own = tokenizer_->encode(text, /*add_special_tokens=*/false);
  const int64_t room = std::max<int64_t>(0, max_tokens() - static_cast<int64_t>(prefix.size() + suffix.size()));
  if (static_cast<int64_t>(own.size()) > room) own.resize(static_cast<size_t>(room));
  std::vector<int32_t> ids = prefix;
  ids.insert(ids.end(), own.begin(), own.end());
  ids.insert(ids.end(), suffix.begin(), suffix.end());
  return ids;
}

std::vector<std::vector<double>> BertEmbedder::embed(const std::vector<std::string>& texts) {
  std::vector<std::vector<int32_t>> sequences;
  sequences.reserve(texts.size());
  for (const std::string& text : texts) sequences.push_back(token_ids(text));
  return encoder_->pooled(sequences, pooling_, /*batch_size=*/1);
}

void install_bert_embedder() {
  set_local_embedder_factory([](const RagConfig& config) -> std::unique_ptr<TextEmbedder> {
    return std::make_unique<BertEmbedder>(
        config.model, config.device,
        config.method == "llamaindex" ? BertEncoder::Pooling::kCls : BertEncoder::Pooling::kMean);
  });
}

}  // namespace loom::rag
