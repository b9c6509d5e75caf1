// parse_completion_request: what an OpenAI request becomes, and the key and words of every refusal.
#include "serve/openai_request.h"

#include <gtest/gtest.h>

using loom::serve::Endpoint;
using loom::serve::parse_completion_request;
using loom::serve::RequestError;
using nlohmann::json;

namespace {

// The key a refused request names, and the message.
std::pair<std::string, std::string> refusal(const json& body, Endpoint endpoint = Endpoint::kCompletions) {
  try {
    parse_completion_request(body, endpoint, 4096);
  } catch (const RequestError& e) {
    return {e.key(), e.what()};
  }
  ADD_FAILURE() << "accepted: " << body.dump();
  return {};
}

}  // namespace

TEST(OpenAiRequest, CompletionWithTokenIdsIsGreedyAtTemperatureZero) {
  const auto r = parse_completion_request(
      json{{"prompt", {1, 2, 3}}, {"max_tokens", 7}, {"temperature", 0}, {"stop", "\n"}}, Endpoint::kCompletions,
      4096);
  EXPECT_EQ(r.prompt_ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(r.generation.max_new_tokens, 7);
  EXPECT_FALSE(r.generation.do_sample);
  EXPECT_EQ(r.generation.stop_strings, (std::vector<std::string>{"\n"}));
  EXPECT_EQ(r.method.name, "full");
}

TEST(OpenAiRequest, DefaultsFollowOpenAi) {
  const auto r = parse_completion_request(json{{"prompt", "hello"}}, Endpoint::kCompletions, 4096);
  EXPECT_EQ(r.prompt_text, "hello");
  EXPECT_EQ(r.generation.max_new_tokens, 16);
  EXPECT_TRUE(r.generation.do_sample);  // OpenAI's default temperature is 1
}

TEST(OpenAiRequest, ChatMessagesAndMaxCompletionTokens) {
  const auto r = parse_completion_request(
      json{{"messages", {{{"role", "system"}, {"content", "s"}}, {{"role", "user"}, {"content", "u"}}}},
           {"max_completion_tokens", 3}, {"temperature", 0.5}, {"top_p", 0.9}, {"seed", 7}},
      Endpoint::kChat, 4096);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].role, "user");
  EXPECT_EQ(r.generation.max_new_tokens, 3);
  EXPECT_TRUE(r.generation.do_sample);
  EXPECT_FLOAT_EQ(r.generation.temperature, 0.5f);
  EXPECT_EQ(r.generation.seed, 7u);
}

TEST(OpenAiRequest, MethodIsCheckedAgainstTheCatalogue) {
  const auto r = parse_completion_request(
      json{{"prompt", "x"}, {"loom_method", {{"name", "snapkv"}, {"params", {{"compression_ratio", 0.5}}}}}},
      Endpoint::kCompletions, 4096);
  EXPECT_EQ(r.method.name, "snapkv");
  EXPECT_EQ(json::parse(r.method.params_json)["compression_ratio"], 0.5);

  auto [key, message] = refusal(json{{"prompt", "x"}, {"loom_method", {{"name", "snapk"}}}});
  EXPECT_EQ(key, "loom_method.name");
  EXPECT_NE(message.find("did you mean 'snapkv'"), std::string::npos) << message;
  std::tie(key, message) =
      refusal(json{{"prompt", "x"}, {"loom_method", {{"name", "snapkv"}, {"params", {{"compression_ratio", 2}}}}}});
  EXPECT_EQ(key, "loom_method.params.compression_ratio");
  std::tie(key, message) = refusal(json{{"prompt", "x"}, {"loom_method", {{"name", "snapkv"}, {"budget", 1}}}});
  EXPECT_EQ(key, "loom_method.budget");
}

