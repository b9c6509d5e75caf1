// The NLI pass of L-CiteEval's citation metrics with a local classifier (judge.nli.model naming a directory;
// metrics/judge/nli_classifier.h): with a test double answering the fixture's fake NLI rule as labels
// ("entailment" iff every fact token F<n> of the hypothesis is in the premise, else "neutral"), rows built from
// tests/fixtures/judge/lciteeval_citation.jsonl get upstream's recall / precision / F1 (task means within 0.01
// points) from verdicts stored like an endpoint's (metric lciteeval_nli, the model's name, the label as the
// response), each of upstream's checks classified once, a rerun loads no model and asks nothing, a report without
// the model uses the stored labels, and a pair the classifier cannot take is a failed verdict asked again later.
// With the real DeBERTa classifier (nli/deberta_nli.h) on rows whose checks are the parity fixture's pairs, the
// stored labels are the transformers pipeline's.
#include "common/error.h"
#include "metrics/judge/nli_classifier.h"
#include "metrics/judge/nli_pass.h"
#include "metrics/judged/lciteeval_citation.h"
#include "metrics/report/metrics_pass.h"
#include "nli/deberta_nli.h"
#include "results/result_store.h"
#include "results/verdicts.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;
using nlohmann::json;

namespace loom::metrics::judge {
namespace {

// The fixture's fake NLI model as a classifier; counts its constructions and calls, throws for a "POISON" premise.
struct FakeCounts {
  int models = 0, calls = 0;
  std::set<std::string> inputs;  // TRUE's text of each call, to compare with upstream's calls
};
class FakeClassifier final : public NliClassifier {
 public:
  explicit FakeClassifier(FakeCounts* counts) : counts_(counts) { ++counts_->models; }
  std::string label(const std::string& premise, const std::string& hypothesis) override {
    ++counts_->calls;
    counts_->inputs.insert(judged::true_nli_input(premise, hypothesis));
    if (premise.find("POISON") != std::string::npos) throw std::runtime_error("cannot classify this pair");
    const std::regex fact("F[0-9]+");
    bool any = false, all = true;
    for (std::sregex_iterator it(hypothesis.begin(), hypothesis.end(), fact), end; it != end; ++it) {
      any = true;
      all = all && std::regex_search(premise, std::regex(it->str() + "(?![0-9])"));
    }
    return any && all ? "entailment" : "neutral";
  }

 private:
  FakeCounts* counts_;
};

class NliLocalPass : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nli_local_pass_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "run.h5";
  }
  void TearDown() override {
    set_local_nli_factory(nullptr);
    fs::remove_all(dir_);
  }
  results::ResultRow row(int i, const std::string& prediction, const json& docs) {
    results::ResultRow r;
    r.sample_key = "L_CiteEval/hotpotqa/0/" + std::to_string(i) + "/full";
    r.benchmark = "L_CiteEval";
    r.task = "hotpotqa";
    r.capability = "Faithfulness";
    r.metric = "lciteeval_qa_f1";
    r.sample_index = i;
    r.prediction = prediction;
    r.references_json = json::array({"F1"}).dump();
    r.metadata_json = json{{"docs", docs}}.dump();
    r.method = "full";
    return r;
  }
  // Rows of the upstream fixture's hotpotqa cases (as nli_pass_test); fills the expected task means.
  void write_fixture_rows(const std::string& extra_poison_row = "") {
    std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/judge/lciteeval_citation.jsonl");
    std::string line;
    std::getline(in, line);  // source and commit
    auto store = results::ResultStore::open(path_, results::JobAttributes{});
    int i = 0;
    double sums[3] = {0, 0, 0};
    while (std::getline(in, line)) {
      const json c = json::parse(line);
      if (c["task"] != "hotpotqa") continue;
      store->append(row(i++, c["generation"], c["docs"]));
      for (const auto& call : c["nli_calls"]) upstream_inputs_.insert(call["input"].get<std::string>());
      if (c["expected"].is_null()) continue;
      ++scored_;
      sums[0] += c["expected"]["recall"].get<double>();
      sums[1] += c["expected"]["precision"].get<double>();
      sums[2] += c["expected"]["f1"].get<double>();
    }
    if (!extra_poison_row.empty()) store->append(row(i++, extra_poison_row, json::array({"POISON F9 here."})));
    rows_ = i;
    for (int k = 0; k < 3; ++k) expected_[k] = 100 * sums[k] / scored_;
    store->close();
  }
  JudgeConfig config(const std::string& name = "fake-nli") const {
    JudgeConfig c;
    c.nli.model_dir = (dir_ / name).string();
    c.nli.model = name;
    return c;
  }
  json report(bool configured, const std::string& model) {
    report::MetricsPassOptions options;
    options.write_html = false;
    options.nli_configured = configured;
    options.nli_model = model;
    std::ostringstream out;
    auto result = report::run_metrics_pass(path_, out, options);
    return result.json["methods"]["full"]["benchmarks"]["L_CiteEval"]["tasks"]["hotpotqa"]["judged"];
  }

