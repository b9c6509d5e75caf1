// Bad tokenizer input is an InputError naming the file and the key; plus round trips, invalid UTF-8 and
// concurrent use of one tokenizer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/error.h"
#include "text/tokenizer.h"
#include "text_test_support.h"

namespace loom::text {
namespace {

namespace fs = std::filesystem;

class TokenizerDir {
 public:
  TokenizerDir() {
    path_ = fs::temp_directory_path() /
            ("loom_text_error_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(path_);
  }
  ~TokenizerDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }
  // A small valid byte-level tokenizer.json with one part replaced by `override_json` (a JSON object patch).
  void write_tokenizer(const nlohmann::json& patch) const {
    nlohmann::json root = {
        {"version", "1.0"},
        {"added_tokens", nlohmann::json::array()},
        {"normalizer", nullptr},
        {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
        {"post_processor", nullptr},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", {"a b"}}}},
    };
    root.merge_patch(patch);
    write("tokenizer.json", root.dump());
  }

 private:
  fs::path path_;
};

// Runs load_tokenizer and returns the InputError it throws.
InputError load_error(const fs::path& dir) {
  try {
    load_tokenizer(dir);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an InputError for " << dir;
  return InputError("", 0, "", "");
}

TEST(TokenizerErrors, MissingDirectory) {
  const InputError e = load_error("/nonexistent/loom/model");
  EXPECT_NE(std::string(e.what()).find("/nonexistent/loom/model"), std::string::npos);
}

TEST(TokenizerErrors, DirectoryWithoutTokenizerFiles) {
  TokenizerDir dir;
  const InputError e = load_error(dir.path());
  EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos);
}

TEST(TokenizerErrors, MalformedJsonNamesFileAndLine) {
  TokenizerDir dir;
  dir.write("tokenizer.json", "{\n  \"model\": {\n    \"type\": \"BPE\",,\n");
  const InputError e = load_error(dir.path());
  EXPECT_NE(e.file().find("tokenizer.json"), std::string::npos);
  EXPECT_EQ(e.line(), 3);
}

// Issue 14: the message is the problem in words, without nlohmann's "[json.exception.parse_error.101]" tag.
TEST(TokenizerErrors, MalformedJsonIsDescribedInWords) {
  TokenizerDir dir;
  dir.write("tokenizer.json", "{\n  \"model\": {\n    \"type\": \"BPE\",,\n");
  const std::string message = load_error(dir.path()).what();
  EXPECT_NE(message.find("valid JSON"), std::string::npos) << message;
  EXPECT_EQ(message.find("json.exception"), std::string::npos) << message;
}

// A vocabulary id near INT32_MAX made the dense id table allocate ~2^31 strings (std::bad_alloc or an OOM kill).
TEST(TokenizerErrors, VocabularyIdFarBeyondTheVocabulary) {
  TokenizerDir dir;
  dir.write_tokenizer({{"model", {{"vocab", {{"a", 0}, {"b", 2147483000}, {"ab", 2}}}}}});
  const InputError e = load_error(dir.path());
  EXPECT_EQ(e.key(), "model.vocab.b");
  EXPECT_NE(std::string(e.what()).find("below"), std::string::npos) << e.what();
}

TEST(TokenizerErrors, UnknownModelType) {
  TokenizerDir dir;
  dir.write_tokenizer({{"model", {{"type", "Unigram"}}}});
  EXPECT_EQ(load_error(dir.path()).key(), "model.type");
}

TEST(TokenizerErrors, MissingVocabulary) {
  TokenizerDir dir;
  dir.write("tokenizer.json", R"({"model": {"type": "BPE", "merges": []}})");
  EXPECT_EQ(load_error(dir.path()).key(), "model.vocab");
}

TEST(TokenizerErrors, MergeOfUnknownToken) {
  TokenizerDir dir;
  dir.write_tokenizer({{"model", {{"merges", {"a b", "x y"}}}}});
  EXPECT_EQ(load_error(dir.path()).key(), "model.merges[1]");
}

TEST(TokenizerErrors, UnsupportedComponents) {
  TokenizerDir dir;
  dir.write_tokenizer({{"normalizer", {{"type", "Precompiled"}}}});
  EXPECT_EQ(load_error(dir.path()).key(), "normalizer.type");
  dir.write_tokenizer({{"pre_tokenizer", {{"type", "Sequence"},
                                          {"pretokenizers", {{{"type", "ByteLevel"}}, {{"type", "UnicodeScripts"}}}}}}});
  EXPECT_EQ(load_error(dir.path()).key(), "pre_tokenizer.pretokenizers[1].type");
  dir.write_tokenizer({{"decoder", {{"type", "CTC"}}}});
  EXPECT_EQ(load_error(dir.path()).key(), "decoder.type");
  dir.write_tokenizer({{"post_processor", {{"type", "Unknown"}}}});
  EXPECT_EQ(load_error(dir.path()).key(), "post_processor.type");
}

TEST(TokenizerErrors, BadRegexNamesThePattern) {
  TokenizerDir dir;
  dir.write_tokenizer({{"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}},
                                          {"behavior", "Isolated"}}}});
  EXPECT_EQ(load_error(dir.path()).key(), "pre_tokenizer.pattern");
}

TEST(TokenizerErrors, CorruptSentencePieceModel) {
  TokenizerDir dir;
  dir.write("tokenizer.model", "this is not a protobuf");
  const InputError e = load_error(dir.path());
  EXPECT_NE(e.file().find("tokenizer.model"), std::string::npos);
}

TEST(TokenizerBehaviour, SmallTokenizerMergesAndDecodes) {
  TokenizerDir dir;
  dir.write_tokenizer(nlohmann::json::object());
  const auto tokenizer = load_tokenizer(dir.path());
  EXPECT_EQ(tokenizer->encode("abab", false), (std::vector<int32_t>{2, 2}));
  EXPECT_EQ(tokenizer->decode({2, 0, 1}, false), "abab");
  EXPECT_EQ(tokenizer->vocab_size(), 3);
  EXPECT_EQ(tokenizer->token_to_id("ab"), 2);
  EXPECT_EQ(tokenizer->id_to_token(1), "b");
  EXPECT_FALSE(tokenizer->id_to_token(7).has_value());
}

const fs::path llama3_dir() { return testing::resolve_fixture_dir("tokenizers:llama3_1"); }

TEST(TokenizerBehaviour, EssayRoundTripAndInvalidUtf8) {
  if (!fs::exists(llama3_dir())) GTEST_SKIP() << "tokenizer fixtures not configured (LOOM_TOKENIZER_FIXTURES)";
  const Tokenizer& tokenizer = testing::cached_tokenizer(llama3_dir());
  const std::string essay = testing::read_file(testing::essays_dir() / "apple.txt");
  ASSERT_FALSE(essay.empty());
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(essay, false), false), essay);
  // Invalid UTF-8 is repaired to U+FFFD first (as Python's errors="replace" would).
  const std::string broken = "ok \xFF\xC3 end";
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(broken, false), false), "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
  // A cut multi-byte character decodes to U+FFFD, like tokenizers' lossy decode.
  const auto ids = tokenizer.encode("\xE4\xB8\xAD", false);  // one Chinese character
  EXPECT_EQ(tokenizer.decode(ids, false), "\xE4\xB8\xAD");
}

