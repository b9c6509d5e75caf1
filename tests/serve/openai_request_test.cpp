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
