#include "rag/embedding_client.h"

#include "net/http_client.h"
#include "net/retry_policy.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>

namespace loom::rag {
namespace {

std::string excerpt(const std::string& body) { return body.size() <= 300 ? body : body.substr(0, 300) + "..."; }

std::string failure(const net::HttpResponse& response, int tries) {
  const std::string what = response.status == 0
                               ? (response.timed_out ? "timed out" : response.transport_error)
                               : fmt::format("HTTP {}: {}", response.status, excerpt(response.body));
  return fmt::format("{} (after {} tr{})", what, tries, tries == 1 ? "y" : "ies");
}

}  // namespace

EmbeddingClient::EmbeddingClient(RagConfig config)
    : config_(std::move(config)), http_(std::make_unique<net::HttpClient>()) {
  if (!config_.api_key_env.empty()) {
    const char* key = std::getenv(config_.api_key_env.c_str());
    if (key) api_key_ = key;
  }
}

EmbeddingClient::~EmbeddingClient() = default;

std::vector<std::vector<double>> EmbeddingClient::embed(const std::vector<std::string>& texts) {
  std::vector<std::vector<double>> out;
  out.reserve(texts.size());
  const size_t batch = static_cast<size_t>(std::max(config_.batch_size, 1));
  for (size_t begin = 0; begin < texts.size(); begin += batch) {
    const size_t end = std::min(texts.size(), begin + batch);
    std::vector<std::vector<double>> part =
        embed_batch(std::vector<std::string>(texts.begin() + begin, texts.begin() + end));
    for (auto& vector : part) out.push_back(std::move(vector));
  }
  return out;
}

std::vector<std::vector<double>> EmbeddingClient::embed_batch(const std::vector<std::string>& texts) {
  nlohmann::json body = {{"input", texts}};
  if (!config_.model.empty()) body["model"] = config_.model;
  std::string base = config_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  net::HttpRequest request;
  request.url = base + "/embeddings";
  request.body = body.dump();
  request.headers = {"Content-Type: application/json"};
  if (!api_key_.empty()) request.headers.push_back("Authorization: Bearer " + api_key_);
  request.timeout_s = config_.timeout_s;
  net::RetryPolicy policy;
  policy.max_retries = config_.max_retries;
  for (int tries = 1;; ++tries) {
    http_->start(request);
    std::vector<net::HttpResponse> done;
    while (done.empty()) done = http_->poll(100);
    const net::HttpResponse& response = done.front();
    if (response.status == 200) {
      std::vector<std::vector<double>> vectors(texts.size());
      try {
        const nlohmann::json answer = nlohmann::json::parse(response.body);
        const nlohmann::json& data = answer.at("data");
        if (!data.is_array() || data.size() != texts.size())
          throw EmbeddingError(fmt::format("{} embeddings for {} texts", data.is_array() ? data.size() : 0,
                                           texts.size()));
        for (size_t i = 0; i < data.size(); ++i) {
          const size_t index = data[i].contains("index") ? data[i].at("index").get<size_t>() : i;
          if (index >= texts.size() || !vectors[index].empty())
            throw EmbeddingError(fmt::format("a bad or repeated index {}", index));
          vectors[index] = data[i].at("embedding").get<std::vector<double>>();
        }
        for (const auto& vector : vectors) {
          if (vector.empty() || vector.size() != vectors[0].size())
            throw EmbeddingError("empty embeddings or embeddings of different lengths");
        }
      } catch (const EmbeddingError& e) {
        throw EmbeddingError(fmt::format("{}: the answer of {} has {}", config_.base_url, request.url, e.what()));
      } catch (const nlohmann::json::exception& e) {
        throw EmbeddingError(fmt::format("{} answered something other than an OpenAI embeddings list ({}): {}",
                                         request.url, e.what(), excerpt(response.body)));
      }
      return vectors;
    }
    if (!net::RetryPolicy::retryable(response) || tries > policy.max_retries)
      throw EmbeddingError(fmt::format("POST {}: {}", request.url, failure(response, tries)));
    jitter_state_ = jitter_state_ * 6364136223846793005ull + 1442695040888963407ull;
    const double jitter = static_cast<double>(jitter_state_ >> 11) / static_cast<double>(1ull << 53);
    std::this_thread::sleep_for(std::chrono::duration<double>(policy.delay_s(tries, response, jitter)));
  }
}

double cosine_similarity(const std::vector<double>& a, const std::vector<double>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na == 0 || nb == 0 ? 0.0 : dot / (std::sqrt(na) * std::sqrt(nb));
}

}  // namespace loom::rag