TEST(TokenizerBehaviour, CleanUpTokenizationSpacesLikeTransformers) {
  if (!fs::exists(llama3_dir())) GTEST_SKIP() << "tokenizer fixtures not configured (LOOM_TOKENIZER_FIXTURES)";
  EXPECT_TRUE(config_cleans_up_tokenization_spaces(llama3_dir()));
  EXPECT_FALSE(config_cleans_up_tokenization_spaces(testing::resolve_fixture_dir("tokenizers:qwen3")));
  const Tokenizer& tokenizer = testing::cached_tokenizer(llama3_dir());
  const auto ids = tokenizer.encode("Hello , world . I do n't know !", false);
  // transformers 5.2: AutoTokenizer(llama3_1).decode(ids) == "Hello, world. I don't know!"
  EXPECT_EQ(clean_up_tokenization_spaces(tokenizer.decode(ids, false)), "Hello, world. I don't know!");
  EXPECT_EQ(clean_up_tokenization_spaces("a ' b  .. x 's"), "a'b .. x's");
}

TEST(TokenizerBehaviour, ConcurrentEncodeGivesTheSameIds) {
  if (!fs::exists(llama3_dir())) GTEST_SKIP() << "tokenizer fixtures not configured (LOOM_TOKENIZER_FIXTURES)";
  const Tokenizer& tokenizer = testing::cached_tokenizer(llama3_dir());
  const std::string essay = testing::read_file(testing::essays_dir() / "gba.txt");
  const auto reference = tokenizer.encode(essay, true);
  std::vector<std::vector<int32_t>> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] { results[t] = tokenizer.encode(essay, true); });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) EXPECT_EQ(result, reference);
}

}  // namespace
}  // namespace loom::text
