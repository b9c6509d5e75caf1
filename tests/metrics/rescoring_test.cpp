// `loom_mpi score` back end: the official BABILong predictions in data/babilong_evals, file by file, give the
// accuracy of the official compare_answers (expected values: tools/fixtures/make_scorer_fixtures.py, pandas +
// a re-statement of babilong/metrics.py); the other formats against small fixture prediction files.
#include "metrics/fixture_reader.h"
#include "metrics/rescoring/csv_table.h"
#include "metrics/rescoring/prediction_files.h"
#include "metrics/scorer.h"

#include "common/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <filesystem>
#include <fstream>

namespace loom::metrics {
namespace {

TEST(Rescoring, OfficialBabilongPredictionsFileByFile) {
  const auto cases = testing::read_jsonl(testing::fixture_dir() + "/babilong_files.jsonl");
  ASSERT_GE(cases.size(), 55u);
  for (const auto& c : cases) {
    const std::string path = std::string(LOOM_SOURCE_DIR) + "/" + c.at("file").get<std::string>();
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    auto r = rescore_predictions("BABILong", "", path);
    EXPECT_EQ(r.task, c.at("task").get<std::string>()) << path;
    EXPECT_EQ(r.samples, c.at("samples").get<size_t>()) << path;
    EXPECT_NEAR(r.score, c.at("accuracy").get<double>(), 1e-9) << path;
  }
}

TEST(Rescoring, OtherFormatsMatchTheOfficialAggregation) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  for (const auto& c : testing::read_jsonl(dir + "/expected.jsonl")) {
    auto r = rescore_predictions(c.at("benchmark"), c.value("task", std::string()), dir + "/" + c.at("file").get<std::string>());
    EXPECT_NEAR(r.score, c.at("score").get<double>(), 1e-9) << c.dump();
    if (c.contains("breakdown"))
      for (const auto& [k, v] : c.at("breakdown").items()) {
        bool found = false;
        for (const auto& [name, value] : r.breakdown)
          if (name == k) {
            found = true;
            EXPECT_NEAR(value, v.get<double>(), 1e-9) << c.dump() << " " << k;
          }
        EXPECT_TRUE(found) << k;
      }
  }
}

// LongBench v2 results/<model>.jsonl (pred.py's format): the figures THUDM/LongBench's own result.py printed
// (tools/fixtures/parity/longbench_v2_result.py), and every row's `judge`, which pred.py's own extract_answer set,
// equals what the longbench_v2_accuracy scorer gives the row's response.
TEST(Rescoring, LongBenchV2ResultsMatchOfficialResultPy) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/longbench_v2/expected.jsonl");
  ASSERT_EQ(cases.size(), 2u);
  auto scorer = make_scorer("longbench_v2_accuracy");
  for (const auto& c : cases) {
    const std::string file = dir + "/" + c.at("file").get<std::string>();
    auto r = rescore_predictions("LongBench_v2", "", file);
    EXPECT_EQ(r.task, c.at("task").get<std::string>());
    EXPECT_NEAR(r.score, c.at("score").get<double>(), 0.01) << file;
    ASSERT_EQ(r.breakdown.size(), 5u);
    for (const auto& [name, value] : r.breakdown)
      EXPECT_NEAR(value, c.at("breakdown").at(name).get<double>(), 0.01) << name;
    for (const auto& row : testing::read_jsonl(file)) {
      const double s = scorer->score(row.at("response").get<std::string>(), {}, {{"answer", row.at("answer")}});
      EXPECT_EQ(s == 1.0, row.at("judge").get<bool>()) << row.dump();
    }
  }
  const std::string bad = (std::filesystem::temp_directory_path() / "loom_lbv2_no_judge.jsonl").string();
  { std::ofstream(bad) << R"({"difficulty": "easy", "length": "short", "pred": "A"})" << "\n"; }
  try {
    rescore_predictions("LongBench_v2", "", bad);
    ADD_FAILURE() << "a row without judge was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("judge"), std::string::npos) << e.what();
  }
  std::filesystem::remove(bad);
}

