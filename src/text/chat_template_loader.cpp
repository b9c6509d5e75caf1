// load_chat_template / recognise_chat_template: finds a model's Jinja chat template (tokenizer_config.json,
// chat_template.jinja or chat_template.json) and maps it to one of the known formats by its distinctive markers.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>
#include <sstream>

#include "common/error.h"
#include "text/chat_template.h"
#include "text/json_fields.h"

namespace loom::text {

namespace {

bool contains(const std::string& text, const char* marker) { return text.find(marker) != std::string::npos; }

// A special token in tokenizer_config.json: a string, an AddedToken object {"content": ...}, or null.
std::string token_string(const Json& config, const char* key, const JsonPath& path) {
  if (!config.contains(key) || config[key].is_null()) return {};
  const Json& value = config[key];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  (path / key).fail("expected a token string, {\"content\": ...} or null");
}

std::string read_text_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), 0, "", "cannot open the file for reading");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The template text from a "chat_template" value: a string, or a list of {"name", "template"} (the "default" one).
std::string template_from_value(const Json& value, const JsonPath& path) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      const Json& entry = value[i];
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string()) {
        return entry["template"].get<std::string>();
      }
    }
    path.fail("a list of chat templates must hold one named \"default\"");
  }
  path.fail("expected the template text or a list of {\"name\", \"template\"}");
}

// The templates are scanned linearly (std::regex recurses once per character and overflows the stack on long
// inputs). date_string\s*=\s*["']([^"']+)["']: the first quoted value assigned to date_string.
std::optional<std::string> assigned_date_string(std::string_view text) {
  const std::string_view name = "date_string";
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    size_t pos = at + name.size();
    while (pos < text.size() && is_space(text[pos])) ++pos;
    if (pos >= text.size() || text[pos] != '=') continue;
    ++pos;
    while (pos < text.size() && is_space(text[pos])) ++pos;
    if (pos >= text.size() || (text[pos] != '"' && text[pos] != '\'')) continue;
    const size_t start = ++pos;
    while (pos < text.size() && text[pos] != '"' && text[pos] != '\'') ++pos;
    if (pos > start && pos < text.size()) return std::string(text.substr(start, pos - start));
  }
  return std::nullopt;
}

// <|im_start|>system\n([^'"{}<]+)<|im_end|> with a literal backslash-n (the template's Jinja string): the text of a
// default system turn written into the template.
std::optional<std::string> literal_system_turn(std::string_view text) {
  const std::string_view open = "<|im_start|>system\\n";
  for (size_t at = text.find(open); at != std::string_view::npos; at = text.find(open, at + 1)) {
    const size_t start = at + open.size();
    const size_t end = text.find_first_of("'\"{}<", start);
    if (end == std::string_view::npos || end == start) continue;
    if (text.substr(end, 10) == "<|im_end|>") return std::string(text.substr(start, end - start));
  }
  return std::nullopt;
}

}  // namespace

std::string recognise_chat_template(const std::string& text, ChatTemplateDetails& details) {
  details = ChatTemplateDetails{};
  if (contains(text, "<|start_header_id|>")) {
    if (!contains(text, "Cutting Knowledge Date")) return "llama3";
    details.date_from_clock = contains(text, "strftime_now");
    if (auto date = assigned_date_string(text)) details.date_string = *date;
    return "llama3_1";
  }
  if (contains(text, "<|im_start|>")) {
    if (contains(text, "enable_thinking") || contains(text, "</think>")) return "qwen3";
    // A default system turn written literally in the template (Qwen2 / Qwen2.5).
    if (auto system = literal_system_turn(text)) details.default_system_prompt = *system;
    return "chatml";
  }
  if (contains(text, "[gMASK]<sop>")) return "glm4";
  if (contains(text, "[INST]")) {
    if (contains(text, "<<SYS>>")) return "llama2";
    // Mistral "v3": the system message joins the last user turn ("[INST] " with a space; the "v3-tekken" variant
    // without it is not supported and is reported as unrecognised).
    if (contains(text, "loop.last and system_message is defined")) {
      return contains(text, "\"[INST] \" + system_message") ? "mistral_v3" : "";
    }
    return "mistral";
  }
  if (contains(text, "<|user|>") && contains(text, "<|end|>")) return "phi3";
  if (contains(text, "<start_of_turn>") && contains(text, "first_user_prefix")) return "gemma3";
  return {};
}

ChatTemplate load_chat_template(const std::filesystem::path& model_dir, const std::string& override_name,
                                bool enable_thinking) {
  namespace fs = std::filesystem;
  const fs::path config_file = model_dir / "tokenizer_config.json";
  SpecialTokens tokens;
  std::string template_text;
  std::string template_source = config_file.string();
  if (fs::exists(config_file)) {
    const Json config = read_json_file(config_file.string());
    const JsonPath path{config_file.string(), ""};
    if (!config.is_object()) path.fail("expected a JSON object at the top level");
    tokens.bos_token = token_string(config, "bos_token", path);
    tokens.eos_token = token_string(config, "eos_token", path);
    tokens.add_bos_token = optional_bool(config, "add_bos_token", false, path);
    if (config.contains("chat_template") && !config["chat_template"].is_null()) {
      template_text = template_from_value(config["chat_template"], path / "chat_template");
    }
  }
  if (template_text.empty() && fs::exists(model_dir / "chat_template.jinja")) {
    template_source = (model_dir / "chat_template.jinja").string();
    template_text = read_text_file(model_dir / "chat_template.jinja");
  }
  if (template_text.empty() && fs::exists(model_dir / "chat_template.json")) {
    template_source = (model_dir / "chat_template.json").string();
    const Json json = read_json_file(template_source);
    template_text = template_from_value(require_member(json, "chat_template", {template_source, ""}),
                                        {template_source, "chat_template"});
  }

  ChatTemplateDetails details;
  const std::string recognised = template_text.empty() ? std::string() : recognise_chat_template(template_text, details);
  if (!override_name.empty()) {
    // Keep what the model's own template fixes when the job names the same format.
    if (override_name != recognised) details = ChatTemplateDetails{};
    return ChatTemplate(override_name, tokens, enable_thinking, details);
  }
  if (template_text.empty()) {
    spdlog::warn("{}: no chat template (tokenizer_config.json has no chat_template): prompts are used as they are "
                 "(\"raw\")",
                 model_dir.string());
    return ChatTemplate("raw", tokens, enable_thinking);
  }
  if (recognised.empty()) {
    std::string names;
    for (const auto& n : known_chat_templates()) names += (names.empty() ? "" : ", ") + n;
    throw InputError(template_source, 0, "chat_template",
                     "the chat template is not one of the known formats; name one in the job file (" + names + ")");
  }
  return ChatTemplate(recognised, tokens, enable_thinking, details);
}

}  // namespace loom::text
