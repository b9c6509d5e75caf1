// Command-line overrides of a job (JobOverrides: --model, --limit, --data-root, --set), BABILong's 0k length and the
// `shuffle` key: applied before validation, so a bad override is an InputError like a bad key.
#include "common/error.h"
#include "scheduler/job_parser.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

namespace fs = std::filesystem;
using namespace loom::scheduler;

namespace {

class JobOverridesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("loom_job_overrides_" + std::to_string(::getpid()));
    for (const char* sub : {"model", "other_model", "data/LongBench", "elsewhere/LongBench"}) fs::create_directories(dir_ / sub);
    std::ofstream(dir_ / "model" / "config.json") << "{}";
    std::ofstream(dir_ / "other_model" / "config.json") << "{}";
    fs::create_directories(dir_ / "configs" / "acceleration");
  }
  void TearDown() override { fs::remove_all(dir_); }

  JobConfig parse(const std::string& text, const JobOverrides& overrides) {
    ParseOptions options;
    options.configs_dir = dir_ / "configs";
    options.overrides = overrides;
    return parse_job_text(text, dir_ / "job.yaml", options);
  }

  fs::path dir_;
};

const char* kJob =
    "model:\n"
    "  path: model\n"
    "  device: cuda\n"
    "benchmarks:\n"
    "  - name: LongBench\n"
    "    num_samples: 4\n"
    "    shuffle: true\n"
    "    data_dir: data/LongBench\n"
    "  - name: babilong\n"
    "    lengths: [0k, 4k]\n";

TEST_F(JobOverridesTest, WithoutOverridesTheJobIsAsWritten) {
  const JobConfig job = parse(kJob, {});
  EXPECT_EQ(job.model.path, (dir_ / "model").lexically_normal());
  EXPECT_EQ(job.model.device, "cuda");
  EXPECT_TRUE(job.benchmarks[0].shuffle);
  EXPECT_FALSE(job.benchmarks[1].shuffle);
  EXPECT_EQ(job.benchmarks[0].limit, -1);
  EXPECT_EQ(job.benchmarks[1].lengths, (std::vector<int64_t>{0, 4096}));  // BABILong's 0k split is a length
}

TEST_F(JobOverridesTest, ModelLimitDataRootAndSettings) {
  JobOverrides o;
  o.model_path = dir_ / "other_model";
  o.limit = 2;
  o.data_root = dir_ / "elsewhere";
  o.settings = {"model.device=cpu", "model.max_context=4096", "generation.max_new_tokens=8"};
  const JobConfig job = parse(kJob, o);
  EXPECT_EQ(job.model.path, (dir_ / "other_model").lexically_normal());
  EXPECT_EQ(job.model.device, "cpu");
  EXPECT_EQ(job.model.max_context, 4096);
  ASSERT_TRUE(job.generation.max_new_tokens.has_value());
  EXPECT_EQ(*job.generation.max_new_tokens, 8);
  EXPECT_EQ(job.benchmarks[0].data_dir, (dir_ / "elsewhere" / "LongBench").lexically_normal());
  EXPECT_TRUE(job.benchmarks[1].data_dir.empty());  // no data_dir: the benchmark's default stays
  EXPECT_EQ(job.benchmarks[0].limit, 2);
  EXPECT_EQ(job.benchmarks[1].limit, 2);
  EXPECT_EQ(o.describe(), "--model " + (dir_ / "other_model").string() + " --data-root " +
                              (dir_ / "elsewhere").string() +
                              " --limit 2 --set model.device=cpu --set model.max_context=4096 --set "
                              "generation.max_new_tokens=8");
}

TEST_F(JobOverridesTest, BadOverridesAreInputErrors) {
  JobOverrides missing_model;
  missing_model.model_path = dir_ / "absent";
  try {
    parse(kJob, missing_model);
    FAIL();
  } catch (const loom::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("absent"), std::string::npos) << e.what();
  }
  JobOverrides bad_key;
  bad_key.settings = {"model.devic=cpu"};
  try {
    parse(kJob, bad_key);
    FAIL();
  } catch (const loom::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.devic"), std::string::npos) << e.what();
  }
  JobOverrides bad_value;
  bad_value.settings = {"model.device=tpu"};
  EXPECT_THROW(parse(kJob, bad_value), loom::InputError);
  JobOverrides not_a_setting;
  not_a_setting.settings = {"model.device"};
  EXPECT_THROW(parse(kJob, not_a_setting), loom::InputError);
  JobOverrides through_a_scalar;
  through_a_scalar.settings = {"name.x=1"};
  EXPECT_THROW(parse("name: a\n" + std::string(kJob), through_a_scalar), loom::InputError);
  JobOverrides missing_root;
  missing_root.data_root = dir_ / "nowhere";
  try {
    parse(kJob, missing_root);
    FAIL();
  } catch (const loom::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--data-root"), std::string::npos) << e.what();
  }
}

TEST_F(JobOverridesTest, ZeroLengthIsAcceptedNegativeIsNot) {
  EXPECT_EQ(parse_length("0k"), 0);
  EXPECT_EQ(parse_length("0"), 0);
  EXPECT_THROW(parse(std::string(kJob) + "  - name: RULER\n    lengths: [-4k]\n", {}), loom::InputError);
}

}  // namespace
