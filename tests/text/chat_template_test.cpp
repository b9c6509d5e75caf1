// Chat templates must render exactly what transformers' apply_chat_template renders (fixtures from
// tools/fixtures/make_text_fixtures.py), and be recognised from the model's tokenizer_config.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "text/chat_template.h"
#include "text_test_support.h"

namespace loom::text {
namespace {

using testing::fixture_dir;
using testing::read_json;
using testing::resolve_fixture_dir;

std::vector<ChatMessage> to_messages(const nlohmann::json& list) {
  std::vector<ChatMessage> messages;
  for (const auto& m : list) messages.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
  return messages;
}

TEST(ChatTemplateParity, MatchesTransformersApplyChatTemplate) {
  const auto expected = read_json(fixture_dir() / "chat_expected.json");
  const auto& conversations = expected.at("conversations");
  int checked = 0;
  for (const auto& entry : expected.at("templates")) {
    const auto dir = resolve_fixture_dir(entry.at("dir").get<std::string>());
    if (!std::filesystem::exists(dir)) continue;
    SCOPED_TRACE(dir.string());
    for (const bool thinking : {false, true}) {
      const ChatTemplate chat = load_chat_template(dir, "", thinking);
      EXPECT_EQ(chat.name(), entry.at("name").get<std::string>());
      for (const auto& c : entry.at("cases")) {
        if (c.at("enable_thinking").get<bool>() != thinking) continue;
        const std::string conversation = c.at("conversation").get<std::string>();
        const bool generation_prompt = c.at("add_generation_prompt").get<bool>();
        SCOPED_TRACE(conversation + (generation_prompt ? " +generation prompt" : "") + (thinking ? " +thinking" : ""));
        const auto messages = to_messages(conversations.at(conversation));
        if (c.at("expected").is_null()) {
          EXPECT_THROW(chat.render(messages, generation_prompt), Error);
        } else {
          EXPECT_EQ(chat.render(messages, generation_prompt), c.at("expected").get<std::string>());
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 40);
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("loom_text_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  std::filesystem::path path_;
};

// docs/job-file.md's model.chat_template row names every format the loader knows (and the job schema's help too).
TEST(ChatTemplateDocs, JobFileReferenceListsEveryKnownFormat) {
  const std::string doc = testing::read_file(std::filesystem::path(LOOM_SOURCE_DIR) / "docs/job-file.md");
  const size_t row = doc.find("| `model.chat_template` |");
  ASSERT_NE(row, std::string::npos);
  const std::string line = doc.substr(row, doc.find('\n', row) - row);
  for (const std::string& name : known_chat_templates()) {
    EXPECT_NE(line.find("`" + name + "`"), std::string::npos) << name << " is missing from docs/job-file.md";
  }
}

TEST(ChatTemplateLoad, OverrideByName) {
  const auto qwen = testing::resolve_fixture_dir("tokenizers:qwen3");
  if (!std::filesystem::exists(qwen)) GTEST_SKIP() << "tokenizer fixtures not configured (LOOM_TOKENIZER_FIXTURES)";
  const std::vector<ChatMessage> messages = {{"user", "Hi"}};
  EXPECT_EQ(load_chat_template(qwen, "chatml").render(messages), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(load_chat_template(qwen, "raw").render(messages), "Hi");
  EXPECT_THROW(load_chat_template(qwen, "no_such_format"), InputError);
}

TEST(ChatTemplateLoad, DefaultSystemPromptOfQwen25) {
  TempDir dir;
  dir.write("tokenizer_config.json", R"({"eos_token": "<|im_end|>", "chat_template": "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}"})");
  const ChatTemplate chat = load_chat_template(dir.path());
  EXPECT_EQ(chat.name(), "chatml");
  EXPECT_EQ(chat.render({{"user", "Hi"}}),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateLoad, UnrecognisedTemplateNamesTheKey) {
  TempDir dir;
  dir.write("tokenizer_config.json", R"({"chat_template": "{% for m in messages %}### {{ m['content'] }}{% endfor %}"})");
  try {
    load_chat_template(dir.path());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "chat_template");
    EXPECT_NE(e.file().find("tokenizer_config.json"), std::string::npos);
  }
  EXPECT_EQ(load_chat_template(dir.path(), "phi3").name(), "phi3");
}

TEST(ChatTemplateLoad, NoTemplateMeansRaw) {
  TempDir dir;
  dir.write("tokenizer_config.json", R"({"bos_token": {"content": "<s>", "special": true}, "eos_token": "</s>"})");
  EXPECT_EQ(load_chat_template(dir.path()).name(), "raw");
}

TEST(ChatTemplateLoad, TemplateInChatTemplateJinja) {
  TempDir dir;
  dir.write("tokenizer_config.json", R"({"bos_token": "<|begin_of_text|>"})");
  dir.write("chat_template.jinja", "{{ bos_token }}<|start_header_id|>{{ m }}<|eot_id|>");
  const ChatTemplate chat = load_chat_template(dir.path());
  EXPECT_EQ(chat.name(), "llama3");
  EXPECT_EQ(chat.render({{"user", " x "}}, true),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplateLoad, BadJsonIsAnInputError) {
  TempDir dir;
  dir.write("tokenizer_config.json", "{\"chat_template\": \n  [1, 2");
  try {
    load_chat_template(dir.path());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(e.file().find("tokenizer_config.json"), std::string::npos);
    EXPECT_EQ(e.line(), 2);
  }
}

TEST(ChatTemplateRender, RolesMustAlternateForLlama2) {
  const ChatTemplate chat("llama2", SpecialTokens{"<s>", "</s>", true});
  EXPECT_THROW(chat.render({{"user", "a"}, {"user", "b"}}), Error);
}

// Issue 14: the markers were read with std::regex, which recursed once per character of a long template (a
// tokenizer_config.json is data). Linear scans: a 200 KB template is recognised, and the details still read.
TEST(ChatTemplateRecognition, LongTemplatesAndTheirDetails) {
  ChatTemplateDetails details;
  const std::string llama = "<|start_header_id|>Cutting Knowledge Date {% set date_string = \"05 Dec 2026\" %}" +
                            std::string(200000, ' ');
  EXPECT_EQ(recognise_chat_template(llama, details), "llama3_1");
  EXPECT_EQ(details.date_string, "05 Dec 2026");
  const std::string unterminated = "<|start_header_id|>Cutting Knowledge Date date_string = '" +
                                   std::string(200000, 'x');
  EXPECT_EQ(recognise_chat_template(unterminated, details), "llama3_1");
  EXPECT_EQ(details.date_string, "26 Jul 2024");
  const std::string chatml = "{{ '<|im_start|>system\\nYou are helpful.<|im_end|>' }}" + std::string(200000, 'y') +
                             "<|im_start|>system\\n" + std::string(200000, 'z');
  EXPECT_EQ(recognise_chat_template(chatml, details), "chatml");
  EXPECT_EQ(details.default_system_prompt, "You are helpful.");
}

}  // namespace
}  // namespace loom::text
