// Job file validation: each error class names the file, the line and the key; defaults come from the key table;
// every key of the table is documented in docs/job-file.md.
#include "common/error.h"
#include "scheduler/job_parser.h"
#include "scheduler/job_schema.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace loom::scheduler;

namespace {

class JobParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("loom_job_parser_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "model");
    std::ofstream(dir_ / "model" / "config.json") << "{}";
    fs::create_directories(dir_ / "data");
    fs::create_directories(dir_ / "configs" / "acceleration");
    std::ofstream(dir_ / "configs" / "acceleration" / "snapkv.yaml") << "name: snapkv\n";
    options_.configs_dir = dir_ / "configs";
  }
  void TearDown() override { fs::remove_all(dir_); }

  JobConfig parse(const std::string& text) { return parse_job_text(text, dir_ / "job.yaml", options_); }

  // Parses text expecting an InputError; returns it.
  loom::InputError parse_error(const std::string& text) {
    try {
      parse(text);
    } catch (const loom::InputError& e) {
      return e;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return loom::InputError("", 0, "", "");
  }

  fs::path dir_;
  ParseOptions options_;
};

const char* kMinimal =
    "model:\n"
    "  path: model\n"
    "benchmarks:\n"
    "  - name: NIAH\n";

TEST_F(JobParserTest, MinimalJobGetsDefaultsFromTheKeyTable) {
  const JobConfig job = parse(kMinimal);
  EXPECT_EQ(job.name, "job");
  EXPECT_EQ(job.model.path, (dir_ / "model").lexically_normal());
  EXPECT_EQ(job.model.dtype, "auto");
  EXPECT_EQ(job.model.max_batch_size, 64);
  EXPECT_EQ(job.model.kv_cache_memory, 0.0);
  EXPECT_EQ(job.model.kv_page_size, 64);
  EXPECT_TRUE(job.model.cuda_graphs);
  EXPECT_EQ(job.model.prefill_attention, "auto");
  EXPECT_EQ(job.tensor_parallel, 1);
  ASSERT_EQ(job.benchmarks.size(), 1u);
  EXPECT_EQ(job.benchmarks[0].num_samples, -1);
  EXPECT_EQ(job.benchmarks[0].seed, 42u);
  EXPECT_EQ(job.benchmarks[0].source_line, 4);
  ASSERT_EQ(job.methods.size(), 1u);
  EXPECT_EQ(job.methods[0].name, "full");
  EXPECT_EQ(job.methods[0].label, "full");
  EXPECT_EQ(job.output_path, fs::path("results/job-model.h5"));  // the model's name is in the default
  EXPECT_DOUBLE_EQ(job.progress_interval_s, 10);
  EXPECT_TRUE(job.resume);
  EXPECT_EQ(job.max_attempts, 3);
  EXPECT_FALSE(job.generation.max_new_tokens.has_value());
}

TEST_F(JobParserTest, FullJob) {
  const JobConfig job = parse(
      "name: sweep\n"
      "model: {path: model, dtype: float32, device: cpu, max_context: 16384, chat_template: llama3, max_batch_size: 4}\n"
      "parallel: {tensor_parallel: 2, cost_profile: h100}\n"
      "benchmarks:\n"
      "  - name: RULER\n"
      "    tasks: [niah_single_1, vt]\n"
      "    lengths: [4K, 8192, 16k]\n"
      "    num_samples: 5\n"
      "    data_dir: data\n"
      "    seed: 7\n"
      "    options: {tokens_to_generate: 16, mode: \"fast\"}\n"
      "  - name: LongBench\n"
      "    tasks: qasper\n"
      "acceleration:\n"
      "  - full\n"
      "  - name: snapkv\n"
      "    params: {compression_ratio: 0.5, window_size: 32}\n"
      "generation: {max_new_tokens: 64, temperature: 0.5, stop_strings: \"\\n\"}\n"
      "output: {path: out/x.h5, progress_interval_s: 2.5}\n"
      "resume: false\n"
      "logging: {level: debug, first_rank_only: true}\n");
  EXPECT_EQ(job.name, "sweep");
  EXPECT_EQ(job.model.max_context, 16384);
  EXPECT_EQ(job.model.max_batch_size, 4);
  EXPECT_EQ(job.tensor_parallel, 2);
  EXPECT_EQ(job.cost_profile, "h100");
  EXPECT_EQ(job.benchmarks[0].lengths, (std::vector<int64_t>{4096, 8192, 16384}));
  EXPECT_EQ(job.benchmarks[0].tasks, (std::vector<std::string>{"niah_single_1", "vt"}));
  EXPECT_EQ(job.benchmarks[0].options["tokens_to_generate"], 16);
  EXPECT_EQ(job.benchmarks[0].options["mode"], "fast");
  EXPECT_EQ(job.benchmarks[1].tasks, (std::vector<std::string>{"qasper"}));
  ASSERT_EQ(job.methods.size(), 2u);
  EXPECT_EQ(job.methods[1].label, "snapkv@0.5,32");
  EXPECT_EQ(nlohmann::json::parse(job.methods[1].params_json)["compression_ratio"], 0.5);
  loom::GenerationSettings official;
  official.max_new_tokens = 128;
  official.top_k = 5;
  const auto applied = job.generation.apply(official);
  EXPECT_EQ(applied.max_new_tokens, 64);
  EXPECT_FLOAT_EQ(applied.temperature, 0.5f);
  EXPECT_EQ(applied.top_k, 5);  // not overridden
  EXPECT_EQ(applied.stop_strings, (std::vector<std::string>{"\n"}));
  EXPECT_DOUBLE_EQ(job.progress_interval_s, 2.5);
  EXPECT_FALSE(job.resume);
  EXPECT_EQ(job.log_level, "debug");
}

TEST_F(JobParserTest, UnknownKeyNamesFileLineKeyAndTheKnownKeys) {
  const auto e = parse_error("model:\n  path: model\n  dtpye: float32\nbenchmarks:\n  - name: NIAH\n");
  EXPECT_EQ(e.file(), (dir_ / "job.yaml").string());
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.key(), "model.dtpye");
  EXPECT_NE(std::string(e.what()).find("expected one of: path, dtype"), std::string::npos) << e.what();
  const auto in_list = parse_error(std::string(kMinimal) + "    num_sample: 3\n");
  EXPECT_EQ(in_list.key(), "benchmarks[0].num_sample");
  EXPECT_EQ(in_list.line(), 5);
  const auto top = parse_error(std::string(kMinimal) + "resum: true\n");
  EXPECT_EQ(top.key(), "resum");
}

