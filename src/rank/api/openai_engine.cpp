#include "rank/api/openai_engine.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <thread>

namespace loom::api {
namespace {

using nlohmann::json;

std::string excerpt(const std::string& text) {
  std::string out = text.substr(0, 200);
  std::replace(out.begin(), out.end(), '\n', ' ');
  return text.size() > 200 ? out + "..." : out;
}

// The server's own error message ({"error": {"message": ...}}), else the start of its body.
std::string server_message(const std::string& body) {
  const json parsed = json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object() &&
      parsed["error"].contains("message") && parsed["error"]["message"].is_string()) {
    return parsed["error"]["message"].get<std::string>();
  }
  return excerpt(body);
}

std::string cut_at_stop(std::string text, const std::vector<std::string>& stops) {
  size_t cut = text.size();
  for (const auto& stop : stops) {
    if (!stop.empty()) cut = std::min(cut, text.find(stop));
  }
  return cut == std::string::npos ? text : text.substr(0, cut);
}

}  // namespace

OpenAiEngine::OpenAiEngine(OpenAiOptions options, std::unique_ptr<text::Tokenizer> tokenizer)
    : options_(std::move(options)), tokenizer_(std::move(tokenizer)), jitter_state_(options_.seed * 2654435761u + 1) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

void OpenAiEngine::submit(std::vector<model::InferenceRequest> requests) {
  const auto now = Clock::now();
  for (auto& request : requests) pending_.push_back({std::move(request), 0, now, now, -1});
}

model::EngineLoad OpenAiEngine::load() const {
  model::EngineLoad load;
  load.running = static_cast<int32_t>(pending_.size() + in_flight_.size());
  load.waiting = static_cast<int32_t>(pending_.size());
  load.decoding = static_cast<int32_t>(in_flight_.size());
  load.free_slots = std::max(0, options_.max_in_flight - load.running);
  load.free_kv_tokens = std::numeric_limits<int64_t>::max() / 4;  // the server's memory is not ours to count
  return load;
}

std::string OpenAiEngine::device_description() const {
  return fmt::format("OpenAI-compatible API at {}{}", options_.base_url,
                     options_.model.empty() ? "" : " (model " + options_.model + ")");
}

std::string OpenAiEngine::request_body(const model::InferenceRequest& request) const {
  const GenerationSettings& g = request.generation;
  json body = {{"prompt", request.input_ids}, {"max_tokens", g.max_new_tokens}};
  if (!options_.model.empty()) body["model"] = options_.model;
  if (g.do_sample) {
    body["temperature"] = g.temperature;
    body["top_p"] = g.top_p;
    body["seed"] = g.seed;
  } else {
    body["temperature"] = 0;
  }
  json stop = json::array();
  for (const auto& s : g.stop_strings) {
    if (!s.empty() && stop.size() < 4) stop.push_back(s);  // OpenAI takes four; the rest are cut here
  }
  if (!stop.empty()) body["stop"] = stop;
  if (!request.method.name.empty() && request.method.name != "full") {
    body["loom_method"] = {{"name", request.method.name},
                           {"params", json::parse(request.method.params_json.empty() ? "{}" :
                                                  request.method.params_json)}};
  }
  return body.dump();
}

model::InferenceResult OpenAiEngine::failure(const Pending& pending, const std::string& reason) const {
  model::InferenceResult result;
  result.tag = pending.request.tag;
  result.sample_key = pending.request.sample_key;
  result.ok = false;
  result.error = reason;
  result.cost.input_tokens = static_cast<int64_t>(pending.request.input_ids.size());
  return result;
}

bool OpenAiEngine::finish(Pending& pending, const net::HttpResponse& response, model::InferenceResult& result) {
  const int tries = pending.attempts;
  if (net::RetryPolicy::retryable(response) && tries <= options_.retry.max_retries) return false;
  const std::string where = options_.base_url + "/completions";
  if (!response.transport_error.empty()) {
    result = failure(pending, fmt::format("the API server at {} could not be reached after {} tries: {}", where,
                                          tries, response.transport_error));
    return true;
  }
  if (response.status != 200) {
    result = failure(pending, fmt::format("the API server at {} answered HTTP {}{}: {}", where, response.status,
                                          tries > 1 ? fmt::format(" after {} tries", tries) : "",
                                          server_message(response.body)));
    return true;
  }
  const json body = json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body.contains("choices") || !body["choices"].is_array() || body["choices"].empty() ||
      !body["choices"][0].is_object() || !body["choices"][0].contains("text") ||
      !body["choices"][0]["text"].is_string()) {
    result = failure(pending, fmt::format("the API server at {} answered with something other than an OpenAI "
                                          "completion (choices[0].text): {}", where, excerpt(response.body)));
    return true;
  }
  result.tag = pending.request.tag;
  result.sample_key = pending.request.sample_key;
  result.ok = true;
  result.text = cut_at_stop(body["choices"][0]["text"].get<std::string>(), pending.request.generation.stop_strings);
  result.output_ids = tokenizer_->encode(result.text, /*add_special_tokens=*/false);
  result.cost.input_tokens = static_cast<int64_t>(pending.request.input_ids.size());
  result.cost.output_tokens = static_cast<int64_t>(result.output_ids.size());
  result.cost.decode_seconds = response.seconds;  // the whole answer: the server does not split it
  result.queue_seconds = std::max(0.0, pending.first_start_delay);
  return true;
}

std::vector<model::InferenceResult> OpenAiEngine::step() {
  const auto now = Clock::now();
  // Start what is due, oldest first, up to max_in_flight.
  for (auto it = pending_.begin(); it != pending_.end() && static_cast<int32_t>(in_flight_.size()) <
                                                               options_.max_in_flight;) {
    if (it->not_before > now) {
      ++it;
      continue;
    }
    net::HttpRequest http{options_.base_url + "/completions", request_body(it->request),
                          {"Content-Type: application/json"}, options_.timeout_s};
    if (!options_.api_key.empty()) http.headers.push_back("Authorization: Bearer " + options_.api_key);
    if (it->first_start_delay < 0) it->first_start_delay = std::chrono::duration<double>(now - it->submitted).count();
    ++it->attempts;
    in_flight_.emplace(client_.start(std::move(http)), std::move(*it));
    it = pending_.erase(it);
  }
  std::vector<model::InferenceResult> finished;
  if (in_flight_.empty()) {
    // Only retries waiting for their time: sleep until the first is due (at most 50 ms, so the worker stays live).
    if (!pending_.empty()) {
      auto due = pending_.front().not_before;
      for (const auto& p : pending_) due = std::min(due, p.not_before);
      std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50),
                                                            std::max<Clock::duration>(due - now, Clock::duration(0))));
    }
    return finished;
  }
  for (const auto& response : client_.poll(50)) {
    auto it = in_flight_.find(response.id);
    if (it == in_flight_.end()) continue;
    Pending pending = std::move(it->second);
    in_flight_.erase(it);
    model::InferenceResult result;
    if (finish(pending, response, result)) {
      finished.push_back(std::move(result));
      continue;
    }
    jitter_state_ = jitter_state_ * 6364136223846793005ull + 1442695040888963407ull;
    const double jitter = static_cast<double>(jitter_state_ >> 11) / static_cast<double>(1ull << 53);
    const double wait = options_.retry.delay_s(pending.attempts, response, jitter);
    pending.not_before = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait));
    pending_.push_back(std::move(pending));
  }
  return finished;
}

}  // namespace loom::api
