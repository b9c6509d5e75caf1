// OpenAiEngine and RetryPolicy against small httplib servers of this binary that answer as told: the request it
// sends, 429 + Retry-After retried after the wait, 5xx retried max_retries times then a failed result with the
// reason, a slow server cut by the timeout, garbage and 4xx not retried, a dead port, max_in_flight honoured.
#include "net/retry_policy.h"
#include "rank/api/openai_engine.h"
#include "support/loopback_server.h"
#include "text/tokenizer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kModel = std::string(LOOM_SOURCE_DIR) + "/models/tiny-loom";

// A loopback server whose /v1/completions answers with `answer(hit number from 0, request body)`.
class TestServer {
 public:
  using Answer = std::function<void(int hit, const json& body, httplib::Response& res)>;
  explicit TestServer(Answer answer)
      : answer_(std::move(answer)),
        server_("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
          const int now = ++concurrent_;
          int seen = max_concurrent_.load();
          while (now > seen && !max_concurrent_.compare_exchange_weak(seen, now)) {
          }
          const int hit = hits_++;
          {
            std::lock_guard lock(mutex_);
            last_headers_ = req.headers;
          }
          answer_(hit, json::parse(req.body), res);
          --concurrent_;
        }) {}
  ~TestServer() { stopping = true; }  // then server_ stops (the last member goes first)
  std::string base_url() const { return server_.base_url(); }
  int hits() const { return hits_; }
  int max_concurrent() const { return max_concurrent_; }
  std::string header(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = last_headers_.find(name);
    return it == last_headers_.end() ? "" : it->second;
  }
  std::atomic<bool> stopping{false};

 private:
  Answer answer_;
  std::atomic<int> hits_{0}, concurrent_{0}, max_concurrent_{0};
  std::mutex mutex_;
  httplib::Headers last_headers_;
  loom::test_support::LoopbackServer server_;
};

void complete(httplib::Response& res, const std::string& text) { loom::test_support::set_text_completion(res, text); }

loom::api::OpenAiEngine engine_for(const std::string& url, int max_retries = 2, double timeout_s = 10,
                                   int max_in_flight = 4) {
  loom::api::OpenAiOptions options;
  options.base_url = url;
  options.model = "tiny-loom";
  options.api_key = "sk-test";
  options.max_in_flight = max_in_flight;
  options.timeout_s = timeout_s;
  options.retry.max_retries = max_retries;
  options.retry.base_s = 0.05;
  return loom::api::OpenAiEngine(options, loom::text::load_tokenizer(kModel));
}

loom::model::InferenceRequest request(int tag, int max_new_tokens = 4) {
  loom::model::InferenceRequest r;
  r.tag = tag;
  r.sample_key = "s" + std::to_string(tag);
  r.input_ids = {5, 6, 7, 8};
  r.generation.max_new_tokens = max_new_tokens;
  return r;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

TEST(OpenAiEngine, SendsTokenIdsGreedyStopMethodAndKey) {
  json seen;
  TestServer server([&](int, const json& body, httplib::Response& res) {
    seen = body;
    complete(res, " hello world");
  });
  auto engine = engine_for(server.base_url());
  auto r = request(3, 9);
  r.generation.stop_strings = {"world"};
  r.method = {"snapkv", R"({"compression_ratio":0.5})", "snapkv"};
  const auto result = engine.run({r}).at(0);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(seen["prompt"], json({5, 6, 7, 8}));
  EXPECT_EQ(seen["max_tokens"], 9);
  EXPECT_EQ(seen["temperature"], 0);
  EXPECT_EQ(seen["model"], "tiny-loom");
  EXPECT_EQ(seen["stop"], json({"world"}));
  EXPECT_EQ(seen["loom_method"]["name"], "snapkv");
  EXPECT_EQ(seen["loom_method"]["params"]["compression_ratio"], 0.5);
  EXPECT_EQ(server.header("Authorization"), "Bearer sk-test");
  EXPECT_EQ(result.text, " hello ");  // cut at the stop string here too
  EXPECT_EQ(result.tag, 3);
  EXPECT_EQ(result.cost.input_tokens, 4);
  EXPECT_EQ(result.cost.output_tokens, static_cast<int64_t>(result.output_ids.size()));
  EXPECT_EQ(result.output_ids, loom::text::load_tokenizer(kModel)->encode(" hello ", false));
}

TEST(OpenAiEngine, RetriesA429AfterItsRetryAfter) {
  TestServer server([](int hit, const json&, httplib::Response& res) {
    if (hit == 0) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content(R"({"error":{"message":"slow down"}})", "application/json");
      return;
    }
    complete(res, "ok");
  });
  auto engine = engine_for(server.base_url());
  const auto start = Clock::now();
  const auto result = engine.run({request(0)}).at(0);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(server.hits(), 2);
  EXPECT_GE(seconds_since(start), 0.95);  // waited Retry-After, not the 0.05 s backoff
}

