// rag.method contriever (docs/rag.md): the WordPiece tokenizer against `tokenizers`, the BERT encoder's mean-pooled
// embeddings against transformers' BertModel (fp32, within 1e-4), and the chunks retrieved against the Python
// reference of LOOM-Scope's contriever retriever, on the tiny random BERT of tests/fixtures/rag/tiny-bert
// (tests/fixtures/rag/contriever.json, tools/fixtures/make_contriever_fixtures.py). Also the encoder's errors
// (config.json keys, missing tensors) and the job keys of method contriever.
#include "common/error.h"
#include "rag/bert_embedder.h"
#include "rag/bert_encoder.h"
#include "rag/retriever.h"
#include "scheduler/job_parser.h"
#include "support/job_text_test.h"
#include "text/tokenizer.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace fs = std::filesystem;

namespace {

const fs::path kRepo = LOOM_SOURCE_DIR;
const fs::path kModel = kRepo / "tests/fixtures/rag/tiny-bert";

const nlohmann::json& fixture() {
  static const nlohmann::json json = [] {
    std::ifstream in(kRepo / "tests/fixtures/rag/contriever.json");
    return nlohmann::json::parse(in);
  }();
  return json;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

double max_abs_difference(const std::vector<double>& got, const std::vector<double>& want) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0;
  for (size_t i = 0; i < got.size() && i < want.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  return worst;
}

TEST(WordPiece, IdsEqualTokenizers) {
  const auto tokenizer = loom::text::load_tokenizer(kModel);
  for (const auto& c : fixture()["tokenizer"]) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(tokenizer->encode(text, true), c["ids"].get<std::vector<int32_t>>()) << text;
  }
  const auto [prefix, suffix] = tokenizer->special_frame();
  EXPECT_EQ(prefix, std::vector<int32_t>{2});  // [CLS]
  EXPECT_EQ(suffix, std::vector<int32_t>{3});  // [SEP]
}

TEST(WordPiece, DecodeJoinsPiecesAndDropsSpecials) {
  const auto tokenizer = loom::text::load_tokenizer(kModel);
  const std::vector<int32_t> ids = tokenizer->encode("The special magic number, for Paris!", true);
  EXPECT_EQ(tokenizer->decode(ids, true), "the special magic number, for paris!");
  EXPECT_EQ(tokenizer->decode(tokenizer->encode("rivers", false), true), "rivers");  // "river" + "##s"
}

TEST(BertEncoder, MeanPooledEqualsTransformers) {
  loom::rag::BertEmbedder embedder(kModel, "cpu");
  std::vector<std::string> texts;
  for (const auto& c : fixture()["embeddings"]) texts.push_back(c["text"].get<std::string>());
  const auto vectors = embedder.embed(texts);
  double worst = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto& c = fixture()["embeddings"][i];
    EXPECT_EQ(embedder.token_ids(texts[i]), c["ids"].get<std::vector<int32_t>>()) << texts[i];
    worst = std::max(worst, max_abs_difference(vectors[i], c["mean"].get<std::vector<double>>()));
  }
  EXPECT_LT(worst, 1e-4);
  std::printf("contriever tiny-bert: worst |ours - transformers| over %zu mean-pooled embeddings = %.3g\n",
              texts.size(), worst);
}

TEST(BertEncoder, PaddedBatchEqualsTransformersMaskedMean) {
  const loom::rag::BertEncoder encoder(kModel, at::Device("cpu"));
  loom::rag::BertEmbedder embedder(kModel, "cpu");
  std::vector<std::vector<int32_t>> sequences;
  for (const auto& c : fixture()["embeddings"]) sequences.push_back(embedder.token_ids(c["text"].get<std::string>()));
  const auto vectors =
      encoder.pooled(sequences, loom::rag::BertEncoder::Pooling::kMean, static_cast<int>(sequences.size()));
  for (size_t i = 0; i < sequences.size(); ++i)
    EXPECT_LT(max_abs_difference(vectors[i], fixture()["batched"][i].get<std::vector<double>>()), 1e-4) << i;
}

TEST(BertEncoder, TruncatesTo512TokensKeepingTheSpecialTokens) {
  loom::rag::BertEmbedder embedder(kModel, "cpu");
  std::string text;
  for (int i = 0; i < 700; ++i) text += "paris ";
  const std::vector<int32_t> ids = embedder.token_ids(text);
  ASSERT_EQ(ids.size(), 512u);
  EXPECT_EQ(ids.front(), 2);
  EXPECT_EQ(ids.back(), 3);
  EXPECT_EQ(embedder.embed({text}).size(), 1u);
}

