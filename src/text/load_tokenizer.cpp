// load_tokenizer: picks tokenizer.json (preferred, as transformers does) or tokenizer.model in a model directory.
#include <filesystem>

#include "common/error.h"
#include "text/json_fields.h"
#include "text/json_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"
#include "text/tokenizer.h"

namespace loom::text {

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model_dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(model_dir)) {
    throw InputError(model_dir.string(), 0, "", "expected a model directory holding tokenizer.json or tokenizer.model");
  }
  const fs::path json_file = model_dir / "tokenizer.json";
  if (fs::exists(json_file)) return JsonTokenizer::from_file(json_file.string());
  const fs::path sp_file = model_dir / "tokenizer.model";
  if (fs::exists(sp_file)) {
    bool add_bos = true, add_eos = false;
    const fs::path config_file = model_dir / "tokenizer_config.json";
    if (fs::exists(config_file)) {
      const Json config = read_json_file(config_file.string());
      const JsonPath path{config_file.string(), ""};
      add_bos = optional_bool(config, "add_bos_token", true, path);
      add_eos = optional_bool(config, "add_eos_token", false, path);
    }
    return std::make_unique<SentencePieceTokenizer>(sp_file.string(), add_bos, add_eos);
  }
  throw InputError(model_dir.string(), 0, "", "the model directory has neither tokenizer.json nor tokenizer.model");
}

std::string clean_up_tokenization_spaces(std::string_view text) {
  // The replacements of transformers' _decode, applied one after the other over the whole text.
  static const std::pair<std::string_view, std::string_view> kReplacements[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  std::string current(text);
  for (const auto& [from, to] : kReplacements) {
    std::string next;
    next.reserve(current.size());
    size_t pos = 0;
    for (size_t at = current.find(from); at != std::string::npos; at = current.find(from, pos)) {
      next.append(current, pos, at - pos);
      next += to;
      pos = at + from.size();
    }
    next.append(current, pos, std::string::npos);
    current.swap(next);
  }
  return current;
}

bool config_cleans_up_tokenization_spaces(const std::filesystem::path& model_dir) {
  const auto config_file = model_dir / "tokenizer_config.json";
  if (!std::filesystem::exists(config_file)) return false;
  const Json config = read_json_file(config_file.string());
  return optional_bool(config, "clean_up_tokenization_spaces", false, {config_file.string(), ""});
}

}  // namespace loom::text
