// The committed job files (jobs/ruler.yaml, niah.yaml, loombench.yaml, loom-all.yaml) name registered benchmarks and
// existing tasks; loom-all.yaml names every registered benchmark.
#include "test_support.h"

#include "benchmarks/benchmark_config.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace loom::benchmarks {
namespace {

TEST(JobFiles, BenchmarksAndTasksExist) {
  BenchmarkRegistry registry(testing::configs_dir());
  size_t entries = 0;
  for (const char* job : {"ruler.yaml", "niah.yaml", "loombench.yaml", "loom-all.yaml"}) {
    const nlohmann::json doc = load_yaml_as_json(testing::source_dir() / "jobs" / job);
    ASSERT_TRUE(doc.contains("benchmarks")) << job;
    for (const auto& entry : doc["benchmarks"]) {
      const auto& bench = registry.get(entry["name"].get<std::string>());
      const auto tasks = bench.tasks();
      if (entry.contains("tasks"))
        for (const auto& t : entry["tasks"])
          EXPECT_NE(std::find(tasks.begin(), tasks.end(), t.get<std::string>()), tasks.end()) << job << ": " << t;
      ++entries;
    }
  }
  EXPECT_EQ(entries, 1u + 1u + 12u + 22u);
}

TEST(JobFiles, LoomAllNamesEveryRegisteredBenchmark) {
  BenchmarkRegistry registry(testing::configs_dir());
  const nlohmann::json doc = load_yaml_as_json(testing::source_dir() / "jobs" / "loom-all.yaml");
  std::vector<std::string> named;
  for (const auto& entry : doc["benchmarks"]) named.push_back(entry["name"].get<std::string>());
  for (const std::string& name : registry.names())
    EXPECT_NE(std::find(named.begin(), named.end(), name), named.end()) << "loom-all.yaml lacks " << name;
}

}  // namespace
}  // namespace loom::benchmarks
