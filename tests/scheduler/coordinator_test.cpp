// Rank-0 helpers: sample keys, joining outcomes with row templates (the cost record unchanged), finding configs/.
#include "common/error.h"
#include "scheduler/config_paths.h"
#include "scheduler/coordinator.h"
#include "scheduler/work_builder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;
using namespace loom::scheduler;

TEST(Coordinator, SampleKeyNamesEveryPart) {
  EXPECT_EQ(make_sample_key("RULER", "vt", 4096, 3, "snapkv@0.5"), "RULER/vt/4096/3/snapkv@0.5");
}

TEST(Coordinator, MakeRowJoinsTemplateAndOutcome) {
  loom::results::ResultRow row;
  row.sample_key = "k";
  row.benchmark = "RULER";
  row.references_json = R"(["x"])";
  loom::protocol::WorkOutcome outcome;
  outcome.sample_key = "k";
  outcome.ok = false;
  outcome.error = "oom";
  outcome.cost.input_tokens = 100;
  outcome.cost.output_tokens = 5;
  outcome.cost.prefill_shared_by = 4;
  outcome.cost.prefill_block_density = 0.25;
  outcome.rank = 3;
  outcome.group = 1;
  const auto joined = make_row(row, outcome);
  EXPECT_EQ(joined.benchmark, "RULER");
  EXPECT_EQ(joined.references_json, R"(["x"])");
  EXPECT_EQ(joined.status, "failed");
  EXPECT_EQ(joined.error, "oom");
  EXPECT_EQ(joined.cost.input_tokens, 100);
  EXPECT_EQ(joined.context_length, 100);
  EXPECT_EQ(joined.cost.prefill_shared_by, 4);
  EXPECT_EQ(joined.cost.prefill_block_density, 0.25);
  EXPECT_EQ(joined.rank, 3);
  EXPECT_GT(joined.finished_unix, 1.7e9);
}

TEST(ConfigPaths, FoundFromTheJobFileAndFromTheEnvironment) {
  const fs::path repo_configs = fs::path(LOOM_SOURCE_DIR) / "configs";
  EXPECT_EQ(fs::canonical(find_configs_dir(fs::path(LOOM_SOURCE_DIR) / "jobs" / "quickstart.yaml")),
            fs::canonical(repo_configs));
  ::setenv("LOOM_CONFIG_DIR", repo_configs.c_str(), 1);
  EXPECT_EQ(find_configs_dir(""), repo_configs);
  ::setenv("LOOM_CONFIG_DIR", "/nonexistent/configs", 1);
  EXPECT_THROW(find_configs_dir(""), loom::InputError);
  ::unsetenv("LOOM_CONFIG_DIR");
}