TEST(ContrieverRetrieval, ChunkIdsEqualTheReference) {
  loom::rag::install_bert_embedder();
  for (const auto& c : fixture()["retrieval"]) {
    loom::rag::RagConfig config;
    config.method = "contriever";
    config.model = kModel.string();
    config.chunk_size = c["chunk_size"].get<int>();
    config.num_chunks = c["num_chunks"].get<int>();
    loom::rag::Retriever retriever(config);
    const loom::rag::Retrieved got =
        retriever.retrieve(c["context"].get<std::string>(), c["question"].get<std::string>());
    EXPECT_EQ(got.total_chunks, c["chunks"].size());
    std::vector<size_t> want = c["chunk_ids"].get<std::vector<size_t>>();
    EXPECT_EQ(got.chunk_ids, want) << c["question"];
    std::string joined;
    for (size_t id : want) joined += (joined.empty() ? "" : " ") + c["chunks"][id].get<std::string>();
    EXPECT_EQ(got.context, joined);
  }
}

TEST(ContrieverRetrieval, EndToEndRecordsKeepTheReferenceChunks) {
  loom::rag::install_bert_embedder();
  const nlohmann::json& e2e = fixture()["rag_e2e"];
  loom::rag::RagConfig config;
  config.method = "contriever";
  config.model = kModel.string();
  config.chunk_size = e2e["chunk_size"].get<int>();
  config.num_chunks = e2e["num_chunks"].get<int>();
  loom::rag::Retriever retriever(config);
  std::ifstream in(kRepo / "tests/fixtures/benchmarks/rag/hotpotqa.jsonl");
  std::string line;
  int records = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json record = nlohmann::json::parse(line);
    const nlohmann::json& want = e2e["rows"][record["_id"].get<std::string>()];
    const auto got = retriever.retrieve(record["context"].get<std::string>(), record["input"].get<std::string>());
    EXPECT_EQ(got.total_chunks, want["total_chunks"].get<size_t>());
    ASSERT_EQ(got.chunk_ids.size(), want["chunk_ids"].size());
    for (size_t k = 0; k < got.chunk_ids.size(); ++k) {
      const auto same = want["same_text"][k].get<std::vector<size_t>>();
      EXPECT_NE(std::find(same.begin(), same.end(), got.chunk_ids[k]), same.end()) << record["_id"] << " #" << k;
    }
    ++records;
  }
  EXPECT_EQ(records, 4);
}

// method llamaindex: LlamaIndex's SentenceSplitter chunks (tokens of the tiny BERT's tokenizer, as the fixture
// passes them to SimpleNodeParser) and the nodes VectorStoreIndex retrieves with the tiny BERT's [CLS] embeddings
// (tests/fixtures/rag/llamaindex.json, tools/fixtures/make_llamaindex_fixtures.py).
TEST(LlamaIndexRetrieval, ChunksAndChunkIdsEqualLlamaIndex) {
  loom::rag::install_bert_embedder();
  std::ifstream in(kRepo / "tests/fixtures/rag/llamaindex.json");
  const nlohmann::json reference = nlohmann::json::parse(in)["retrieval"];
  loom::rag::RagConfig config;
  config.method = "llamaindex";
  config.model = kModel.string();
  config.chunk_size = reference["chunk_size"].get<int>();
  config.overlap = reference["chunk_overlap"].get<int>();
  config.num_chunks = reference["num_chunks"].get<int>();
  EXPECT_EQ(config.query_instruction, reference["query_instruction"].get<std::string>());
  loom::rag::Retriever retriever(config);
  std::ifstream records(kRepo / "tests/fixtures/benchmarks/rag/hotpotqa.jsonl");
  std::string line;
  int rows = 0;
  while (std::getline(records, line)) {
    if (line.empty()) continue;
    const nlohmann::json record = nlohmann::json::parse(line);
    const nlohmann::json& want = reference["rows"][record["_id"].get<std::string>()];
    EXPECT_EQ(retriever.chunks(record["context"].get<std::string>()),
              want["chunks"].get<std::vector<std::string>>());
    const auto got = retriever.retrieve(record["context"].get<std::string>(), record["input"].get<std::string>());
    EXPECT_EQ(got.chunk_ids, want["chunk_ids"].get<std::vector<size_t>>()) << record["_id"];
    std::string joined;
    for (const auto& text : want["retrieved"]) joined += (joined.empty() ? "" : " ") + text.get<std::string>();
    EXPECT_EQ(got.context, joined);
    ++rows;
  }
  EXPECT_EQ(rows, 4);
}

