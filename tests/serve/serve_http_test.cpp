// `loom_mpi serve` over loopback: the real server on models/tiny-loom answers OpenAI's shapes with usage counts, its
// greedy outputs equal the engine run in-process, a request picks its KV method, bad requests get 400 with the key,
// concurrent requests all get their own answer, --full-cache-only serves the full cache and refuses other methods,
// and SIGTERM stops it cleanly.
#include "serve/serve_process.h"

#include "rank/accel/registry.h"
#include "rank/model/inference_engine.h"
#include "text/tokenizer.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <future>
#include <memory>
#include <thread>

using nlohmann::json;

namespace {

const std::string kModel = std::string(LOOM_SOURCE_DIR) + "/models/tiny-loom";

// What the engine generates in-process for these ids (greedy).
loom::model::InferenceResult local(const std::vector<int32_t>& ids, int max_new_tokens, loom::MethodSpec method = {}) {
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

// /v1/embeddings against tests/fixtures/serve/embeddings.json (tools/fixtures/make_embedding_fixtures.py:
// transformers' last_hidden_state of models/tiny-loom, mean- or last-pooled, L2-normalised).
json embedding_fixture() {
  std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/serve/embeddings.json");
  return json::parse(in);
}

std::vector<float> base64_floats(const std::string& text) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> bytes;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    bits = (bits << 6) | static_cast<uint32_t>(alphabet.find(c));
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes.push_back(static_cast<uint8_t>(bits >> count));
    }
  }
  std::vector<float> out(bytes.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint32_t word = uint32_t{bytes[4 * i]} | uint32_t{bytes[4 * i + 1]} << 8 | uint32_t{bytes[4 * i + 2]} << 16 |
                          uint32_t{bytes[4 * i + 3]} << 24;
    std::memcpy(&out[i], &word, 4);
  }
  return out;
}

void expect_close(const json& got, const json& want, const std::string& what) {
  const auto a = got.get<std::vector<double>>();
  const auto b = want.get<std::vector<double>>();
  ASSERT_EQ(a.size(), b.size()) << what;
  double worst = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
    norm += a[i] * a[i];
  }
  EXPECT_LT(worst, 1e-5) << what << ": largest difference from transformers";
  EXPECT_NEAR(norm, 1.0, 1e-5) << what << ": squared L2 norm";
}

TEST_F(ServeHttp, EmbeddingsOfTextsEqualTransformersMeanPooled) {
  const json fixture = embedding_fixture();
  json texts = json::array();
  int64_t tokens = 0;
  for (const auto& c : fixture["cases"]) {
    if (!c.contains("text")) continue;
    texts.push_back(c["text"]);
    tokens += static_cast<int64_t>(c["ids"].size());
  }
  ASSERT_EQ(texts.size(), 3u);
  const auto [status, body] = post("/v1/embeddings", {{"model", "tiny-loom"}, {"input", texts}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["model"], "tiny-loom");
  EXPECT_EQ(body["usage"]["prompt_tokens"], tokens);  // the tokenizer gives transformers' ids (BOS included)
  EXPECT_EQ(body["usage"]["total_tokens"], tokens);
  ASSERT_EQ(body["data"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(body["data"][i]["object"], "embedding");
    EXPECT_EQ(body["data"][i]["index"], i);
    EXPECT_EQ(body["data"][i]["embedding"].size(), 256u);  // hidden_size
    expect_close(body["data"][i]["embedding"], fixture["cases"][i]["mean"], "text " + std::to_string(i));
  }
}

TEST_F(ServeHttp, EmbeddingsOfTokenArraysMeanAndLast) {
  const json fixture = embedding_fixture();
  const json a = fixture["cases"][3], b = fixture["cases"][4];
  ASSERT_FALSE(a.contains("text"));
  const auto [status, mean] = post("/v1/embeddings", {{"input", {a["ids"], b["ids"]}}});
  ASSERT_EQ(status, 200) << mean.dump();
  expect_close(mean["data"][0]["embedding"], a["mean"], "ids 0 mean");
  expect_close(mean["data"][1]["embedding"], b["mean"], "ids 1 mean");
  EXPECT_EQ(mean["usage"]["prompt_tokens"], a["ids"].size() + b["ids"].size());
  const auto [status_last, last] = post("/v1/embeddings", {{"input", {a["ids"], b["ids"]}}, {"loom_pooling", "last"}});
  ASSERT_EQ(status_last, 200) << last.dump();
  expect_close(last["data"][0]["embedding"], a["last"], "ids 0 last");
  expect_close(last["data"][1]["embedding"], b["last"], "ids 1 last");
  const auto [status_one, one] = post("/v1/embeddings", {{"input", b["ids"]}});  // one flat array: one input
  ASSERT_EQ(status_one, 200) << one.dump();
  ASSERT_EQ(one["data"].size(), 1u);
  expect_close(one["data"][0]["embedding"], b["mean"], "flat ids");
}

TEST_F(ServeHttp, EmbeddingsKeepTheBatchOrder) {
  const json fixture = embedding_fixture();
  // Reversed, with a repeat: data[i] is input[i]'s vector whatever shares its forward.
  const json input = {fixture["cases"][2]["text"], fixture["cases"][0]["text"], fixture["cases"][2]["text"],
                      fixture["cases"][1]["text"]};
  const auto [status, body] = post("/v1/embeddings", {{"input", input}});
  ASSERT_EQ(status, 200) << body.dump();
  ASSERT_EQ(body["data"].size(), 4u);
  const int want[] = {2, 0, 2, 1};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(body["data"][i]["index"], i);
    expect_close(body["data"][i]["embedding"], fixture["cases"][want[i]]["mean"], "batch entry " + std::to_string(i));
  }
}

TEST_F(ServeHttp, Base64EmbeddingsDecodeToTheFloats) {
  const json input = {"first text", "a second, longer text to embed"};
  const auto [s1, floats] = post("/v1/embeddings", {{"input", input}});
  const auto [s2, packed] = post("/v1/embeddings", {{"input", input}, {"encoding_format", "base64"}});
  ASSERT_EQ(s1, 200) << floats.dump();
  ASSERT_EQ(s2, 200) << packed.dump();
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(packed["data"][i]["embedding"].is_string());
    const std::vector<float> decoded = base64_floats(packed["data"][i]["embedding"].get<std::string>());
    EXPECT_EQ(decoded, floats["data"][i]["embedding"].get<std::vector<float>>());
    EXPECT_EQ(decoded.size(), 256u);
  }
}