TEST_F(JobParserTest, WrongTypeNamesWhatWasExpected) {
  const auto e = parse_error("model:\n  path: model\n  max_batch_size: four\nbenchmarks:\n  - name: NIAH\n");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.key(), "model.max_batch_size");
  EXPECT_NE(std::string(e.what()).find("expected an integer, got 'four'"), std::string::npos) << e.what();
  const auto lengths = parse_error(std::string(kMinimal) + "    lengths: [4K, lots]\n");
  EXPECT_EQ(lengths.key(), "benchmarks[0].lengths");
  EXPECT_EQ(lengths.line(), 5);
  const auto section = parse_error(std::string(kMinimal) + "output: results.h5\n");
  EXPECT_EQ(section.key(), "output");
  EXPECT_NE(std::string(section.what()).find("expected a mapping"), std::string::npos);
  const auto flag = parse_error(std::string(kMinimal) + "resume: maybe\n");
  EXPECT_EQ(flag.key(), "resume");
  EXPECT_EQ(flag.line(), 5);
  const auto choice = parse_error("model: {path: model, device: gpu}\nbenchmarks: [{name: NIAH}]\n");
  EXPECT_EQ(choice.key(), "model.device");
  EXPECT_NE(std::string(choice.what()).find("auto|cpu|cuda"), std::string::npos);
  const auto range = parse_error(std::string(kMinimal) + "parallel: {tensor_parallel: 0}\n");
  EXPECT_EQ(range.key(), "parallel.tensor_parallel");
}

TEST_F(JobParserTest, MissingRequiredKeyAndMissingFiles) {
  const auto no_model = parse_error("benchmarks:\n  - name: NIAH\n");
  EXPECT_EQ(no_model.key(), "model");
  const auto no_name = parse_error("model: {path: model}\nbenchmarks:\n  - tasks: [a]\n");
  EXPECT_EQ(no_name.key(), "benchmarks[0].name");
  EXPECT_EQ(no_name.line(), 3);
  const auto no_dir = parse_error("model:\n  path: nowhere\nbenchmarks: [{name: NIAH}]\n");
  EXPECT_EQ(no_dir.key(), "model.path");
  EXPECT_EQ(no_dir.line(), 2);
  EXPECT_NE(std::string(no_dir.what()).find("does not exist"), std::string::npos);
  const auto no_data = parse_error(std::string(kMinimal) + "    data_dir: missing_data\n");
  EXPECT_EQ(no_data.key(), "benchmarks[0].data_dir");
  EXPECT_EQ(no_data.line(), 5);
  try {
    parse_job_file(dir_ / "absent.yaml", options_);
    ADD_FAILURE() << "no error for a missing job file";
  } catch (const loom::InputError& e) {
    EXPECT_EQ(e.file(), (dir_ / "absent.yaml").string());
  }
}