TEST(BertEncoder, ClsPoolingIsTheFirstTokensState) {
  const loom::rag::BertEncoder encoder(kModel, at::Device("cpu"));
  loom::rag::BertEmbedder embedder(kModel, "cpu");
  const std::vector<int32_t> ids = embedder.token_ids("The special magic number for Paris is 1000.");
  const auto cls = encoder.pooled({ids}, loom::rag::BertEncoder::Pooling::kCls, 1)[0];
  c10::InferenceMode guard;
  const at::Tensor hidden = encoder.forward(at::tensor(std::vector<int64_t>(ids.begin(), ids.end())).view({1, -1}),
                                            at::ones({1, static_cast<int64_t>(ids.size())}, at::kLong));
  for (size_t j = 0; j < cls.size(); ++j)
    EXPECT_NEAR(cls[j], hidden[0][0][static_cast<int64_t>(j)].item<double>(), 1e-6);
}

TEST(ContrieverRetrieval, WithoutAnInstalledEncoderTheReasonIsGiven) {
  loom::rag::set_local_embedder_factory({});
  loom::rag::RagConfig config;
  config.method = "contriever";
  config.model = kModel.string();
  try {
    loom::rag::Retriever retriever(config);
    FAIL() << "expected an error";
  } catch (const loom::Error& e) {
    EXPECT_TRUE(contains(e.what(), "local encoder")) << e.what();
  }
  loom::rag::install_bert_embedder();
}

class EncoderErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(LOOM_BINARY_DIR) / "contriever_test_model";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const char* file : {"config.json", "model.safetensors", "tokenizer.json"})
      fs::copy_file(kModel / file, dir_ / file);
    std::ifstream in(kModel / "config.json");
    config_ = nlohmann::json::parse(in);
  }
  void write_config(const nlohmann::json& config) const { std::ofstream(dir_ / "config.json") << config.dump(); }
  loom::InputError load_error() const {
    try {
      loom::rag::BertEncoder encoder(dir_, at::Device("cpu"));
    } catch (const loom::InputError& e) {
      return e;
    }
    ADD_FAILURE() << "expected an InputError";
    return loom::InputError("", 0, "", "");
  }
  fs::path dir_;
  nlohmann::json config_;
};

TEST_F(EncoderErrors, ConfigKeysAreNamed) {
  nlohmann::json config = config_;
  config.erase("hidden_size");
  write_config(config);
  loom::InputError e = load_error();
  EXPECT_EQ(e.key(), "hidden_size");
  EXPECT_TRUE(contains(e.file(), "config.json")) << e.what();
  config = config_;
  config["model_type"] = "llama";
  write_config(config);
  e = load_error();
  EXPECT_EQ(e.key(), "model_type");
  EXPECT_TRUE(contains(e.what(), "bert")) << e.what();
  config = config_;
  config["hidden_act"] = "swish";
  write_config(config);
  EXPECT_EQ(load_error().key(), "hidden_act");
  config = config_;
  config["num_attention_heads"] = 5;
  write_config(config);
  EXPECT_EQ(load_error().key(), "num_attention_heads");
}

TEST_F(EncoderErrors, AShapeOrATensorThatDoesNotMatchIsNamed) {
  nlohmann::json config = config_;
  config["intermediate_size"] = 128;
  write_config(config);
  loom::InputError e = load_error();
  EXPECT_TRUE(contains(e.what(), "encoder.layer.0.intermediate.dense.weight")) << e.what();
  EXPECT_TRUE(contains(e.what(), "model.safetensors")) << e.what();
  config = config_;
  config["num_hidden_layers"] = 3;
  write_config(config);
  e = load_error();
  EXPECT_TRUE(contains(e.what(), "encoder.layer.2.")) << e.what();
}

class ContrieverJobKeys : public loom::test_support::JobTextTest {
 protected:
  ContrieverJobKeys() : JobTextTest(kRepo / "tests/rag/job.yaml") {}
  std::string job(const std::string& rag) const {
    return "model:\n  path: " + (kRepo / "models/tiny-loom").string() + "\n" +
           "benchmarks:\n  - name: LongBench\n    tasks: [hotpotqa]\n" + rag;
  }
};