  fs::path dir_, path_;
  std::set<std::string> upstream_inputs_;
  int rows_ = 0, scored_ = 0;
  double expected_[3] = {0, 0, 0};
};

TEST_F(NliLocalPass, LocalLabelsAreStoredScoredAsUpstreamAndReused) {
  write_fixture_rows();
  FakeCounts counts;
  set_local_nli_factory([&](const NliConfig& c) {
    EXPECT_EQ(c.model_dir, (dir_ / "fake-nli").string());
    return std::make_unique<FakeClassifier>(&counts);
  });
  std::ostringstream out;
  const NliPassResult first = run_nli_pass(path_, config(), out);
  EXPECT_NE(out.str().find("local classifier"), std::string::npos) << out.str();
  EXPECT_EQ(first.rows, rows_);
  EXPECT_EQ(first.asked, static_cast<int64_t>(upstream_inputs_.size()));
  EXPECT_EQ(first.ok, first.asked);
  EXPECT_EQ(first.failed, 0);
  EXPECT_EQ(counts.models, 1);
  EXPECT_EQ(counts.calls, static_cast<int>(upstream_inputs_.size()));  // each of upstream's checks once
  EXPECT_EQ(counts.inputs, upstream_inputs_);

  // Stored like an endpoint's answer: metric lciteeval_nli, sample_key nli:<hash>, the model's name, the label.
  const std::vector<results::Verdict> verdicts = results::latest_verdicts(results::read_verdicts(path_));
  ASSERT_EQ(verdicts.size(), upstream_inputs_.size());
  for (const results::Verdict& v : verdicts) {
    EXPECT_EQ(v.metric, judged::kNliVerdictMetric);
    EXPECT_EQ(v.judge_model, "fake-nli");
    EXPECT_EQ(v.sample_key, "nli:" + v.request_hash);
    EXPECT_TRUE(v.response == "entailment" || v.response == "neutral") << v.response;
    EXPECT_EQ(v.score, v.response == "entailment" ? 100.0 : 0.0);
  }

  const json judged = report(true, "fake-nli");
  EXPECT_NEAR(judged[judged::kCiteRecall]["score"].get<double>(), expected_[0], 0.01);
  EXPECT_NEAR(judged[judged::kCitePrecision]["score"].get<double>(), expected_[1], 0.01);
  EXPECT_NEAR(judged[judged::kCiteF1]["score"].get<double>(), expected_[2], 0.01);
  EXPECT_EQ(judged[judged::kCiteRecall]["computed"], scored_);

  // A rerun loads no model and asks nothing; a report without the model reads the stored labels.
  const NliPassResult second = run_nli_pass(path_, config(), out);
  EXPECT_EQ(second.asked, 0);
  EXPECT_EQ(second.reused, static_cast<int64_t>(upstream_inputs_.size()));
  EXPECT_EQ(counts.models, 1);
  EXPECT_EQ(counts.calls, static_cast<int>(upstream_inputs_.size()));
  EXPECT_NEAR(report(false, "")[judged::kCiteF1]["score"].get<double>(), expected_[2], 0.01);
  EXPECT_NEAR(report(false, "fake-nli")[judged::kCiteF1]["score"].get<double>(), expected_[2], 0.01);
}

