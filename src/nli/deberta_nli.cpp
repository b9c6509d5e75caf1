#include "nli/deberta_nli.h"

#include "common/error.h"
#include "metrics/judged/lciteeval_citation.h"
#include "text/json_fields.h"
#include "text/sentencepiece_tokenizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <climits>
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
    if (config.contains("added_tokens_decoder")) {
      const text::Json& added = config["added_tokens_decoder"];
      if (!added.is_object())
        throw InputError(tokenizer_config.string(), 0, "added_tokens_decoder", "an object of id -> added token");
      for (auto it = added.begin(); it != added.end(); ++it) {
        const text::Json& token = it.value();
        const std::string key = "added_tokens_decoder." + it.key();
        if (!token.is_object() || !token.contains("content") || !token["content"].is_string() ||
            token["content"].get<std::string>().empty())
          throw InputError(tokenizer_config.string(), 0, key, "an added token with a non-empty \"content\"");
        size_t used = 0;
        int64_t id = -1;
        try {
          id = std::stoll(it.key(), &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != it.key().size() || id < 0 || id > INT32_MAX)
          throw InputError(tokenizer_config.string(), 0, key, "a token id as the key");
        if (token.value("normalized", false) || token.value("single_word", false)) continue;
        added_.push_back({token["content"].get<std::string>(), static_cast<int32_t>(id), token.value("lstrip", false),
                          token.value("rstrip", false)});
      }
      std::stable_sort(added_.begin(), added_.end(), [](const AddedToken& a, const AddedToken& b) {
        return a.content.size() > b.content.size();
      });
    }
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

std::vector<int32_t> DebertaNli::encode_text(const std::string& text) const {
  std::vector<int32_t> out;
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  size_t begin = 0;  // the next piece of plain text
  size_t skip_leading = 0;
  for (;;) {
    // The earliest added token from `begin` (the longest where several start there).
    size_t at = std::string::npos;
    const AddedToken* found = nullptr;
    for (const AddedToken& token : added_) {
      const size_t pos = text.find(token.content, begin);
      if (pos != std::string::npos && (pos < at || (pos == at && token.content.size() > found->content.size()))) {
        at = pos;
        found = &token;
      }
    }
    size_t end = found ? at : text.size();
    std::string piece = text.substr(begin, end - begin);
    if (skip_leading) {  // the previous token's rstrip
      size_t n = 0;
      while (n < piece.size() && is_space(piece[n])) ++n;
      piece.erase(0, n);
    }
    if (found && found->lstrip)
      while (!piece.empty() && is_space(piece.back())) piece.pop_back();
    if (!piece.empty()) {
      const std::vector<int32_t> ids = tokenizer_->encode(piece, false);
      out.insert(out.end(), ids.begin(), ids.end());
    }
    if (!found) break;
    out.push_back(found->id);
    begin = at + found->content.size();
    skip_leading = found->rstrip ? 1 : 0;
  }
  return out;
}

PairEncoding DebertaNli::encode(const std::string& premise, const std::string& hypothesis) const {
  const std::vector<int32_t> a = encode_text(premise);
  const std::vector<int32_t> b = encode_text(hypothesis);
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