TEST_F(ContrieverJobKeys, ModelIsADirectoryRelativeToTheJobFile) {
  const auto config =
      parse(job("rag:\n  method: contriever\n  model: ../fixtures/rag/tiny-bert\n  device: cpu\n")).rag;
  EXPECT_EQ(config.method, "contriever");
  EXPECT_EQ(fs::path(config.model), (kRepo / "tests/fixtures/rag/tiny-bert").lexically_normal());
  EXPECT_EQ(config.device, "cpu");
  loom::InputError e = parse_error(job("rag:\n  method: contriever\n"));
  EXPECT_EQ(e.key(), "rag.model");
  e = parse_error(job("rag:\n  method: contriever\n  model: ../fixtures/rag/tiny-bert\n  device: tpu\n"));
  EXPECT_EQ(e.key(), "rag.device");
  e = parse_error(job("rag:\n  method: contriever\n  model: ../fixtures/rag/tiny-bert\n  device: cuda:x\n"));
  EXPECT_EQ(e.key(), "rag.device");
  EXPECT_EQ(parse(job("rag:\n  method: contriever\n  model: ../fixtures/rag/tiny-bert\n  device: cuda:1\n"))
                .rag.device,
            "cuda:1");
  e = parse_error(job("rag:\n  method: contriever\n  model: ../fixtures/rag/tiny-bert\n  base_url: http://h/v1\n"));
  EXPECT_EQ(e.key(), "rag.base_url");
  e = parse_error(job("rag:\n  method: bm25\n  device: cpu\n"));
  EXPECT_EQ(e.key(), "rag.device");
  e = parse_error(job("rag:\n  method: bm25\n  model: x\n"));
  EXPECT_EQ(e.key(), "rag.model");
  e = parse_error(job("rag:\n  method: contriever\n  model: ../fixtures/rag/tiny-bert\n  query_instruction: q\n"));
  EXPECT_EQ(e.key(), "rag.query_instruction");
}

TEST_F(ContrieverJobKeys, LlamaIndexReadsItsKeys) {
  auto config = parse(job("rag:\n  method: llamaindex\n  model: ../fixtures/rag/tiny-bert\n  overlap: 128\n")).rag;
  EXPECT_EQ(config.method, "llamaindex");
  EXPECT_EQ(config.overlap, 128);
  EXPECT_EQ(config.query_instruction, "Represent this question for searching relevant passages: ");
  EXPECT_TRUE(config.chunk_tokenizer.empty());
  config = parse(job("rag:\n  method: llamaindex\n  model: ../fixtures/rag/tiny-bert\n  query_instruction: ''\n"
                     "  chunk_tokenizer: ../../models/tiny-loom\n")).rag;
  EXPECT_EQ(config.query_instruction, "");
  EXPECT_EQ(fs::path(config.chunk_tokenizer), (kRepo / "models/tiny-loom").lexically_normal());
  loom::InputError e = parse_error(job("rag:\n  method: llamaindex\n"));
  EXPECT_EQ(e.key(), "rag.model");
  EXPECT_TRUE(contains(e.what(), "bge")) << e.what();
  // With base_url the embeddings come from the endpoint: model is the served name, chunk_tokenizer is required.
  config = parse(job("rag:\n  method: llamaindex\n  base_url: http://127.0.0.1:8000/v1\n  model: bge-small\n"
                     "  chunk_tokenizer: ../fixtures/rag/tiny-bert\n  batch_size: 8\n")).rag;
  EXPECT_EQ(config.base_url, "http://127.0.0.1:8000/v1");
  EXPECT_EQ(config.model, "bge-small");
  EXPECT_EQ(config.batch_size, 8);
  EXPECT_EQ(fs::path(config.chunk_tokenizer), (kRepo / "tests/fixtures/rag/tiny-bert").lexically_normal());
  e = parse_error(job("rag:\n  method: llamaindex\n  base_url: http://127.0.0.1:8000/v1\n"));
  EXPECT_EQ(e.key(), "rag.chunk_tokenizer");
  e = parse_error(job("rag:\n  method: llamaindex\n  base_url: http://127.0.0.1:8000/v1\n"
                      "  chunk_tokenizer: ../fixtures/rag/tiny-bert\n  device: cpu\n"));
  EXPECT_EQ(e.key(), "rag.device");
  e = parse_error(
      job("rag:\n  method: llamaindex\n  base_url: 127.0.0.1\n  chunk_tokenizer: ../fixtures/rag/tiny-bert\n"));
  EXPECT_EQ(e.key(), "rag.base_url");
}

}  // namespace