TEST_F(NliLocalPass, APairTheClassifierCannotTakeIsAFailedVerdictAskedAgain) {
  write_fixture_rows("F9 holds [1].");
  FakeCounts counts;
  set_local_nli_factory([&](const NliConfig&) { return std::make_unique<FakeClassifier>(&counts); });
  std::ostringstream out;
  const NliPassResult first = run_nli_pass(path_, config(), out);
  EXPECT_EQ(first.failed, 1);
  const json judged = report(true, "fake-nli");
  EXPECT_EQ(judged[judged::kCiteRecall]["not_computed"].get<int>(), rows_ - scored_);  // "no sentence" rows + it
  EXPECT_NE(judged[judged::kCiteRecall]["reasons"].dump().find("cannot classify this pair"), std::string::npos)
      << judged.dump();
  const NliPassResult second = run_nli_pass(path_, config(), out);
  EXPECT_EQ(second.asked, 1);  // only the failed one
  EXPECT_EQ(second.failed, 1);
}

TEST_F(NliLocalPass, NoClassifierInstalledOrABadDirectoryIsAnError) {
  write_fixture_rows();
  set_local_nli_factory(nullptr);
  std::ostringstream out;
  EXPECT_THROW(run_nli_pass(path_, config(), out), loom::Error);
  nli::install_deberta_nli();
  EXPECT_THROW(run_nli_pass(path_, config("no-such-model"), out), loom::InputError);
}

// The real classifier: one row per single-passage pair of the parity fixture ("Passage: <doc>" premise, one-sentence
// hypothesis), cited as "[1]"; the stored label of each check is the transformers pipeline's.
TEST_F(NliLocalPass, TheDebertaClassifierStoresThePipelinesLabels) {
  std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/nli/deberta_nli.json");
  const json f = json::parse(in);
  std::map<std::string, std::string> expected;  // query hash -> label
  auto store = results::ResultStore::open(path_, results::JobAttributes{});
  int i = 0;
  for (const json& pair : f["models"]["tiny-deberta-nli"]["pairs"]) {
    const std::string premise = pair["premise"], hypothesis = pair["hypothesis"];
    if (premise.rfind("Passage: ", 0) != 0 || premise.find('\n') != std::string::npos ||
        hypothesis.find('[') != std::string::npos || hypothesis.back() != '.')
      continue;
    store->append(row(i++, hypothesis.substr(0, hypothesis.size() - 1) + " [1].", json::array({premise.substr(9)})));
    expected[judged::nli_query_hash(premise, hypothesis)] = pair["label"];
  }
  store->close();
  ASSERT_GE(expected.size(), 6u);
  nli::install_deberta_nli();
  JudgeConfig c;
  c.nli.model_dir = std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/nli/tiny-deberta-nli";
  c.nli.model = "tiny-deberta-nli";
  std::ostringstream out;
  const NliPassResult result = run_nli_pass(path_, c, out);
  EXPECT_EQ(result.asked, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(result.failed, 0);
  int entailed = 0;
  for (const results::Verdict& v : results::latest_verdicts(results::read_verdicts(path_))) {
    ASSERT_TRUE(expected.count(v.request_hash)) << v.request_hash;
    EXPECT_EQ(v.response, expected[v.request_hash]);
    entailed += v.response == "entailment";
  }
  const json judged = report(true, "tiny-deberta-nli");
  EXPECT_NEAR(judged[judged::kCiteRecall]["score"].get<double>(), 100.0 * entailed / expected.size(), 0.01);
}

}  // namespace
}  // namespace loom::metrics::judge
