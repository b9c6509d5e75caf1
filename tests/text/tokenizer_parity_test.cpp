// Token ids and decoded text must equal the Python `tokenizers` library (and `sentencepiece` for tokenizer.model)
// on the corpus of tools/fixtures/make_text_fixtures.py and the Paul Graham essays.
#include <gtest/gtest.h>

#include "text/tokenizer.h"
#include "text_test_support.h"

namespace loom::text {
namespace {

using testing::cached_tokenizer;
using testing::fixture_dir;
using testing::read_json;
using testing::resolve_fixture_dir;

const nlohmann::json& expected() {
  static const nlohmann::json data = read_json(fixture_dir() / "tokenizer_expected.json");
  return data;
}

std::vector<std::string> corpus_for(const std::string& name) {
  const auto corpus = read_json(fixture_dir() / "corpus.json");
  auto texts = corpus["corpus"].get<std::vector<std::string>>();
  if (name.rfind("tiny_", 0) == 0 && name != "tiny_sentencepiece") {
    for (const auto& t : corpus["extra"]) texts.push_back(t.get<std::string>());
  }
  return texts;
}

// A stored decode: the text, null for "equal to the input text", or {bytes, fnv1a} for a long one. Returns what
// to compare the decode with: the text itself, or (for hashed ones) "<bytes>:<fnv1a>".
std::string text_or(const nlohmann::json& value, const std::string& text) {
  if (value.is_null()) return text;
  if (value.is_string()) return value.get<std::string>();
  return std::to_string(value.at("bytes").get<size_t>()) + ":" + value.at("fnv1a").get<std::string>();
}

// The decode in the form text_or gives for `value`.
std::string as_stored(const std::string& decoded, const nlohmann::json& value) {
  if (!value.is_object()) return decoded;
  return std::to_string(decoded.size()) + ":" + testing::fnv1a_bytes_hex(decoded);
}

class TokenizerParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    entry_ = &expected().at(GetParam());
    dir_ = resolve_fixture_dir(entry_->at("dir").get<std::string>());
    if (!std::filesystem::exists(dir_)) GTEST_SKIP() << "fixture directory not found: " << dir_;
  }
  const nlohmann::json* entry_ = nullptr;
  std::filesystem::path dir_;
};

TEST_P(TokenizerParity, CorpusEncodeAndDecode) {
  const Tokenizer& tokenizer = cached_tokenizer(dir_);
  const auto texts = corpus_for(GetParam());
  const auto& cases = entry_->at("cases");
  ASSERT_EQ(cases.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE("corpus[" + std::to_string(i) + "] = " + texts[i].substr(0, 200));
    const auto& c = cases[i];
    const auto plain = tokenizer.encode(texts[i], false);
    const auto special = tokenizer.encode(texts[i], true);
    testing::expect_ids(plain, c.at("ids"));
    testing::expect_ids(special, c.at("ids_special"));
    if (c.at("ids_special").is_array()) {
      const auto reference_ids = c.at("ids_special").get<std::vector<int32_t>>();
      if (c.contains("decoded")) {
        EXPECT_EQ(as_stored(tokenizer.decode(reference_ids, false), c["decoded"]), text_or(c["decoded"], texts[i]));
      }
      EXPECT_EQ(as_stored(tokenizer.decode(reference_ids, true), c.at("decoded_skip")),
                text_or(c.at("decoded_skip"), texts[i]));
    } else {
      // Only the hash is stored: decode our own ids (equal to the reference's when the hash matched).
      if (c.contains("decoded")) {
        EXPECT_EQ(as_stored(tokenizer.decode(special, false), c["decoded"]), text_or(c["decoded"], texts[i]));
      }
      EXPECT_EQ(as_stored(tokenizer.decode(special, true), c.at("decoded_skip")), text_or(c.at("decoded_skip"), texts[i]));
    }
    if (c.contains("decoded_plain")) {
      EXPECT_EQ(as_stored(tokenizer.decode(plain, false), c["decoded_plain"]), text_or(c["decoded_plain"], texts[i]));
    }
    if (c.value("roundtrip", false)) EXPECT_EQ(tokenizer.decode(plain, false), texts[i]);
  }
}

class TokenizerEssays : public TokenizerParity {};

TEST_P(TokenizerEssays, IdsOfEveryEssay) {
  const Tokenizer& tokenizer = cached_tokenizer(dir_);
  const auto essay_dir = testing::essays_dir();
  if (!std::filesystem::exists(essay_dir)) GTEST_SKIP() << "essays not found: " << essay_dir;
  for (const auto& essay : entry_->at("essays")) {
    const std::string file = essay.at("file").get<std::string>();
    SCOPED_TRACE(file);
    const std::string text = testing::read_file(essay_dir / file);
    const auto ids = tokenizer.encode(text, false);
    ASSERT_EQ(static_cast<int64_t>(ids.size()), essay.at("count").get<int64_t>());
    const auto head = essay.at("head").get<std::vector<int32_t>>();
    EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + static_cast<long>(head.size())), head);
    EXPECT_EQ(testing::fnv1a_hex(ids), essay.at("fnv1a").get<std::string>());
  }
}

std::vector<std::string> tokenizer_names() {
  std::vector<std::string> names;
  for (const auto& [name, value] : expected().items()) names.push_back(name);
  return names;
}

std::vector<std::string> essay_tokenizer_names() {
  std::vector<std::string> names;
  for (const auto& [name, value] : expected().items()) {
    if (value.contains("essays")) names.push_back(name);
  }
  return names;
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(AllFixtures, TokenizerParity, ::testing::ValuesIn(tokenizer_names()), param_name);
INSTANTIATE_TEST_SUITE_P(SharedTokenizers, TokenizerEssays, ::testing::ValuesIn(essay_tokenizer_names()), param_name);

}  // namespace
}  // namespace loom::text
