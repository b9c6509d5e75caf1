// `loom_mpi serve` over loopback: the real server on models/tiny-loom answers OpenAI's shapes with usage counts, its
// greedy outputs equal the engine run in-process, a request picks its KV method, bad requests get 400 with the key,
// concurrent requests all get their own answer, and SIGTERM stops it cleanly.
#include "serve/serve_process.h"

#include "rank/accel/registry.h"
#include "rank/model/inference_engine.h"
#include "text/tokenizer.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <future>
#include <memory>
#include <thread>

using nlohmann::json;

namespace {

const std::string kModel = std::string(LOOM_SOURCE_DIR) + "/models/tiny-loom";

class ServeHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new loom::test::ServeProcess(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static httplib::Client client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(120, 0);
    return c;
  }
  static std::pair<int, json> post(const std::string& path, const json& body) {
    auto res = client().Post(path.c_str(), body.dump(), "application/json");
    if (!res) return {0, json()};
    return {res->status, json::parse(res->body)};
  }
  // What the engine generates in-process for these ids (greedy).
  static loom::model::InferenceResult local(const std::vector<int32_t>& ids, int max_new_tokens,
                                            loom::MethodSpec method = {}) {
    loom::model::EngineOptions options;
    options.model_dir = kModel;
    options.device = "cpu";
    auto engine = loom::model::create_engine(options, nullptr, loom::accel::resolve_policy);
    loom::model::InferenceRequest request;
    request.input_ids = ids;
    request.generation.max_new_tokens = max_new_tokens;
    request.method = method;
    return engine->run({request}).at(0);
  }
  static loom::test::ServeProcess* server_;
};
loom::test::ServeProcess* ServeHttp::server_ = nullptr;

TEST_F(ServeHttp, ModelsListsTheServedModel) {
  auto res = client().Get("/v1/models");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["data"][0]["id"], "tiny-loom");
}

TEST_F(ServeHttp, CompletionEqualsTheEngineGreedyOutput) {
  const std::vector<int32_t> ids = {5, 17, 300, 42, 9, 1000, 77};
  const auto [status, body] = post("/v1/completions", {{"model", "tiny-loom"}, {"prompt", ids}, {"max_tokens", 12},
                                                       {"temperature", 0}});
  ASSERT_EQ(status, 200) << body.dump();
  const auto expected = local(ids, 12);
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["choices"][0]["text"], expected.text);
  EXPECT_EQ(body["loom"]["output_ids"].get<std::vector<int32_t>>(), expected.output_ids);
  EXPECT_EQ(body["usage"]["prompt_tokens"], ids.size());
  EXPECT_EQ(body["usage"]["completion_tokens"], expected.output_ids.size());
  EXPECT_EQ(body["usage"]["total_tokens"], ids.size() + expected.output_ids.size());
  EXPECT_EQ(body["choices"][0]["finish_reason"], expected.output_ids.size() == 12 ? "length" : "stop");
}

TEST_F(ServeHttp, TextPromptIsTokenizedWithSpecialTokens) {
  const auto tokenizer = loom::text::load_tokenizer(kModel);
  const auto ids = tokenizer->encode("Once upon a time", true);
  const auto [status, body] = post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 6},
                                                       {"temperature", 0}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["usage"]["prompt_tokens"], ids.size());
  EXPECT_EQ(body["choices"][0]["text"], local(ids, 6).text);
}

TEST_F(ServeHttp, ChatCompletionShape) {
  const auto [status, body] = post("/v1/chat/completions",
                                   {{"messages", {{{"role", "user"}, {"content", "Tell me a story."}}}},
                                    {"max_tokens", 5}, {"temperature", 0}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(body["choices"][0]["message"]["content"].is_string());
  EXPECT_GT(body["usage"]["prompt_tokens"].get<int>(), 0);
  EXPECT_LE(body["usage"]["completion_tokens"].get<int>(), 5);
}

TEST_F(ServeHttp, RequestPicksItsMethod) {
  std::vector<int32_t> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(10 + (i * 37) % 3000);
  const json method = {{"name", "streaming_llm"}, {"params", {{"compression_ratio", 0.75}}}};
  const auto [status, body] =
      post("/v1/completions", {{"prompt", ids}, {"max_tokens", 8}, {"temperature", 0}, {"loom_method", method}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["loom"]["method"], "streaming_llm");
  const auto [full_status, full] = post("/v1/completions", {{"prompt", ids}, {"max_tokens", 8}, {"temperature", 0}});
  ASSERT_EQ(full_status, 200);
  // A quarter of the prompt's KV cache is kept: the method ran (its KV bytes are below the full cache's).
  EXPECT_LT(body["loom"]["kv_bytes"].get<int64_t>(), full["loom"]["kv_bytes"].get<int64_t>());
  loom::MethodSpec spec{"streaming_llm", method["params"].dump(), "streaming_llm"};
  EXPECT_EQ(body["loom"]["output_ids"].get<std::vector<int32_t>>(), local(ids, 8, spec).output_ids);
}

TEST_F(ServeHttp, BadRequestsAre400WithTheKey) {
  auto [status, body] = post("/v1/completions", {{"prompt", "x"}, {"max_tokens", "many"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error"]["param"], "max_tokens");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  std::tie(status, body) = post("/v1/completions", {{"prompt", "x"}, {"loom_method", {{"name", "snapk"}}}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error"]["param"], "loom_method.name");
  std::tie(status, body) = post("/v1/completions", {{"prompt", {1, 2}}, {"max_tokens", 9000}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error"]["param"], "prompt");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("8192"), std::string::npos);
  std::tie(status, body) = post("/v1/completions", {{"prompt", "x"}, {"model", "gpt-4"}});
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error"]["param"], "model");
  auto res = client().Post("/v1/completions", "{not json", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(json::parse(res->body)["error"]["message"].get<std::string>().find("not valid JSON"), std::string::npos);
  res = client().Get("/v1/nothing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_TRUE(json::parse(res->body).contains("error"));
}

TEST_F(ServeHttp, ConcurrentRequestsEachGetTheirOwnAnswer) {
  std::vector<std::vector<int32_t>> prompts;
  for (int p = 0; p < 6; ++p) prompts.push_back({3 + p, 50 + p * 7, 900 - p, 11, 12 + p});
  std::vector<std::future<std::pair<int, json>>> answers;
  for (const auto& ids : prompts) {
    answers.push_back(std::async(std::launch::async, [ids] {
      return post("/v1/completions", {{"prompt", ids}, {"max_tokens", 10}, {"temperature", 0}});
    }));
  }
  for (size_t p = 0; p < prompts.size(); ++p) {
    const auto [status, body] = answers[p].get();
    ASSERT_EQ(status, 200) << body.dump();
    const auto alone = post("/v1/completions", {{"prompt", prompts[p]}, {"max_tokens", 10}, {"temperature", 0}});
    EXPECT_EQ(body["loom"]["output_ids"], alone.second["loom"]["output_ids"]) << "prompt " << p;
  }
}

TEST(ServeProcessLifetime, SigtermStopsItCleanly) {
  loom::test::ServeProcess server;
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
