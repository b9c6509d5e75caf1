// Chat templates: the model's conversation format, rendered to the exact string transformers'
// `apply_chat_template(messages, tokenize=False, add_generation_prompt=True)` produces.
// Known formats: llama3 (Llama-3.0), llama3_1 (Llama-3.1+, with the "Cutting Knowledge Date" system header), llama2,
// chatml (Qwen2/2.5 and other ChatML models), qwen3 (ChatML with Qwen3's think blocks; thinking off by default),
// mistral (Mistral-7B-Instruct v0.1 template), mistral_v3 (v0.3 / Large-2407 "v3" template), glm4, phi3, gemma3,
// raw.
// The format is recognised from tokenizer_config.json's `chat_template`; a job file may override it by name. Rendering follows each model's Jinja template for plain system/user/assistant messages
// (tools and multimodal content are not supported).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace loom::text {

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

struct SpecialTokens {
  std::string bos_token;  // may be empty
  std::string eos_token;
  bool add_bos_token = false;  // tokenizer_config.json "add_bos_token" (SentencePiece models)
};

// Details a model's template fixes beyond its format (read from the template text when it is recognised).
struct ChatTemplateDetails {
  std::string default_system_prompt;  // chatml: system turn added when the conversation has none (Qwen2/2.5)
  std::string date_string = "26 Jul 2024";  // llama3_1: "Today Date" (Llama-3.1's template default)
  bool date_from_clock = false;             // llama3_1: the template uses strftime_now (Llama-3.2): today's date
};

class ChatTemplate {
 public:
  // name: one of the known formats above; an unknown name is an InputError (key "chat_template").
  ChatTemplate(std::string name, SpecialTokens tokens, bool enable_thinking = false);
  ChatTemplate(std::string name, SpecialTokens tokens, bool enable_thinking, ChatTemplateDetails details);

  const std::string& name() const { return name_; }
  // "raw" returns the concatenated contents unchanged.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true) const;

 private:
  std::string name_;
  SpecialTokens tokens_;
  bool enable_thinking_;
  ChatTemplateDetails details_;
};

// Recognises a Jinja chat template's format; returns an empty name when it is not one of the known formats.
// `details` receives what the template fixes (default system prompt, date).
std::string recognise_chat_template(const std::string& template_text, ChatTemplateDetails& details);

// Reads <dir>/tokenizer_config.json (special tokens, chat_template; or <dir>/chat_template.jinja /
// chat_template.json as newer transformers save it) and recognises the format. A model without any chat template
// gets "raw" (a warning is logged).
// override_name: a job-file choice ("llama3", "chatml", ..., "raw"); when empty the format is recognised from the
// template text, and an unrecognisable template is an InputError naming the file and the key `chat_template`.
ChatTemplate load_chat_template(const std::filesystem::path& model_dir, const std::string& override_name = "",
                                bool enable_thinking = false);

// Names accepted by ChatTemplate.
const std::vector<std::string>& known_chat_templates();

}  // namespace loom::text
