// Issue 14 findings: what `validate` used to pass and a run failed on later is now a job error with the file, line
// and key — method parameters against the method catalogue (misspelt, out of range, two budgets), presets of
// configs/acceleration, model rules from config.json (KIVI head_dim), benchmark options and custom benchmark keys
// and metrics, duplicate keys, NUL characters, path-like method names, and bounds on size, nesting, aliases, counts
// and lengths. Messages never start with an empty file name, and --set overrides are named as such.
#include "common/error.h"
#include "scheduler/job_parser.h"
#include "scheduler/yaml_limits.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

namespace fs = std::filesystem;
using namespace loom::scheduler;

namespace {

const fs::path kRepo = LOOM_SOURCE_DIR;

class JobValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("loom_job_validation_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    options_.configs_dir = kRepo / "configs";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A job on the repo's tiny-loom model (head_dim 32) with `tail` appended.
  std::string job(const std::string& tail, const std::string& model = "models/tiny-loom") const {
    return "model:\n  path: " + (kRepo / model).string() + "\nbenchmarks:\n  - name: NIAH\n" + tail;
  }
  JobConfig parse(const std::string& text) { return parse_job_text(text, dir_ / "job.yaml", options_); }
  loom::InputError parse_error(const std::string& text) {
    try {
      parse(text);
    } catch (const loom::InputError& e) {
      return e;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return loom::InputError("", 0, "", "");
  }
  static std::string what(const loom::InputError& e) { return e.what(); }

  fs::path dir_;
  ParseOptions options_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(JobValidationTest, MisspeltMethodParameterIsAnErrorWithASuggestion) {
  const auto e = parse_error(job("acceleration:\n  - name: snapkv\n    params: {compresion_ratio: 0.5}\n"));
  EXPECT_EQ(e.line(), 7);
  EXPECT_EQ(e.key(), "acceleration[0].params.compresion_ratio");
  EXPECT_TRUE(contains(what(e), "did you mean 'compression_ratio'?")) << what(e);
}

TEST_F(JobValidationTest, ParameterOutOfRange) {
  const auto e = parse_error(job("acceleration:\n  - name: snapkv\n    params:\n      compression_ratio: 1.5\n"));
  EXPECT_EQ(e.line(), 8);
  EXPECT_EQ(e.key(), "acceleration[0].params.compression_ratio");
  EXPECT_TRUE(contains(what(e), "a number in [0, 0.999999], got 1.5")) << what(e);
}

TEST_F(JobValidationTest, ConflictingBudgets) {
  const auto e = parse_error(
      job("acceleration:\n  - {name: h2o, params: {compression_ratio: 0.5, max_capacity_prompt: 1024}}\n"));
  EXPECT_EQ(e.key(), "acceleration[0].params.max_capacity_prompt");
  EXPECT_TRUE(contains(what(e), "not both")) << what(e);
}

TEST_F(JobValidationTest, MethodNamesArePlainNames) {
  const auto path = parse_error(job("acceleration: [../benchmarks/ruler]\n"));
  EXPECT_EQ(path.key(), "acceleration[0]");
  EXPECT_TRUE(contains(what(path), "a method name (letters, digits")) << what(path);
  const auto typo = parse_error(job("acceleration: [snapk]\n"));
  EXPECT_TRUE(contains(what(typo), "did you mean 'snapkv'?")) << what(typo);
}

TEST_F(JobValidationTest, PresetsExpandIntoTheirCatalogueMethod) {
  const JobConfig shipped = parse(job("acceleration:\n  - snapkv_loomscope\n"));
  ASSERT_EQ(shipped.methods.size(), 1u);
  EXPECT_EQ(shipped.methods[0].name, "snapkv");
  EXPECT_EQ(shipped.methods[0].label, "snapkv_loomscope");
  EXPECT_EQ(nlohmann::json::parse(shipped.methods[0].params_json)["window_size"], 32);
  // A job's params override the preset's and label the row.
  const JobConfig tuned = parse(job("acceleration:\n  - {name: snapkv_loomscope, params: {window_size: 16}}\n"));
  EXPECT_EQ(tuned.methods[0].label, "snapkv_loomscope@16");
  EXPECT_EQ(nlohmann::json::parse(tuned.methods[0].params_json)["window_size"], 16);
  EXPECT_EQ(nlohmann::json::parse(tuned.methods[0].params_json)["max_capacity_prompt"], 4096);
}

TEST_F(JobValidationTest, APresetInAnotherConfigsDirectory) {
  fs::copy(kRepo / "configs", dir_ / "configs", fs::copy_options::recursive);
  options_.configs_dir = dir_ / "configs";
  std::ofstream(dir_ / "configs" / "acceleration" / "my_kivi.yaml") << "name: my_kivi\nmethod: kivi\n"
                                                                        "params: {k_bits: 4, v_bits: 4}\n";
  const JobConfig ok = parse(job("acceleration: [my_kivi]\n"));
  EXPECT_EQ(ok.methods[0].name, "kivi");
  std::ofstream(dir_ / "configs" / "acceleration" / "bad.yaml") << "name: bad\nmethod: snapkv\n"
                                                                    "params:\n  windw_size: 3\n";
  const auto bad = parse_error(job("acceleration: [bad]\n"));
  EXPECT_EQ(bad.file(), (dir_ / "configs" / "acceleration" / "bad.yaml").string());
  EXPECT_EQ(bad.line(), 4);
  EXPECT_TRUE(contains(what(bad), "did you mean 'window_size'?")) << what(bad);
  std::ofstream(dir_ / "configs" / "acceleration" / "unknown_base.yaml") << "name: unknown_base\nmethod: snapkw\n";
  const auto base = parse_error(job("acceleration: [unknown_base]\n"));
  EXPECT_EQ(base.key(), "method");
  EXPECT_TRUE(contains(what(base), "did you mean 'snapkv'?")) << what(base);
}

TEST_F(JobValidationTest, KiviNeedsHeadDimAMultipleOfGroupSize) {
  // tests/fixtures/models/llama3_tiny has head_dim 16; KIVI's default group_size is 32.
  const auto e = parse_error(job("acceleration: [full, kivi]\n", "tests/fixtures/models/llama3_tiny"));
  EXPECT_EQ(e.key(), "acceleration[1].params.group_size");
  EXPECT_TRUE(contains(what(e), "head_dim 16")) << what(e);
  EXPECT_NO_THROW(parse(job("acceleration:\n  - {name: kivi, params: {group_size: 16, residual_length: 128}}\n",
                            "tests/fixtures/models/llama3_tiny")));
  EXPECT_NO_THROW(parse(job("acceleration: [kivi]\n")));  // tiny-loom: head_dim 32
}

TEST_F(JobValidationTest, BenchmarkOptionsAreDeclared) {
  const auto e = parse_error(job("    options: {needel: x}\n"));
  EXPECT_EQ(e.key(), "benchmarks[0].options.needel");
  EXPECT_EQ(e.line(), 5);
  EXPECT_TRUE(contains(what(e), "did you mean 'needle'?")) << what(e);
  EXPECT_NO_THROW(parse(job("    options: {needle: x}\n")));
  const auto name = parse_error(job("  - name: RULR\n"));
  EXPECT_EQ(name.key(), "benchmarks[1].name");
  EXPECT_TRUE(contains(what(name), "did you mean 'RULER'?")) << what(name);
}

TEST_F(JobValidationTest, CustomBenchmarkTaskKeysAndMetrics) {
  auto custom = [&](const std::string& task) {
    std::ofstream(dir_ / "custom.yaml") << "name: custom\nkind: jsonl\ncapability: General\ntasks:\n  qa:\n"
                                           "    metric: qa_f1\n    template: \"{context}\"\n" << task;
    return job("  - name: custom.yaml\n");
  };
  const auto token = parse_error(custom("    max_new_token: 8\n"));
  EXPECT_EQ(token.file(), (dir_ / "custom.yaml").string());
  EXPECT_EQ(token.key(), "tasks.qa.max_new_token");
  EXPECT_TRUE(contains(what(token), "did you mean 'max_new_tokens'?")) << what(token);
  const auto stop = parse_error(custom("    stopp: [\"\\n\"]\n"));
  EXPECT_TRUE(contains(what(stop), "did you mean 'stop'?")) << what(stop);
  std::ofstream(dir_ / "custom.yaml") << "name: custom\nkind: jsonl\ncapability: General\ntasks:\n  qa:\n"
                                         "    metric: qa_f11\n";
  const auto metric = parse_error(job("  - name: custom.yaml\n"));
  EXPECT_EQ(metric.key(), "tasks.qa.metric");
  EXPECT_EQ(metric.line(), 6);
  EXPECT_TRUE(contains(what(metric), "did you mean 'qa_f1'?")) << what(metric);
}

TEST_F(JobValidationTest, DuplicateKeysAndNul) {
  const auto twice = parse_error(job("acceleration: [full]\nresume: true\nresume: false\n"));
  EXPECT_EQ(twice.key(), "resume");
  EXPECT_EQ(twice.line(), 7);
  EXPECT_TRUE(contains(what(twice), "already given on line 6")) << what(twice);
  const auto nested = parse_error(job("model:\n  device: cpu\n"));
  EXPECT_EQ(nested.key(), "model");
  const auto nul = parse_error(job("acceleration:\n  - {name: full, label: \"a\\0b\"}\n"));
  EXPECT_EQ(nul.key(), "acceleration[0].label");
  EXPECT_TRUE(contains(what(nul), "NUL")) << what(nul);
}

TEST_F(JobValidationTest, HostileSizesAreBounded) {
  // an alias bomb: nine levels of nine aliases expand to 9^9 nodes
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 9; ++level) {
    const std::string previous = "*a" + std::to_string(level - 1);
    bomb += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ", " : "") + previous;
    bomb += "]\n";
  }
  EXPECT_TRUE(contains(what(parse_error(bomb)), "aliases expanded"));
  std::string deep = "x: ";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  EXPECT_TRUE(contains(what(parse_error(deep + "\n")), "nesting at most"));
  EXPECT_TRUE(contains(what(parse_error(std::string(kMaxJobBytes + 1, '#'))), "at most 1048576 bytes"));
  std::string tasks = "    tasks: [";
  for (int i = 0; i < 1001; ++i) tasks += (i ? ", t" : "t") + std::to_string(i);
  const auto many = parse_error(job(tasks + "]\n"));
  EXPECT_EQ(many.key(), "benchmarks[0].tasks");
  EXPECT_TRUE(contains(what(many), "at most 1000 entries, got 1001")) << what(many);
  const auto huge = parse_error(job("    lengths: [99999999999999M]\n"));
  EXPECT_EQ(huge.key(), "benchmarks[0].lengths");
  EXPECT_TRUE(contains(what(huge), "at most 2147483647 tokens")) << what(huge);
  EXPECT_THROW(parse_length("9999999999999999999999"), std::out_of_range);
  EXPECT_THROW(parse_length("2048M"), std::out_of_range);
  EXPECT_EQ(parse_length("2047M"), 2047LL * 1024 * 1024);
}

TEST_F(JobValidationTest, MessagesAreInWords) {
  const std::string model = (kRepo / "models" / "tiny-loom").string();
  const auto big =
      parse_error("model: {path: " + model + ", max_batch_size: 99999999999}\nbenchmarks: [{name: NIAH}]\n");
  EXPECT_EQ(big.key(), "model.max_batch_size");
  EXPECT_TRUE(contains(what(big), "an integer from -2147483648 to 2147483647")) << what(big);
  const auto seed = parse_error(job("    seed: -1\n"));
  EXPECT_EQ(seed.key(), "benchmarks[0].seed");
  EXPECT_FALSE(contains(what(seed), "bad conversion")) << what(seed);
  try {
    parse_job_text("benchmarks: [{name: NIAH}]\n", "", options_);
    ADD_FAILURE();
  } catch (const loom::InputError& e) {
    EXPECT_EQ(what(e).rfind("<job text>:1: key 'model'", 0), 0u) << what(e);
  }
  EXPECT_EQ(std::string(loom::InputError("", 0, "job", "a job file").what()), "key 'job': a job file");
  options_.overrides.settings = {"model.max_batch_size=lots"};
  const auto set = parse_error(job(""));
  EXPECT_EQ(set.file(), "--set model.max_batch_size=lots");
  EXPECT_EQ(set.key(), "model.max_batch_size");
}

TEST_F(JobValidationTest, ShippedMethodsSweepValidatesOnItsModelAndIsRefusedOnAnIncompatibleOne) {
  EXPECT_NO_THROW(parse_job_file(kRepo / "jobs" / "methods-sweep.yaml", options_));
  options_.overrides.model_path = kRepo / "tests" / "fixtures" / "models" / "llama3_tiny";
  try {
    parse_job_file(kRepo / "jobs" / "methods-sweep.yaml", options_);
    ADD_FAILURE() << "KIVI on head_dim 16 passed";
  } catch (const loom::InputError& e) {
    EXPECT_TRUE(contains(e.key(), "params.group_size")) << e.what();
  }
}

}  // namespace