TEST(OpenAiRequest, BadRequestsNameTheKey) {
  EXPECT_EQ(refusal(json{{"max_tokens", 4}}).first, "prompt");
  EXPECT_EQ(refusal(json{{"prompt", "x"}, {"max_tokens", "4"}}).first, "max_tokens");
  EXPECT_EQ(refusal(json{{"prompt", "x"}, {"max_tokens", 0}}).first, "max_tokens");
  EXPECT_EQ(refusal(json{{"prompt", "x"}, {"temperature", 3}}).first, "temperature");
  EXPECT_EQ(refusal(json{{"prompt", "x"}, {"top_p", 0}}).first, "top_p");
  EXPECT_EQ(refusal(json{{"prompt", "x"}, {"stream", true}}).first, "stream");
  EXPECT_EQ(refusal(json{{"prompt", "x"}, {"n", 2}}).first, "n");
  EXPECT_EQ(refusal(json{{"prompt", "x"}, {"stop", {"a", "b", "c", "d", "e"}}}).first, "stop");
  EXPECT_EQ(refusal(json{{"prompt", {1, 99999}}}).first, "prompt[1]");
  EXPECT_EQ(refusal(json{{"prompt", {"a", "b"}}}).first, "prompt");
  EXPECT_EQ(refusal(json{{"prompt", "x"}, {"model", 3}}).first, "model");
  EXPECT_EQ(refusal(json{{"messages", json::array()}}, Endpoint::kChat).first, "messages");
  EXPECT_EQ(refusal(json{{"messages", {{{"role", "robot"}, {"content", "x"}}}}}, Endpoint::kChat).first,
            "messages[0].role");
  EXPECT_EQ(refusal(json{{"messages", {{{"role", "user"}}}}}, Endpoint::kChat).first, "messages[0].content");
  const auto [key, message] = refusal(json{{"prompt", "x"}, {"max_tokens", "4"}});
  EXPECT_EQ(message, "max_tokens: expected an integer from 1 to 1048576, got \"4\"");
}

namespace {

std::string embedding_refusal(const json& body) {
  try {
    loom::serve::parse_embedding_request(body, 4096);
  } catch (const RequestError& e) {
    return e.key() + " | " + e.what();
  }
  ADD_FAILURE() << "accepted: " << body.dump();
  return "";
}

}  // namespace

TEST(OpenAiEmbeddingRequest, EveryInputForm) {
  auto one = loom::serve::parse_embedding_request({{"input", "hello"}, {"model", "m"}}, 4096);
  EXPECT_EQ(one.texts, std::vector<std::string>{"hello"});
  EXPECT_TRUE(one.single);
  EXPECT_EQ(one.model, "m");
  EXPECT_FALSE(one.base64);
  EXPECT_EQ(one.pooling, loom::serve::EmbeddingPooling::kDefault);
  auto texts = loom::serve::parse_embedding_request({{"input", {"a", "b"}}, {"encoding_format", "base64"}}, 4096);
  EXPECT_EQ(texts.texts, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(texts.single);
  EXPECT_TRUE(texts.base64);
  auto ids = loom::serve::parse_embedding_request({{"input", {1, 2, 3}}, {"loom_pooling", "last"}}, 4096);
  EXPECT_EQ(ids.token_ids, (std::vector<std::vector<int32_t>>{{1, 2, 3}}));
  EXPECT_TRUE(ids.single);
  EXPECT_EQ(ids.pooling, loom::serve::EmbeddingPooling::kLast);
  auto many = loom::serve::parse_embedding_request({{"input", {{1, 2}, {3}}}, {"dimensions", 256}}, 4096);
  EXPECT_EQ(many.token_ids, (std::vector<std::vector<int32_t>>{{1, 2}, {3}}));
  EXPECT_EQ(many.size(), 2u);
  EXPECT_EQ(many.dimensions, 256);
}

TEST(OpenAiEmbeddingRequest, BadRequestsNameTheKey) {
  EXPECT_EQ(embedding_refusal({{"model", "m"}}).rfind("input | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", ""}}).rfind("input | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", json::array()}}).rfind("input | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", 7}}).rfind("input | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", {"a", 3}}}).rfind("input[1] | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", {"a", ""}}}).rfind("input[1] | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", {1, 5000}}}).rfind("input[1] | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", {{1}, {2, -1}}}}).rfind("input[1][1] | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", {{1}, json::array()}}}).rfind("input[1] | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", {{1}, "a"}}}).rfind("input[1] | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", {true}}}).rfind("input[0] | ", 0), 0u);
  EXPECT_NE(embedding_refusal({{"input", "a"}, {"encoding_format", "int8"}}).find("encoding_format | "),
            std::string::npos);
  EXPECT_EQ(embedding_refusal({{"input", "a"}, {"loom_pooling", "max"}}).rfind("loom_pooling | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", "a"}, {"dimensions", 0}}).rfind("dimensions | ", 0), 0u);
  EXPECT_EQ(embedding_refusal({{"input", "a"}, {"model", 3}}).rfind("model | ", 0), 0u);
  EXPECT_EQ(embedding_refusal(json::array()).rfind(" | ", 0), 0u);
}
