#include "serve/openai_server.h"

#include "common/error.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <cstring>

namespace loom::serve {
namespace {

using nlohmann::json;

constexpr const char* kJson = "application/json";

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& type,
                const std::string& param) {
  res.status = status;
  res.set_content(error_body(message, type, param).dump(), kJson);
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// OpenAI's base64 embedding: the float32 values' little-endian bytes in standard base64 (with padding).
std::string base64_floats(const std::vector<float>& values) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> bytes;
  bytes.reserve(values.size() * 4);
  for (float value : values) {
    uint32_t bits = 0;
    std::memcpy(&bits, &value, 4);
    for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<uint8_t>(bits >> shift));
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t n = (uint32_t{bytes[i]} << 16) | (i + 1 < bytes.size() ? uint32_t{bytes[i + 1]} << 8 : 0) |
                       (i + 2 < bytes.size() ? uint32_t{bytes[i + 2]} : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

// Scales the vector to unit L2 norm (accumulated in double); an all-zero vector stays zero.
// One JSON POST: parses the body and answers with what `respond` returns, or nothing when `respond` has sent its own
// error (nullopt). Bad input (RequestError, InputError) is 400 naming its key, anything else 500, in OpenAI's shape.
template <class Respond>
void answer_json_post(const httplib::Request& req, httplib::Response& res, Respond respond) {
  json body;
  try {
    body = json::parse(req.body);
  } catch (const json::parse_error& e) {
    send_error(res, 400, fmt::format("the request body is not valid JSON (at byte {})", e.byte),
               "invalid_request_error", "");
    return;
  }
  try {
    if (std::optional<json> answer = respond(body)) res.set_content(answer->dump(), kJson);
  } catch (const RequestError& e) {
    send_error(res, 400, e.what(), "invalid_request_error", e.key());
  } catch (const InputError& e) {
    send_error(res, 400, e.what(), "invalid_request_error", e.key());
  } catch (const std::exception& e) {
    send_error(res, 500, e.what(), "server_error", "");
  }
}

void l2_normalise(std::vector<float>& values) {
  double sum = 0;
  for (float v : values) sum += static_cast<double>(v) * v;
  if (sum == 0) return;
  const double scale = 1.0 / std::sqrt(sum);
  for (float& v : values) v = static_cast<float>(v * scale);
}

}  // namespace

OpenAiServer::OpenAiServer(ServedModel model)
    : model_(std::move(model)), http_(std::make_unique<httplib::Server>()) {
  http_->set_payload_max_length(uint64_t{256} << 20);
  http_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    const json entry = {{"id", model_.name}, {"object", "model"}, {"created", 0}, {"owned_by", "loom_mpi"}};
    res.set_content(json{{"object", "list"}, {"data", json::array({entry})}}.dump(), kJson);
  });
  // A request naming another model than the one served is answered 404 (true); an empty name means the served one.
  const auto wrong_model = [this](httplib::Response& res, const std::string& requested) {
    if (requested.empty() || requested == model_.name) return false;
    send_error(res, 404, fmt::format("model: expected \"{}\" (the model this server serves), got \"{}\"",
                                     model_.name, requested),
               "invalid_request_error", "model");
    return true;
  };
  const auto handler = [this, wrong_model](Endpoint endpoint) {
    return [this, endpoint, wrong_model](const httplib::Request& req, httplib::Response& res) {
      answer_json_post(req, res, [&](const json& body) -> std::optional<json> {
        const CompletionRequest request = parse_completion_request(body, endpoint, model_.vocab_size);
        if (wrong_model(res, request.model)) return std::nullopt;
        return complete(request);
      });
    };
  };
  http_->Post("/v1/embeddings", [this, wrong_model](const httplib::Request& req, httplib::Response& res) {
    answer_json_post(req, res, [&](const json& body) -> std::optional<json> {
      const EmbeddingRequest request = parse_embedding_request(body, model_.vocab_size);
      if (wrong_model(res, request.model)) return std::nullopt;
      return embed(request);
    });
  });
  http_->Post("/v1/completions", handler(Endpoint::kCompletions));
  http_->Post("/v1/chat/completions", handler(Endpoint::kChat));
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message =
        res.status == 404 ? fmt::format("no endpoint {} {}: this server answers GET /v1/models, POST /v1/completions, "
                                        "POST /v1/chat/completions and POST /v1/embeddings", req.method, req.path)
                          : fmt::format("HTTP {}", res.status);
    res.set_content(error_body(message, "invalid_request_error", "").dump(), kJson);
  });
  engine_thread_ = std::thread([this] { engine_loop(); });
}

