#include "nli/deberta_nli.h"

#include "common/error.h"
#include "metrics/judged/lciteeval_citation.h"
#include "text/json_fields.h"
#include "text/sentencepiece_tokenizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <regex>

namespace loom::nli {

namespace fs = std::filesystem;

namespace {

at::Device classifier_device(const std::string& name) {
  static const std::regex pattern("cpu|cuda(:[0-9]+)?");
  if (!std::regex_match(name, pattern))
    throw InputError("", 0, "judge.nli.device", "cpu, cuda or cuda:N, got '" + name + "'");
  const at::Device device(name);
  if (device.is_cuda() && (!at::hasCUDA() || device.index() >= static_cast<int>(at::getNumGPUs())))
    throw InputError("", 0, "judge.nli.device", "a device this process can reach; " + name + " is not available");
  return device;
}

// tokenizer_config.json's special token: a string or an AddedToken object ({"content": ...}).
std::string special_token(const text::Json& config, const char* key, const std::string& fallback,
                          const fs::path& file) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const text::Json& value = config[key];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string())
    return value["content"].get<std::string>();
  throw InputError(file.string(), 0, key, "a token string or {\"content\": ...}, got " + value.dump());
}

}  // namespace

DebertaNli::DebertaNli(const fs::path& model_dir, const std::string& device) {
  const at::Device where = classifier_device(device);
  if (!fs::is_directory(model_dir))
    throw InputError(model_dir.string(), 0, "judge.nli.model",
                     "a local NLI model directory (config.json, model.safetensors, spm.model)");
  const fs::path spm = model_dir / "spm.model";
  if (!fs::is_regular_file(spm))
    throw InputError(spm.string(), 0, "",
                     "DeBERTa-v3's SentencePiece model spm.model (the tokenizer is read from it; tokenizer.json's "
                     "Unigram model is not read here)");
  std::string cls = "[CLS]", sep = "[SEP]";
  const fs::path tokenizer_config = model_dir / "tokenizer_config.json";
  if (fs::exists(tokenizer_config)) {
    const text::Json config = text::read_json_file(tokenizer_config.string());
    const text::JsonPath path{tokenizer_config.string(), ""};
    if (text::optional_bool(config, "do_lower_case", false, path))
      throw InputError(tokenizer_config.string(), 0, "do_lower_case", "false (as DeBERTa-v3), got true");
    if (text::optional_bool(config, "split_by_punct", false, path))
      throw InputError(tokenizer_config.string(), 0, "split_by_punct", "false (as DeBERTa-v3), got true");
    cls = special_token(config, "cls_token", cls, tokenizer_config);
    sep = special_token(config, "sep_token", sep, tokenizer_config);
  }
  tokenizer_ = std::make_unique<text::SentencePieceTokenizer>(spm.string(), false, false);
  const auto id_of = [&](const std::string& token, const char* key) {
    const std::optional<int32_t> id = tokenizer_->token_to_id(token);
    if (!id || *id < 0)
      throw InputError(spm.string(), 0, key, "a piece " + token + " (the pair encoding's " + key + ")");
    return *id;
  };
  cls_id_ = id_of(cls, "cls_token");
  sep_id_ = id_of(sep, "sep_token");
  // The labels first, before the weights are read.
  const std::vector<std::string> labels = read_deberta_v2_config(model_dir).labels;
  if (std::find(labels.begin(), labels.end(), std::string(metrics::judged::kNliEntailmentLabel)) == labels.end())
    throw InputError((model_dir / "config.json").string(), 0, "id2label",
                     fmt::format("a label named entailment (upstream counts a pair entailed iff the pipeline's label "
                                 "is \"entailment\"), got {}",
                                 fmt::join(labels, ", ")));
  classifier_ = std::make_unique<DebertaV2Classifier>(model_dir, where);
  if (tokenizer_->vocab_size() > classifier_->config().vocab_size)
    throw InputError(spm.string(), 0, "vocab_size",
                     fmt::format("at most config.json's vocab_size ({}) pieces, got {}",
                                 classifier_->config().vocab_size, tokenizer_->vocab_size()));
}

PairEncoding DebertaNli::encode(const std::string& premise, const std::string& hypothesis) const {
  const std::vector<int32_t> a = tokenizer_->encode(premise, false);
  const std::vector<int32_t> b = tokenizer_->encode(hypothesis, false);
  PairEncoding out;
  out.ids.reserve(a.size() + b.size() + 3);
  out.ids.push_back(cls_id_);
  out.ids.insert(out.ids.end(), a.begin(), a.end());
  out.ids.push_back(sep_id_);
  out.token_types.assign(out.ids.size(), 0);
  out.ids.insert(out.ids.end(), b.begin(), b.end());
  out.ids.push_back(sep_id_);
  out.token_types.resize(out.ids.size(), 1);
  return out;
}

std::vector<float> DebertaNli::logits(const std::string& premise, const std::string& hypothesis) const {
  const PairEncoding pair = encode(premise, hypothesis);
  return classifier_->logits(pair.ids, pair.token_types);
}

std::string DebertaNli::label(const std::string& premise, const std::string& hypothesis) {
  const std::vector<float> scores = logits(premise, hypothesis);
  const size_t best = static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  return classifier_->config().labels.at(best);
}

void install_deberta_nli() {
  metrics::judge::set_local_nli_factory([](const metrics::judge::NliConfig& config) {
    return std::make_unique<DebertaNli>(config.model_dir, config.device);
  });
}

}  // namespace loom::nli
