// Rendering of the known chat formats. Each function reproduces its model's Jinja template (quoted in
// docs/tokenizers.md) for plain system / user / assistant messages, including the whitespace trimming the
// template applies (Jinja `trim` and Python `str.strip` remove Unicode whitespace).
#include <algorithm>
#include <ctime>
#include <optional>
#include <stdexcept>

#include "common/error.h"
#include "text/chat_template.h"
#include "text/utf8.h"

namespace loom::text {

namespace {

// Python str.isspace for one code point (White_Space plus the information separators U+001C..U+001F).
bool python_space(char32_t c) { return is_unicode_whitespace(c) || (c >= 0x1C && c <= 0x1F); }

// Python str.strip() / lstrip() / rstrip() without arguments.
std::string python_strip(const std::string& s, bool left = true, bool right = true) {
  size_t begin = 0, end = s.size();
  if (left) {
    size_t pos = 0;
    while (pos < s.size()) {
      size_t next = pos;
      if (!python_space(next_code_point(s, next))) break;
      pos = next;
    }
    begin = pos;
  }
  if (right) {
    size_t pos = begin, last = begin;
    while (pos < s.size()) {
      if (!python_space(next_code_point(s, pos))) last = pos;
    }
    end = last;
  }
  return s.substr(begin, end - begin);
}

// Python str.strip(chars) / lstrip(chars) / rstrip(chars) for ASCII `chars`.
std::string strip_chars(const std::string& s, const char* chars, bool left, bool right) {
  const std::string set(chars);
  size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end && set.find(s[begin]) != std::string::npos) ++begin;
  }
  if (right) {
    while (end > begin && set.find(s[end - 1]) != std::string::npos) --end;
  }
  return s.substr(begin, end - begin);
}

void require_alternation(const std::vector<ChatMessage>& loop_messages, const std::string& format) {
  for (size_t i = 0; i < loop_messages.size(); ++i) {
    const bool user = loop_messages[i].role == "user";
    if (user != (i % 2 == 0)) {
      throw Error("chat template '" + format +
                  "': after an optional system message, conversation roles must alternate user/assistant/user/...");
    }
    if (!user && loop_messages[i].role != "assistant") {
      throw Error("chat template '" + format + "': only system, user and assistant roles are supported, got '" +
                  loop_messages[i].role + "'");
    }
  }
}

std::string llama3_turn(const ChatMessage& m) {
  return "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + python_strip(m.content) + "<|eot_id|>";
}

std::string render_llama3(const std::vector<ChatMessage>& messages, bool generation_prompt, const SpecialTokens& t) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0) out += t.bos_token;
    out += llama3_turn(messages[i]);
  }
  if (generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string today_date_string() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%d %b %Y", &local);
  return buffer;
}