// LongBench v2 with cot: true: each row's prediction is the answer generation's output, scored by
// longbench_v2_accuracy (pred.py's extract_answer) and averaged per task as the report does. On the crafted CoT
// answers of tools/fixtures/parity/longbench_v2_result.py, the mean overall and per difficulty / length group,
// rounded to one place as result.py prints it, equals result.py's figures to 0.01 points.
TEST(Rescoring, LongBenchV2CotAnswersScoredInRunMatchResultPy) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/longbench_v2/expected.jsonl");
  const auto it = std::find_if(cases.begin(), cases.end(), [](const nlohmann::json& c) {
    return c.at("task").get<std::string>() == "mymodel_cot";
  });
  ASSERT_NE(it, cases.end());
  auto scorer = make_scorer("longbench_v2_accuracy");
  std::map<std::string, std::pair<double, int>> groups;  // name -> (sum of scores, rows)
  for (const auto& row : testing::read_jsonl(dir + "/" + it->at("file").get<std::string>())) {
    const double s = 100.0 * scorer->score(row.at("response").get<std::string>(), {"?"},
                                           {{"answer", row.at("answer")}, {"difficulty", row.at("difficulty")},
                                            {"length", row.at("length")}});
    const std::string difficulty = row.at("difficulty") == "easy" ? "easy" : "hard";
    const std::string length = row.at("length") == "short" ? "short" : row.at("length") == "medium" ? "medium" : "long";
    for (const std::string& g : {std::string("overall"), difficulty, length}) {
      groups[g].first += s;
      groups[g].second += 1;
    }
  }
  auto rounded = [&](const std::string& g) {
    return std::round(10.0 * groups.at(g).first / groups.at(g).second) / 10.0;  // no .x5 ties in these figures
  };
  EXPECT_EQ(groups.at("overall").second, 11);
  EXPECT_NEAR(rounded("overall"), it->at("score").get<double>(), 0.01);
  for (const auto& [name, value] : it->at("breakdown").items()) EXPECT_NEAR(rounded(name), value.get<double>(), 0.01) << name;
}

// RULER <task>.jsonl (scripts/pred/call_api.py's format): the score and null count NVIDIA/RULER's own evaluate.py
// wrote to summary.csv (tools/fixtures/parity/ruler_evaluate.py); a file name that is no RULER task is refused.
TEST(Rescoring, RulerPredictionsMatchOfficialEvaluatePy) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/ruler/expected.jsonl");
  ASSERT_EQ(cases.size(), 4u);
  for (const auto& c : cases) {
    auto r = rescore_predictions("RULER", "", dir + "/" + c.at("file").get<std::string>());
    EXPECT_EQ(r.task, c.at("task").get<std::string>());
    EXPECT_NEAR(r.score, c.at("score").get<double>(), 0.01) << c.dump();
    ASSERT_EQ(r.breakdown.size(), 1u);
    const std::string nulls = c.at("nulls").get<std::string>();
    EXPECT_EQ(std::to_string(static_cast<int>(r.breakdown[0].second)) + "/" + std::to_string(r.samples), nulls);
  }
  EXPECT_THROW(rescore_predictions("RULER", "niah", dir + "/ruler/vt.jsonl"), InputError);
}

// LV-Eval <dataset>_<len>.jsonl (prediction.py's format): the scores infinigence/LVEval's own evaluation.py wrote to
// eval_result/result.json (tools/fixtures/parity/lveval_evaluation.py): EN/ZH keyword-gated F1, plain F1, ZH rouge.
TEST(Rescoring, LvevalPredictionsMatchOfficialEvaluationPy) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/lveval/expected.jsonl");
  ASSERT_EQ(cases.size(), 4u);
  for (const auto& c : cases) {
    auto r = rescore_predictions("LVEval", "", dir + "/" + c.at("file").get<std::string>());
    EXPECT_EQ(r.task, c.at("task").get<std::string>());
    EXPECT_NEAR(r.score, c.at("score").get<double>(), 0.01) << c.dump();
  }
  EXPECT_THROW(rescore_predictions("LVEval", "nosuch_16k", dir + "/lveval/factrecall_en_32k.jsonl"), InputError);
}

// LongWriter models/<model>/pred.jsonl: the mean S_l THUDM/LongWriter's own eval_length.py printed
// (tools/fixtures/parity/longwriter_eval_length.py), and per row the score of the response_length pred.py's own
// count_words stored, so the scorer's word count is the official one.
TEST(Rescoring, LongwriterPredictionsMatchOfficialEvalLength) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/longwriter/expected.jsonl");
  ASSERT_EQ(cases.size(), 1u);
  const std::string file = dir + "/" + cases[0].at("file").get<std::string>();
  auto r = rescore_predictions("LongWriter", "", file);
  EXPECT_NEAR(r.score, cases[0].at("score").get<double>(), 0.01);
  auto scorer = make_scorer("longwriter_length");
  for (const auto& row : testing::read_jsonl(file)) {
    const double x = row.at("length").get<double>(), y = row.at("response_length").get<double>();
    const double official = y > x ? std::max(0.0, 1 - (y / x - 1) / 3) : std::max(0.0, 1 - (x / y - 1) / 2);
    EXPECT_NEAR(scorer->score(row.at("response").get<std::string>(), {}, {{"length", x}}), official, 1e-12)
        << row.dump();
  }
}

