// Chat templates: the model's conversation format, rendered to the exact string transformers'
// `apply_chat_template(messages, tokenize=False, add_generation_prompt=True)` produces.
// Known formats: llama3, llama2, chatml (Qwen2/3; thinking off by default), mistral, glm4, phi3, raw.
// The format is recognised from tokenizer_config.json's `chat_template`; a job file may override it by name.
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

class ChatTemplate {
 public:
  // name: one of the known formats above.
  ChatTemplate(std::string name, SpecialTokens tokens, bool enable_thinking = false);

  const std::string& name() const { return name_; }
  // "raw" returns the concatenated contents unchanged.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true) const;

 private:
  std::string name_;
  SpecialTokens tokens_;
  bool enable_thinking_;
};

// Reads <dir>/tokenizer_config.json (special tokens, chat_template) and recognises the format.
// override_name: a job-file choice ("llama3", "chatml", ..., "raw"); when empty the format is recognised from the
// template text, and an unrecognisable template is an InputError naming the file and the key `chat_template`.
ChatTemplate load_chat_template(const std::filesystem::path& model_dir, const std::string& override_name = "",
                                bool enable_thinking = false);

// Names accepted by ChatTemplate.
const std::vector<std::string>& known_chat_templates();

}  // namespace loom::text
