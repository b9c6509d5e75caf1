// Progress line: counts, failures and an ETA from the predicted cost still to run.
#include "scheduler/progress.h"

#include <gtest/gtest.h>

#include <thread>

using namespace loom::scheduler;

TEST(Progress, LineCountsFailuresAndEta) {
  std::vector<std::string> lines;
  ProgressReporter progress(4, 10.0, 0.0, [&](const std::string& line) { lines.push_back(line); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  progress.record(true, 100, 5.0);
  progress.record(false, 0, 0.0);
  progress.maybe_report();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("2/4 samples (50.0%), 1 failed"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("tok/s"), std::string::npos);
  EXPECT_EQ(lines[0].find("ETA ?"), std::string::npos) << lines[0];  // half the predicted cost is done
  EXPECT_EQ(format_duration(42), "42s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

TEST(Progress, IntervalGatesLines) {
  int count = 0;
  ProgressReporter progress(10, 1.0, 3600.0, [&](const std::string&) { ++count; });
  progress.maybe_report();
  progress.maybe_report();
  EXPECT_EQ(count, 0);
  progress.report_now();
  EXPECT_EQ(count, 1);
}