// Counting-Stars test_data records with an `answer`: the pivot-table mean nick7nlp/Counting-Stars' own viz.ipynb
// functions give (tools/fixtures/parity/counting_stars_viz.py), per file and per context size; EN/ZH, searching and
// reasoning, fenced, duplicated, over-long and object answers, two records per context size.
TEST(Rescoring, CountingStarsPredictionsMatchOfficialViz) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/counting_stars/expected.jsonl");
  ASSERT_EQ(cases.size(), 4u);
  for (const auto& c : cases) {
    auto r = rescore_predictions("Counting_Stars", "", dir + "/" + c.at("file").get<std::string>());
    EXPECT_EQ(r.task, c.at("task").get<std::string>());
    EXPECT_NEAR(r.score, c.at("score").get<double>(), 1e-9) << c.dump();
    EXPECT_NEAR(r.score, c.at("printed").get<double>(), 0.0005) << c.dump();
    ASSERT_EQ(r.breakdown.size(), c.at("breakdown").size());
    for (const auto& [name, value] : r.breakdown) EXPECT_NEAR(value, c.at("breakdown").at(name).get<double>(), 1e-9);
  }
  // The task names the variant when the file name does not; without either the file is refused.
  const std::string file = dir + "/" + cases[0].at("file").get<std::string>();
  EXPECT_EQ(rescore_predictions("counting_stars", "counting_stars_en_searching", file).task,
            "counting_stars_en_searching");
  EXPECT_THROW(rescore_predictions("Counting_Stars", "stars", file), InputError);
}

// LOOM-Scope's LongIns and Ada-LEval prediction files: the figures Ins-Bench's own eval.py and Ada-LEval's own
// dataset.py evaluate() give the same rows (tools/fixtures/parity/longins_eval.py, ada_leval_eval.py).
TEST(Rescoring, LongInsAndAdaLevalPredictionsMatchOfficialCode) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  size_t files = 0;
  for (const char* name : {"longins", "ada_leval"})
    for (const auto& c : testing::read_jsonl(dir + "/" + name + "/expected.jsonl")) {
      auto r = rescore_predictions(c.at("benchmark"), "", dir + "/" + c.at("file").get<std::string>());
      EXPECT_EQ(r.task, c.at("task").get<std::string>());
      EXPECT_EQ(r.scale, "0-100");
      EXPECT_NEAR(r.score, c.at("score").get<double>(), 1e-9) << c.dump();
      ++files;
    }
  EXPECT_EQ(files, 3u);
  EXPECT_THROW(rescore_predictions("Ada_LEval", "sorting", dir + "/ada_leval/textsort_1k.jsonl"), InputError);
}

// LIBRA predictions/<model>.json: the total and per-dataset / per-length figures ai-forever/LIBRA's own eval.py
// wrote (tools/fixtures/parity/libra_eval.py): em, count_score and f1 datasets, negatives, a length with no rows.
TEST(Rescoring, LibraPredictionsMatchOfficialEvalPy) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/libra/expected.jsonl");
  ASSERT_EQ(cases.size(), 6u);
  for (const auto& c : cases) {
    auto r = rescore_predictions("LIBRA", c.value("task", std::string()), dir + "/" + c.at("file").get<std::string>());
    EXPECT_NEAR(r.score, c.at("score").get<double>(), 1e-4) << c.dump();  // 0.01 points on the 0-1 scale
    EXPECT_EQ(r.breakdown.size(), c.at("breakdown").size()) << c.dump();
    for (const auto& [name, value] : r.breakdown)
      EXPECT_NEAR(value, c.at("breakdown").at(name).get<double>(), 1e-4) << c.dump() << " " << name;
  }
  EXPECT_THROW(rescore_predictions("LIBRA", "ru_tpo", dir + "/libra/mymodel.json"), InputError);
}