OpenAiServer::~OpenAiServer() {
  stop();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (engine_thread_.joinable()) engine_thread_.join();
}

int OpenAiServer::bind(const std::string& host, int port) {
  const int bound = port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw Error(fmt::format("cannot listen on {}:{} (address in use or not this machine's)", host, port));
  return bound;
}

void OpenAiServer::serve() { http_->listen_after_bind(); }

void OpenAiServer::stop() { http_->stop(); }

json OpenAiServer::complete(const CompletionRequest& request) {
  model::InferenceRequest engine_request;
  engine_request.sample_key = "serve";
  engine_request.generation = request.generation;
  engine_request.method = request.method;
  if (model_.full_cache_only && request.method.name != "full") {
    throw RequestError("loom_method.name", fmt::format("expected \"full\" (this server was started with "
                                                       "--full-cache-only), got \"{}\"", request.method.name));
  }
  if (request.endpoint == Endpoint::kChat) {
    std::vector<text::ChatMessage> messages;
    for (const auto& turn : request.messages) messages.push_back({turn.role, turn.content});
    engine_request.input_ids = model_.tokenizer->encode(model_.chat_template.render(messages, true), false);
  } else if (!request.prompt_ids.empty()) {
    engine_request.input_ids = request.prompt_ids;
  } else {
    engine_request.input_ids = model_.tokenizer->encode(request.prompt_text, true);
  }
  const int64_t prompt_tokens = static_cast<int64_t>(engine_request.input_ids.size());
  if (prompt_tokens == 0) throw RequestError("prompt", "expected a prompt of at least one token");
  if (prompt_tokens + request.generation.max_new_tokens > model_.max_context) {
    throw RequestError(request.endpoint == Endpoint::kChat ? "messages" : "prompt",
                       fmt::format("expected prompt tokens + max_tokens within the model's context of {} tokens, got "
                                   "{} + {}", model_.max_context, prompt_tokens, request.generation.max_new_tokens));
  }
  const auto result = generate(std::move(engine_request));
  if (!result.ok) throw Error(result.error);
  const int64_t completion_tokens = static_cast<int64_t>(result.output_ids.size());
  const std::string finish = completion_tokens >= request.generation.max_new_tokens ? "length" : "stop";
  json choice = {{"index", 0}, {"finish_reason", finish}, {"logprobs", nullptr}};
  json out = {{"created", unix_seconds()}, {"model", model_.name}};
  if (request.endpoint == Endpoint::kChat) {
    choice["message"] = {{"role", "assistant"}, {"content", result.text}};
    out["object"] = "chat.completion";
    out["id"] = fmt::format("chatcmpl-{}", result.tag);
  } else {
    choice["text"] = result.text;
    out["object"] = "text_completion";
    out["id"] = fmt::format("cmpl-{}", result.tag);
  }
  out["choices"] = json::array({choice});
  out["usage"] = {{"prompt_tokens", prompt_tokens},
                  {"completion_tokens", completion_tokens},
                  {"total_tokens", prompt_tokens + completion_tokens}};
  out["loom"] = {{"output_ids", result.output_ids},
                 {"method", request.method.name},
                 {"queue_seconds", result.queue_seconds},
                 {"prefill_seconds", result.cost.prefill_seconds},
                 {"decode_seconds", result.cost.decode_seconds},
                 {"kv_bytes", result.cost.kv_bytes}};
  return out;
}