TEST_F(JobParserTest, SyntaxErrorAndMethodErrors) {
  const auto syntax = parse_error("model:\n  path: [unclosed\n");
  EXPECT_GT(syntax.line(), 0);
  EXPECT_NE(std::string(syntax.what()).find("valid YAML"), std::string::npos);
  const auto unknown = parse_error(std::string(kMinimal) + "acceleration: [full, h2oo]\n");
  EXPECT_EQ(unknown.key(), "acceleration[1]");
  EXPECT_NE(std::string(unknown.what()).find("snapkv"), std::string::npos) << unknown.what();
  const auto twice = parse_error(std::string(kMinimal) + "acceleration: [snapkv, snapkv]\n");
  EXPECT_NE(std::string(twice.what()).find("unique method label"), std::string::npos);
  const JobConfig labelled = parse(std::string(kMinimal) + "acceleration: {name: snapkv, label: mine}\n");
  EXPECT_EQ(labelled.methods.at(0).label, "mine");
}

// query_aware: the job's value for every method, a method's own overriding it; question-agnostic methods get
// "+agnostic" in their default label, so both modes of one method fit in a sweep; the API backend refuses it.
TEST_F(JobParserTest, QueryAwarePerJobAndPerMethod) {
  const JobConfig plain = parse(std::string(kMinimal) + "acceleration: [full, snapkv]\n");
  EXPECT_TRUE(plain.methods.at(0).query_aware);
  EXPECT_EQ(plain.methods.at(1).label, "snapkv");
  const JobConfig job = parse(std::string(kMinimal) +
                              "query_aware: false\n"
                              "acceleration:\n"
                              "  - {name: snapkv, params: {compression_ratio: 0.5}}\n"
                              "  - {name: snapkv, params: {compression_ratio: 0.5}, query_aware: true}\n"
                              "  - {name: knorm, label: mine}\n");
  ASSERT_EQ(job.methods.size(), 3u);
  EXPECT_FALSE(job.methods[0].query_aware);
  EXPECT_EQ(job.methods[0].label, "snapkv@0.5+agnostic");
  EXPECT_TRUE(job.methods[1].query_aware);
  EXPECT_EQ(job.methods[1].label, "snapkv@0.5");
  EXPECT_FALSE(job.methods[2].query_aware);
  EXPECT_EQ(job.methods[2].label, "mine");
  const JobConfig one = parse(std::string(kMinimal) + "acceleration: {name: knorm, query_aware: false}\n");
  EXPECT_FALSE(one.methods.at(0).query_aware);
  EXPECT_EQ(one.methods.at(0).label, "knorm+agnostic");
  const JobConfig defaulted = parse(std::string(kMinimal) + "query_aware: false\n");
  EXPECT_EQ(defaulted.methods.at(0).label, "full+agnostic");
  const auto wrong = parse_error(std::string(kMinimal) + "acceleration: {name: knorm, query_aware: maybe}\n");
  EXPECT_EQ(wrong.key(), "acceleration.query_aware");
  const auto top = parse_error(std::string(kMinimal) + "query_aware: 3\n");
  EXPECT_EQ(top.key(), "query_aware");
}

TEST(JobSchema, EveryKeyIsDocumentedInJobFileMd) {
  std::ifstream in(fs::path(LOOM_SOURCE_DIR) / "docs" / "job-file.md");
  ASSERT_TRUE(in) << "docs/job-file.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  for (const KeySpec& spec : job_schema()) {
    EXPECT_NE(text.str().find("`" + spec.key + "`"), std::string::npos) << spec.key << " is not documented";
  }
}

TEST(JobSchema, LengthUnits) {
  EXPECT_EQ(parse_length("4096"), 4096);
  EXPECT_EQ(parse_length("4K"), 4096);
  EXPECT_EQ(parse_length("128k"), 131072);
  EXPECT_EQ(parse_length("1M"), 1048576);
  EXPECT_THROW(parse_length("4KB"), std::invalid_argument);
  EXPECT_THROW(parse_length("-1"), std::invalid_argument);
}

}  // namespace