TEST(OpenAiEngine, A5xxIsRetriedThenTheRowFailsWithTheReason) {
  TestServer server([](int, const json&, httplib::Response& res) {
    res.status = 503;
    res.set_content(R"({"error":{"message":"overloaded"}})", "application/json");
  });
  auto engine = engine_for(server.base_url(), /*max_retries=*/2);
  const auto result = engine.run({request(0)}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(server.hits(), 3);
  EXPECT_NE(result.error.find("answered HTTP 503 after 3 tries: overloaded"), std::string::npos) << result.error;
}

TEST(OpenAiEngine, ASlowServerIsCutByTheTimeout) {
  TestServer server([&](int, const json&, httplib::Response& res) {
    for (int i = 0; i < 100 && !server.stopping; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    complete(res, "late");
  });
  auto engine = engine_for(server.base_url(), /*max_retries=*/1, /*timeout_s=*/0.4);
  const auto start = Clock::now();
  const auto result = engine.run({request(0)}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_LT(seconds_since(start), 3.0);
  EXPECT_EQ(server.hits(), 2);
  EXPECT_NE(result.error.find("could not be reached after 2 tries: no answer within 0.4 s"), std::string::npos)
      << result.error;
}

TEST(OpenAiEngine, GarbageAndClientErrorsAreNotRetried) {
  TestServer garbage([](int, const json&, httplib::Response& res) { res.set_content("<html>hi</html>", "text/html"); });
  auto engine = engine_for(garbage.base_url());
  auto result = engine.run({request(0)}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(garbage.hits(), 1);
  EXPECT_NE(result.error.find("something other than an OpenAI completion"), std::string::npos) << result.error;

  TestServer refusing([](int, const json&, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error":{"message":"max_tokens: expected an integer"}})", "application/json");
  });
  auto engine2 = engine_for(refusing.base_url());
  result = engine2.run({request(0)}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(refusing.hits(), 1);
  EXPECT_NE(result.error.find("answered HTTP 400: max_tokens: expected an integer"), std::string::npos)
      << result.error;
}

TEST(OpenAiEngine, NobodyListeningFailsTheRowQuickly) {
  // A port that was free a moment ago and has nobody on it now (bound, never listened on, closed).
  const int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  close(probe);
  auto engine = engine_for("http://127.0.0.1:" + std::to_string(port) + "/v1", /*max_retries=*/1);
  const auto start = Clock::now();
  const auto result = engine.run({request(0)}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_LT(seconds_since(start), 5.0);
  EXPECT_NE(result.error.find("could not be reached after 2 tries"), std::string::npos) << result.error;
}

TEST(OpenAiEngine, KeepsMaxInFlightRequestsRunning) {
  TestServer server([](int, const json&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    complete(res, "x");
  });
  auto engine = engine_for(server.base_url(), 2, 10, /*max_in_flight=*/3);
  std::vector<loom::model::InferenceRequest> batch;
  for (int i = 0; i < 6; ++i) batch.push_back(request(i));
  EXPECT_EQ(engine.load().free_slots, 3);
  const auto start = Clock::now();
  const auto results = engine.run(batch);
  ASSERT_EQ(results.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(results[i].ok);
    EXPECT_EQ(results[i].tag, i);
  }
  EXPECT_EQ(server.max_concurrent(), 3);
  EXPECT_LT(seconds_since(start), 1.5);  // two waves of 0.3 s, not six
}

TEST(RetryPolicy, WhatIsRetriedAndHowLongItWaits) {
  loom::net::RetryPolicy policy;
  loom::net::HttpResponse r;
  r.status = 0;
  EXPECT_TRUE(policy.retryable(r));
  for (long status : {408L, 429L, 500L, 503L}) {
    r.status = status;
    EXPECT_TRUE(policy.retryable(r)) << status;
  }
  for (long status : {200L, 400L, 401L, 404L}) {
    r.status = status;
    EXPECT_FALSE(policy.retryable(r)) << status;
  }
  r.status = 503;
  EXPECT_DOUBLE_EQ(policy.delay_s(1, r, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(policy.delay_s(3, r, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(policy.delay_s(20, r, 0.5), 30.0);
  r.retry_after_s = 7;
  EXPECT_DOUBLE_EQ(policy.delay_s(1, r, 0.5), 7.0);
  r.retry_after_s = 500;
  EXPECT_DOUBLE_EQ(policy.delay_s(1, r, 0.5), 30.0);
}
