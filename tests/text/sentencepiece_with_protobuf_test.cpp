// A process that also loads libprotobuf (as every loom_mpi rank does through libtorch) must still load and run
// tokenizer.model files: libsentencepiece's embedded protobuf-lite used to clash with it. This binary is linked
// against libprotobuf (and libtorch when available) without --as-needed, so both are loaded before main().
#include <gtest/gtest.h>

#include "text/tokenizer.h"
#include "text_test_support.h"

namespace loom::text {
namespace {

TEST(SentencePieceWithProtobuf, LoadsAndEncodes) {
  const auto dir = testing::fixture_dir() / "tiny_sentencepiece";
  const auto expected = testing::read_json(testing::fixture_dir() / "tokenizer_expected.json").at("tiny_sentencepiece");
  const auto corpus = testing::read_json(testing::fixture_dir() / "corpus.json").at("corpus");
  const auto tokenizer = load_tokenizer(dir);
  for (size_t i = 0; i < corpus.size(); ++i) {
    testing::expect_ids(tokenizer->encode(corpus[i].get<std::string>(), true), expected.at("cases")[i].at("ids_special"));
  }
}

}  // namespace
}  // namespace loom::text
