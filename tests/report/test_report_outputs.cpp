// The report's outputs beyond the terminal tables: the flat exports (CSV quoting, Markdown, JSON, one record per
// task x length x method plus the aggregates), the sweep pivot (method x ratio, every line <= 120 characters even
// with long names and many ratios), NIAH depth cells, the comparison table, and the HTML page's embedded data and
// assets (Chart.js inlined, the data block unable to close its <script>).
#include "metrics/report/compare_tables.h"
#include "metrics/report/html_report.h"
#include "metrics/report/report_exports.h"
#include "metrics/report/sweep_pivot.h"

#include "common/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace loom::metrics::report {
namespace {

ScoredRow row(const std::string& method, const std::string& task, int64_t target, double score,
              const std::string& params = "{}", std::optional<double> depth = std::nullopt) {
  ScoredRow r;
  r.sample_key = task + "/" + std::to_string(target) + "/" + method;
  r.method = method;
  r.method_params_json = params;
  r.benchmark = depth ? "NIAH" : "RULER";
  r.task = task;
  r.capability = "Retrieval";
  r.target_length = target;
  r.context_length = target - 10;
  r.depth_percent = depth;
  r.metric_scores = {{"m", score}};
  r.score = score;
  r.cost.input_tokens = target - 10;
  r.cost.output_tokens = 4;
  r.cost.kv_bytes = method == "full" ? 1000 : 500;
  return r;
}

Summary example() {
  return aggregate({row("full", "niah_single_1", 4096, 100), row("full", "niah_single_1", 8192, 50),
                    row("full", "vt, \"quoted\"", 4096, 0),
                    row("snapkv@0.5", "niah_single_1", 4096, 100, R"({"compression_ratio": 0.5})"),
                    row("full", "niah", 4096, 100, "{}", 0.0), row("full", "niah", 4096, 0, "{}", 50.0),
                    row("full", "niah", 4096, 100, "{}", 50.0)});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ReportExports, OneRecordPerTaskLengthMethodThenAggregates) {
  const auto records = export_records(example());
  int task_length = 0, overall = 0;
  for (const auto& r : records) {
    task_length += r.level == "task_length";
    overall += r.level == "overall";
  }
  // full: niah_single_1 4K + 8K, vt 4K, niah 4K; snapkv: niah_single_1 4K.
  EXPECT_EQ(task_length, 5);
  EXPECT_EQ(overall, 2);
  EXPECT_EQ(records.front().level, "task_length");
  EXPECT_EQ(records.back().level, "overall");
}

TEST(ReportExports, CsvQuotesFieldsAndHasOneLinePerRecord) {
  std::ostringstream out;
  write_export(example(), ExportFormat::csv, out);
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), export_records(example()).size() + 1);
  EXPECT_EQ(lines[0], "level,method,benchmark,task,capability,length,score,samples,failed");
  EXPECT_NE(out.str().find(R"("vt, ""quoted""")"), std::string::npos);
  EXPECT_NE(out.str().find("task_length,full,RULER,niah_single_1,Retrieval,8K,50.0000,1,0"), std::string::npos);
}

TEST(ReportExports, MarkdownIsOnePipeTableAndJsonAnArray) {
  std::ostringstream md, json;
  write_export(example(), ExportFormat::md, md);
  const auto lines = lines_of(md.str());
  EXPECT_EQ(lines[0].front(), '|');
  EXPECT_NE(lines[1].find("---:"), std::string::npos);
  for (const auto& line : lines) EXPECT_EQ(line.back(), '|');
  write_export(example(), ExportFormat::json, json);
  const auto parsed = nlohmann::json::parse(json.str());
  ASSERT_TRUE(parsed.is_array());
  EXPECT_EQ(parsed.size(), export_records(example()).size());
  EXPECT_EQ(parsed.back()["level"], "overall");
}

TEST(ReportExports, UnknownFormatIsAnInputError) {
  EXPECT_THROW(parse_export_format("xlsx"), InputError);
}

TEST(NiahDepth, CellsAreMeansPerLengthAndDepth) {
  const Summary summary = example();
  const auto& depths = summary.methods.at("full").benchmarks.at("NIAH").depths;
  ASSERT_EQ(depths.size(), 2u);
  EXPECT_DOUBLE_EQ(depths.begin()->second.score, 100);
  EXPECT_DOUBLE_EQ(depths.rbegin()->second.score, 50);
  EXPECT_EQ(depths.rbegin()->second.samples, 2);
  EXPECT_DOUBLE_EQ(depths.rbegin()->first.second, 50.0);
}

TEST(SweepPivot, PointsFromLabelAndParams) {
  const SweepPoint p = sweep_point("snapkv@0.5", R"({"compression_ratio": 0.5})");
  EXPECT_EQ(p.name, "snapkv");
  ASSERT_TRUE(p.ratio);
  EXPECT_DOUBLE_EQ(*p.ratio, 0.5);
  EXPECT_FALSE(sweep_point("full", "{}").ratio);
  EXPECT_FALSE(sweep_point("x@1", "not json").ratio);
}

TEST(SweepPivot, ThirtyFiveMethodsFitIn120Columns) {
  std::vector<ScoredRow> rows = {row("full", "t", 4096, 100)};
  const std::vector<std::string> names = {"streaming_llm", "snapkv", "h2o", "knorm", "tova", "observed_attention",
                                          "a_method_with_a_really_really_long_name_indeed_more_than_forty"};
  const std::vector<double> ratios = {0.1, 0.25, 0.5, 0.75, 0.875, 0.9, 0.95, 0.975, 0.99, 0.999, 0.9999, 0.5};
  for (const auto& name : names)
    for (size_t i = 0; i < 5 + names.size(); ++i) {
      const double ratio = ratios[i % ratios.size()] + (i >= ratios.size() ? 0.00001 : 0);
      rows.push_back(row(fmt::format("{}@{}", name, ratio), "t", 4096, 50,
                         fmt::format(R"({{"compression_ratio": {}}})", ratio)));
    }
  std::ostringstream out;
  ASSERT_TRUE(print_sweep_pivot(aggregate(rows), out));
  const auto lines = lines_of(out.str());
  for (const auto& line : lines) EXPECT_LE(line.size(), 120u) << line;
  EXPECT_NE(out.str().find("streaming_llm"), std::string::npos);
  EXPECT_NE(out.str().find("50.00"), std::string::npos);
  EXPECT_NE(out.str().find("a_method_with_a_really_really_long_name~"), std::string::npos);
}

TEST(SweepPivot, NotASweepPrintsNothing) {
  std::ostringstream out;
  EXPECT_FALSE(print_sweep_pivot(aggregate({row("full", "t", 4096, 100)}), out));
  EXPECT_TRUE(out.str().empty());
}

TEST(Compare, OneRowPerRunAndMethodWithDistinctLabels) {
  EXPECT_EQ(comparison_labels({"a/run.h5", "b/run.h5", "c/other.h5"}),
            (std::vector<std::string>{"run#1", "run#2", "other"}));
  ReportRun a{"before", {}, example()}, b{"after", {}, aggregate({row("full", "niah_single_1", 4096, 0)})};
  std::ostringstream out;
  print_comparison({a, b}, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("before  snapkv@0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("after   full"), std::string::npos) << text;
  EXPECT_NE(text.find("NIAH"), std::string::npos);
}

TEST(HtmlReport, EmbedsChartJsAndDataForEveryChart) {
  ReportRun run{"r", {}, example()};
  run.identity.job = "</script><b>job";
  const std::string html = render_html_report({run}, "title <x>");
  EXPECT_NE(html.find("Chart.js v3.9.1"), std::string::npos);
  EXPECT_NE(html.find("<title>title &lt;x&gt;</title>"), std::string::npos);
  EXPECT_EQ(html.find("</script><b>job"), std::string::npos);  // cannot close the data block
  const std::string open = "<script type=\"application/json\" id=\"loom-data\">";
  const size_t begin = html.find(open) + open.size();
  const nlohmann::json data = nlohmann::json::parse(html.substr(begin, html.find("</script>", begin) - begin));
  EXPECT_EQ(data["runs"][0]["job"], "</script><b>job");
  EXPECT_EQ(data["methods"].size(), 2u);
  EXPECT_EQ(data["heatmaps"].size(), 1u);
  EXPECT_EQ(data["heatmaps"][0]["depths"], nlohmann::json::array({0.0, 50.0}));
  EXPECT_EQ(data["curves"].size(), 2u);  // RULER for full and snapkv; NIAH is a heatmap
  EXPECT_EQ(data["methods"][1]["ratio"], 0.5);
  // KV bytes per prompt token over that of full: (500 / 4086) / (6 × 1000 / (5 × 4086 + 8182)).
  EXPECT_NEAR(data["methods"][1]["cost"]["kv_vs_full"].get<double>(), (500.0 / 4086) / (6000.0 / 28612), 1e-9);
}

TEST(HtmlReport, SeveralRunsPrefixMethodsWithTheRunLabel) {
  ReportRun a{"before", {}, example()}, b{"after", {}, example()};
  const nlohmann::json data = report_data({a, b});
  EXPECT_EQ(data["runs"].size(), 2u);
  EXPECT_EQ(data["methods"].size(), 4u);
  EXPECT_EQ(data["methods"][0]["label"], "before: full");
  EXPECT_EQ(data["methods"][3]["label"], "after: snapkv@0.5");
}

}  // namespace
}  // namespace loom::metrics::report