json OpenAiServer::embed(const EmbeddingRequest& request) {
  model::HiddenStateSource* source = model_.engine->hidden_states();
  if (source == nullptr) throw Error("this server's engine gives no hidden states, so no embeddings");
  if (request.dimensions != 0 && request.dimensions != source->hidden_size()) {
    throw RequestError("dimensions", fmt::format("expected {} (the model's hidden size; embeddings are not "
                                                 "shortened), got {}", source->hidden_size(), request.dimensions));
  }
  std::vector<std::vector<int32_t>> prompts = request.token_ids;
  for (const std::string& text : request.texts) prompts.push_back(model_.tokenizer->encode(text, true));
  int64_t prompt_tokens = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const int64_t length = static_cast<int64_t>(prompts[i].size());
    const std::string key = request.single ? "input" : fmt::format("input[{}]", i);
    if (length == 0) throw RequestError(key, "expected an input of at least one token");
    if (length > model_.max_context) {
      throw RequestError(key, fmt::format("expected at most the model's context of {} tokens, got {}",
                                          model_.max_context, length));
    }
    prompt_tokens += length;
  }
  const model::HiddenPooling pooling = request.pooling == EmbeddingPooling::kMean   ? model::HiddenPooling::kMean
                                       : request.pooling == EmbeddingPooling::kLast ? model::HiddenPooling::kLast
                                                                                    : model_.embedding_pooling;
  std::vector<std::vector<float>> vectors = pooled(std::move(prompts), pooling);
  json data = json::array();
  for (size_t i = 0; i < vectors.size(); ++i) {
    l2_normalise(vectors[i]);
    json entry = {{"object", "embedding"}, {"index", i}};
    entry["embedding"] = request.base64 ? json(base64_floats(vectors[i])) : json(vectors[i]);
    data.push_back(std::move(entry));
  }
  return {{"object", "list"},
          {"data", std::move(data)},
          {"model", model_.name},
          {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}},
          {"loom", {{"pooling", pooling == model::HiddenPooling::kMean ? "mean" : "last"}, {"normalized", "l2"}}}};
}

std::vector<std::vector<float>> OpenAiServer::pooled(std::vector<std::vector<int32_t>> prompts,
                                                     model::HiddenPooling pooling) {
  std::future<std::vector<std::vector<float>>> done;
  {
    std::lock_guard lock(mutex_);
    pending_embeddings_.push_back({std::move(prompts), pooling, {}});
    done = pending_embeddings_.back().done.get_future();
  }
  wake_.notify_all();
  return done.get();
}

model::InferenceResult OpenAiServer::generate(model::InferenceRequest request) {
  std::future<model::InferenceResult> done;
  {
    std::lock_guard lock(mutex_);
    request.tag = next_tag_++;
    std::promise<model::InferenceResult> promise;
    done = promise.get_future();
    pending_.emplace_back(std::move(request), std::move(promise));
  }
  wake_.notify_all();
  return done.get();
}

// The one thread that touches the engine: submits what arrived, steps while anything runs.
void OpenAiServer::engine_loop() {
  for (;;) {
    std::vector<std::pair<model::InferenceRequest, std::promise<model::InferenceResult>>> arrived;
    std::vector<EmbeddingJob> embeddings;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] {
        return stopping_ || !pending_.empty() || !pending_embeddings_.empty() || !model_.engine->idle();
      });
      if (stopping_ && pending_.empty() && pending_embeddings_.empty() && model_.engine->idle()) return;
      arrived.swap(pending_);
      embeddings.swap(pending_embeddings_);
    }
    // Embeddings run whole, between two steps of the running batch.
    for (EmbeddingJob& job : embeddings) {
      try {
        job.done.set_value(model_.engine->hidden_states()->pooled_hidden_states(job.prompts, job.pooling));
      } catch (...) {
        job.done.set_exception(std::current_exception());
      }
    }
    for (auto& [request, promise] : arrived) {
      const int64_t tag = request.tag;
      try {
        model_.engine->submit({std::move(request)});
        running_.emplace(tag, std::move(promise));
      } catch (...) {
        promise.set_exception(std::current_exception());
      }
    }
    if (model_.engine->idle()) continue;
    try {
      for (auto& result : model_.engine->step()) {
        auto it = running_.find(result.tag);
        if (it == running_.end()) continue;
        it->second.set_value(std::move(result));
        running_.erase(it);
      }
    } catch (...) {
      spdlog::error("serve: an engine step failed; its requests are answered with the error");
      for (auto& [tag, promise] : running_) promise.set_exception(std::current_exception());
      running_.clear();
    }
  }
}

}  // namespace loom::serve