// CLongEval's inference_results/<model>/<dataset>/<size>.jsonl (excerpts of the files the repository ships): the
// figures its own eval.py writes for them (tools/fixtures/parity/clongeval_results.py): every dataset's metric,
// StTDet with and without the answer rewrite (moonshot-v1 / gpt4-turbo-128k), an HTTP_ERROR row skipped.
TEST(Rescoring, ClongevalResultsMatchOfficialEvalPy) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/clongeval/expected.jsonl");
  ASSERT_EQ(cases.size(), 12u);
  size_t skipped = 0;
  for (const auto& c : cases) {
    const std::string file = dir + "/" + c.at("file").get<std::string>();
    auto r = rescore_predictions("CLongEval", "", file);
    EXPECT_EQ(r.task, c.at("task").get<std::string>()) << c.dump();
    EXPECT_EQ(r.scale, "0-100");
    EXPECT_NEAR(r.score, c.at("score").get<double>(), 1e-9) << c.dump();
    // The same file under an explicit task gives the same figure.
    EXPECT_NEAR(rescore_predictions("clongeval", r.task, file).score, r.score, 1e-12);
    skipped += r.skipped;
    if (r.task == "StTDet_S") {
      const bool gpt4 = file.find("gpt4-turbo-128k") != std::string::npos;
      EXPECT_EQ(r.metric, gpt4 ? "clongeval_typo_detection_raw (response_gpt4-turbo-128k)"
                               : "clongeval_typo_detection (response_moonshot-v1)");
    }
  }
  EXPECT_EQ(skipped, 1u);  // the HTTP_ERROR row of key_passage_retrieval/small.jsonl
  const std::string qa = dir + "/clongeval/inference_results/moonshot-v1/long_story_qa/small.jsonl";
  EXPECT_THROW(rescore_predictions("CLongEval", "LStQA_X", qa), InputError);
  EXPECT_THROW(rescore_predictions("CLongEval", "", dir + "/longins/LIST_8192.jsonl"), InputError);
  try {
    rescore_predictions("CLongEval", "LStQA_S", dir + "/loogle/longdep_qa.jsonl");
    ADD_FAILURE() << "a file without response_<model> was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("response_<model>"), std::string::npos) << e.what();
  }
}

// NIAH result files as gkamradt/LLMTest_NeedleInAHaystack ships them (a folder of Anthropic_Original_Results files,
// and the OpenAI list file): the mean of the pivot table viz/CreateVizFromLLMTesting.ipynb builds, run unchanged, and
// each context length's column mean (tools/fixtures/parity/niah_results.py).
TEST(Rescoring, NiahResultFilesMatchTheVizNotebookPivot) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/niah/expected.jsonl");
  ASSERT_EQ(cases.size(), 2u);
  for (const auto& c : cases) {
    auto r = rescore_predictions("NIAH", "", dir + "/" + c.at("file").get<std::string>());
    EXPECT_EQ(r.task, "niah");
    EXPECT_EQ(r.scale, "1-10");
    EXPECT_EQ(r.samples, c.at("samples").get<size_t>());
    EXPECT_NEAR(r.score, c.at("score").get<double>(), 1e-9) << c.dump();
    std::map<std::string, double> got(r.breakdown.begin(), r.breakdown.end());
    for (const auto& [length, value] : c.at("lengths").items())
      EXPECT_NEAR(got.at("length " + length), value.get<double>(), 1e-9) << length;
    // The Anthropic files carry the responses: our niah_word_recall re-scores them; the OpenAI list has none.
    const bool responses = c.at("file").get<std::string>().find("Anthropic") != std::string::npos;
    EXPECT_EQ(got.count("niah_word_recall (0-100)"), responses ? 1u : 0u);
    if (responses) EXPECT_GT(got.at("niah_word_recall (0-100)"), 0.0);
  }
  // One result file alone: its own judge score.
  auto one = rescore_predictions(
      "niah", "", dir + "/niah/Anthropic_Original_Results/token_len_1000_depth_0_results.json");
  EXPECT_EQ(one.samples, 1u);
  EXPECT_NEAR(one.score, 10.0, 1e-12);
  EXPECT_THROW(rescore_predictions("NIAH", "", dir + "/longins/LIST_8192.jsonl"), InputError);
  EXPECT_THROW(rescore_predictions("NIAH", "", dir + "/longins"), InputError);  // a folder without *.json files
}

TEST(Rescoring, CsvQuotingAndErrors) {
  auto t = parse_csv("a,b\n\"x, \"\"y\"\"\",\"multi\nline\"\n", "mem.csv");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][0], "x, \"y\"");
  EXPECT_EQ(t.rows[0][1], "multi\nline");
  EXPECT_THROW(parse_csv("a,b\n\"open,1\n", "mem.csv"), InputError);
  EXPECT_THROW(parse_csv("a,b\n1,2,3\n", "mem.csv"), InputError);
  EXPECT_THROW(rescore_predictions("NoSuchBench", "", "x"), InputError);
}

}  // namespace
}  // namespace loom::metrics
