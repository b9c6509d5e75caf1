// The OpenAI-compatible request of `loom_mpi serve`, parsed and checked (torch-free). parse_completion_request
// reads a /v1/completions or /v1/chat/completions body into a CompletionRequest: the prompt (text, or token ids for
// completions; messages for chat), max_tokens, temperature (0 = greedy), top_p, seed, stop, and loom_method
// ({name, params}, checked against the method catalogue). Fields OpenAI defines that change nothing here
// (user, presence_penalty at 0, ...) are ignored; ones this engine cannot honour (stream, n > 1, several prompts)
// are refused. Every refusal is a RequestError naming the key and what was expected, in words.
// parse_embedding_request reads a /v1/embeddings body the same way.
#pragma once

#include "common/generation_settings.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace loom::serve {

class RequestError : public std::runtime_error {
 public:
  RequestError(std::string key, const std::string& expected)
      : std::runtime_error(key.empty() ? expected : key + ": " + expected), key_(std::move(key)) {}
  const std::string& key() const { return key_; }  // "max_tokens", "messages[1].role", "loom_method.params.x"

 private:
  std::string key_;
};

enum class Endpoint { kCompletions, kChat };

struct ChatTurn {
  std::string role;
  std::string content;
};

struct CompletionRequest {
  Endpoint endpoint = Endpoint::kCompletions;
  std::string model;                  // as the client named it (may be empty)
  std::string prompt_text;            // completions: the prompt when given as text
  std::vector<int32_t> prompt_ids;    // completions: the prompt when given as token ids
  std::vector<ChatTurn> messages;     // chat
  GenerationSettings generation;      // max_new_tokens, do_sample/temperature/top_p/seed, stop_strings
  MethodSpec method;                  // "full" unless loom_method names another (params resolved)
};

// A /v1/embeddings body: `input` as a string, an array of strings, an array of token ids (one input) or an array of
// token-id arrays; `encoding_format` "float" (default) or "base64"; `dimensions` only as the hidden size (checked by
// the server); `loom_pooling` "mean" | "last" (this server's extension; absent: the server's default).
enum class EmbeddingPooling { kDefault, kMean, kLast };

struct EmbeddingRequest {
  std::string model;
  std::vector<std::string> texts;                // input given as text (tokenized by the server)
  std::vector<std::vector<int32_t>> token_ids;   // input given as token ids (exactly one of the two is non-empty)
  bool base64 = false;
  int64_t dimensions = 0;                        // 0: not asked
  EmbeddingPooling pooling = EmbeddingPooling::kDefault;
  bool single = false;                           // input was one string or one token-id array (not an array of them)

  size_t size() const { return texts.empty() ? token_ids.size() : texts.size(); }
};

// Throws RequestError naming the key (input, input[2], input[1][0], encoding_format, ...).
EmbeddingRequest parse_embedding_request(const nlohmann::json& body, int64_t vocab_size);

// Throws RequestError. vocab_size bounds token-id prompts (0: unchecked).
CompletionRequest parse_completion_request(const nlohmann::json& body, Endpoint endpoint, int64_t vocab_size);

// The OpenAI error object {"error": {"message", "type", "param", "code"}}.
nlohmann::json error_body(const std::string& message, const std::string& type, const std::string& param);

}  // namespace loom::serve