TEST_F(ServeHttp, BadEmbeddingRequestsAre400WithTheKey) {
  const auto expect_refused = [](const json& request, int code, const std::string& param) {
    const auto [status, body] = post("/v1/embeddings", request);
    EXPECT_EQ(status, code) << request.dump() << " -> " << body.dump();
    EXPECT_EQ(body["error"]["param"], param) << body.dump();
    EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  };
  expect_refused({{"input", {1, 4096}}}, 400, "input[1]");
  expect_refused({{"input", {"ok", ""}}}, 400, "input[1]");
  expect_refused({{"model", "tiny-loom"}}, 400, "input");
  expect_refused({{"input", "x"}, {"encoding_format", "int8"}}, 400, "encoding_format");
  expect_refused({{"input", "x"}, {"dimensions", 64}}, 400, "dimensions");
  expect_refused({{"input", "x"}, {"loom_pooling", "max"}}, 400, "loom_pooling");
  expect_refused({{"input", "x"}, {"model", "other"}}, 404, "model");
  expect_refused({{"input", std::vector<int>(9000, 5)}}, 400, "input");  // longer than the 8192-token context
  const auto [status, body] = post("/v1/embeddings", {{"input", "x"}, {"dimensions", 256}});
  EXPECT_EQ(status, 200) << body.dump();
}

TEST(ServeFullCacheOnly, ServesTheFullCacheAndRefusesOtherMethodsWith400) {
  loom::test::ServeProcess server({"--full-cache-only"});
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(120, 0);
  std::vector<int32_t> ids;
  for (int i = 0; i < 120; ++i) ids.push_back(10 + (i * 41) % 3000);
  const json full = {{"prompt", ids}, {"max_tokens", 6}, {"temperature", 0}};
  auto res = c.Post("/v1/completions", full.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  EXPECT_EQ(body["loom"]["method"], "full");
  // One prefill copy changes where the pool's memory goes, not what the engine computes.
  EXPECT_EQ(body["loom"]["output_ids"].get<std::vector<int32_t>>(), local(ids, 6).output_ids);

  json other = full;
  other["loom_method"] = {{"name", "snapkv"}, {"params", {{"compression_ratio", 0.5}}}};
  res = c.Post("/v1/completions", other.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  const json refusal = json::parse(res->body);
  EXPECT_EQ(refusal["error"]["param"], "loom_method.name");
  EXPECT_NE(refusal["error"]["message"].get<std::string>().find("--full-cache-only"), std::string::npos)
      << refusal.dump();
  EXPECT_EQ(server.stop(), 0);
}

TEST(ServeProcessLifetime, SigtermStopsItCleanly) {
  loom::test::ServeProcess server;
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