std::string render_llama3_1(const std::vector<ChatMessage>& messages, bool generation_prompt, const SpecialTokens& t,
                            const ChatTemplateDetails& details) {
  std::string out = t.bos_token;
  size_t first = 0;
  std::string system_message;
  if (!messages.empty() && messages[0].role == "system") {
    system_message = python_strip(messages[0].content);
    first = 1;
  }
  out += "<|start_header_id|>system<|end_header_id|>\n\n";
  out += "Cutting Knowledge Date: December 2023\n";
  out += "Today Date: " + (details.date_from_clock ? today_date_string() : details.date_string) + "\n\n";
  out += system_message + "<|eot_id|>";
  for (size_t i = first; i < messages.size(); ++i) out += llama3_turn(messages[i]);
  if (generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string render_llama2(const std::vector<ChatMessage>& messages, const SpecialTokens& t) {
  std::vector<ChatMessage> loop(messages.begin(), messages.end());
  std::optional<std::string> system_message;
  if (!loop.empty() && loop[0].role == "system") {
    system_message = loop[0].content;
    loop.erase(loop.begin());
  }
  require_alternation(loop, "llama2");
  std::string out;
  for (size_t i = 0; i < loop.size(); ++i) {
    std::string content = loop[i].content;
    if (i == 0 && system_message) content = "<<SYS>>\n" + *system_message + "\n<</SYS>>\n\n" + content;
    if (loop[i].role == "user") {
      out += t.bos_token + "[INST] " + python_strip(content) + " [/INST]";
    } else {
      out += " " + python_strip(content) + " " + t.eos_token;
    }
  }
  return out;  // Llama-2's template has no generation prompt.
}

std::string render_mistral(const std::vector<ChatMessage>& messages, const SpecialTokens& t) {
  std::vector<ChatMessage> loop(messages.begin(), messages.end());
  std::optional<std::string> system_message;
  if (!loop.empty() && loop[0].role == "system") {
    system_message = loop[0].content;
    loop.erase(loop.begin());
  }
  require_alternation(loop, "mistral");
  std::string out = t.bos_token;
  for (size_t i = 0; i < loop.size(); ++i) {
    if (loop[i].role == "user") {
      const std::string prefix = (i == 0 && system_message) ? *system_message + "\n\n" : "";
      out += " [INST] " + prefix + loop[i].content + " [/INST]";
    } else {
      out += " " + loop[i].content + t.eos_token;
    }
  }
  return out;  // Mistral's template has no generation prompt: the prompt ends with [/INST].
}

// Mistral's "v3" template (Mistral-7B-Instruct-v0.3, Mistral-Large-2407): the system message goes with the last
// user message, assistant answers are trimmed.
std::string render_mistral_v3(const std::vector<ChatMessage>& messages, const SpecialTokens& t) {
  std::vector<ChatMessage> loop(messages.begin(), messages.end());
  std::optional<std::string> system_message;
  if (!loop.empty() && loop[0].role == "system") {
    system_message = loop[0].content;
    loop.erase(loop.begin());
  }
  require_alternation(loop, "mistral_v3");
  std::string out = t.bos_token;
  for (size_t i = 0; i < loop.size(); ++i) {
    if (loop[i].role == "user") {
      const bool last = i + 1 == loop.size();
      const std::string prefix = (last && system_message) ? *system_message + "\n\n" : "";
      out += "[INST] " + prefix + loop[i].content + "[/INST]";
    } else {
      out += " " + python_strip(loop[i].content) + t.eos_token;
    }
  }
  return out;
}

std::string render_chatml(const std::vector<ChatMessage>& messages, bool generation_prompt,
                          const ChatTemplateDetails& details) {
  std::string out;
  if (!details.default_system_prompt.empty() && (messages.empty() || messages[0].role != "system")) {
    out += "<|im_start|>system\n" + details.default_system_prompt + "<|im_end|>\n";
  }
  for (const auto& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  if (generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

// Last part of `s` after the final occurrence of `separator` (Python s.split(separator)[-1]).
std::string after_last(const std::string& s, const std::string& separator) {
  const size_t at = s.rfind(separator);
  return at == std::string::npos ? s : s.substr(at + separator.size());
}

std::string before_first(const std::string& s, const std::string& separator) {
  const size_t at = s.find(separator);
  return at == std::string::npos ? s : s.substr(0, at);
}

std::string render_qwen3(const std::vector<ChatMessage>& messages, bool generation_prompt, bool enable_thinking) {
  std::string out;
  if (!messages.empty() && messages[0].role == "system") {
    out += "<|im_start|>system\n" + messages[0].content + "<|im_end|>\n";
  }
  // Index of the last user message that is not a tool response.
  size_t last_query_index = messages.empty() ? 0 : messages.size() - 1;
  for (size_t k = messages.size(); k-- > 0;) {
    const auto& c = messages[k].content;
    const bool tool_response = c.rfind("<tool_response>", 0) == 0 && c.size() >= 16 &&
                               c.compare(c.size() - 16, 16, "</tool_response>") == 0;
    if (messages[k].role == "user" && !tool_response) {
      last_query_index = k;
      break;
    }
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user" || (m.role == "system" && i != 0)) {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    } else if (m.role == "assistant") {
      std::string content = m.content;
      std::string reasoning;
      if (content.find("</think>") != std::string::npos) {
        content = strip_chars(after_last(m.content, "</think>"), "\n", true, false);
        reasoning = strip_chars(after_last(strip_chars(before_first(m.content, "</think>"), "\n", false, true),
                                           "<think>"),
                                "\n", true, false);
      }
      const bool last = i + 1 == messages.size();
      if (i > last_query_index && (last || !reasoning.empty())) {
        out += "<|im_start|>assistant\n<think>\n" + strip_chars(reasoning, "\n", true, true) + "\n</think>\n\n" +
               strip_chars(content, "\n", true, false);
      } else {
        out += "<|im_start|>assistant\n" + content;
      }
      out += "<|im_end|>\n";
    }
  }
  if (generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (!enable_thinking) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

std::string render_glm4(const std::vector<ChatMessage>& messages, bool generation_prompt) {
  std::string out = "[gMASK]<sop>";
  for (const auto& m : messages) {
    if (!m.content.empty()) out += "<|" + m.role + "|>\n" + m.content;
  }
  if (generation_prompt) out += "<|assistant|>";
  return out;
}

std::string render_phi3(const std::vector<ChatMessage>& messages, bool generation_prompt, const SpecialTokens& t) {
  std::string out;
  for (const auto& m : messages) {
    if (m.role == "system" || m.role == "user" || m.role == "assistant") {
      out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
    }
  }
  out += generation_prompt ? "<|assistant|>\n" : t.eos_token;
  return out;
}

// Gemma 3: BOS; a leading system message's content + "\n\n" opens the first turn; each turn
// "<start_of_turn>" + role ("model" for the assistant) + "\n" + stripped content + "<end_of_turn>\n"; turns must
// alternate user / assistant (the template raises otherwise).
std::string render_gemma3(const std::vector<ChatMessage>& messages, bool generation_prompt, const SpecialTokens& t) {
  std::string out = t.bos_token, prefix;
  std::vector<ChatMessage> turns = messages;
  if (!turns.empty() && turns.front().role == "system") {
    prefix = turns.front().content + "\n\n";
    turns.erase(turns.begin());
  }
  require_alternation(turns, "gemma3");
  for (size_t i = 0; i < turns.size(); ++i) {
    const std::string role = turns[i].role == "assistant" ? "model" : turns[i].role;
    out += "<start_of_turn>" + role + "\n" + (i == 0 ? prefix : "") + python_strip(turns[i].content) +
           "<end_of_turn>\n";
  }
  if (generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

}  // namespace

const std::vector<std::string>& known_chat_templates() {
  static const std::vector<std::string> names = {"llama3",     "llama3_1", "llama2", "chatml", "qwen3", "mistral",
                                                 "mistral_v3", "glm4",     "phi3",   "gemma3", "raw"};
  return names;
}

ChatTemplate::ChatTemplate(std::string name, SpecialTokens tokens, bool enable_thinking)
    : ChatTemplate(std::move(name), std::move(tokens), enable_thinking, ChatTemplateDetails{}) {}

ChatTemplate::ChatTemplate(std::string name, SpecialTokens tokens, bool enable_thinking, ChatTemplateDetails details)
    : name_(std::move(name)), tokens_(std::move(tokens)), enable_thinking_(enable_thinking),
      details_(std::move(details)) {
  const auto& names = known_chat_templates();
  if (std::find(names.begin(), names.end(), name_) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InputError("chat template", 0, "chat_template", "unknown chat template '" + name_ + "' (known: " + list + ")");
  }
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  if (name_ == "llama3") return render_llama3(messages, add_generation_prompt, tokens_);
  if (name_ == "llama3_1") return render_llama3_1(messages, add_generation_prompt, tokens_, details_);
  if (name_ == "llama2") return render_llama2(messages, tokens_);
  if (name_ == "mistral") return render_mistral(messages, tokens_);
  if (name_ == "mistral_v3") return render_mistral_v3(messages, tokens_);
  if (name_ == "chatml") return render_chatml(messages, add_generation_prompt, details_);
  if (name_ == "qwen3") return render_qwen3(messages, add_generation_prompt, enable_thinking_);
  if (name_ == "glm4") return render_glm4(messages, add_generation_prompt);
  if (name_ == "phi3") return render_phi3(messages, add_generation_prompt, tokens_);
  if (name_ == "gemma3") return render_gemma3(messages, add_generation_prompt, tokens_);
  std::string out;  // raw
  for (const auto& m : messages) out += m.content;
  return out;
}

}  // namespace loom::text
