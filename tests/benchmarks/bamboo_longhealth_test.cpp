// BAMBOO's loader on real records (tests/fixtures/benchmarks/bamboo: the first records of RUCAIBox/BAMBOO's
// datasets/*.jsonl): every prompt equals the one LOOM-Scope's BAMBOO.process_data builds (FNV-1a digests from
// tools/fixtures/parity/bamboo_prompts.py), references and settings. LongHealth's generator on the fixture
// benchmark_v5.json: the documents each task puts in the prompt (target patient / answer documents / distractors of
// other patients), the options and references, the token budget, determinism per seed, and errors.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "benchmarks/prompt_builder.h"
#include "common/error.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>

namespace loom::benchmarks {
namespace {

uint64_t fnv1a64(const std::string& text) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return h;
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  return nlohmann::json::parse(in);
}

struct Bamboo : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  std::vector<Sample> load(std::vector<std::string> tasks, std::vector<int64_t> lengths) {
    return registry.get("BAMBOO").expand(
        testing::make_spec("BAMBOO", std::move(tasks), std::move(lengths), -1, testing::fixtures_dir() / "bamboo"),
        PromptContext{&tokenizer, nullptr, 0});
  }
};

TEST_F(Bamboo, RegistryEntry) {
  const auto& b = registry.get("bamboo");
  EXPECT_EQ(b.name(), "BAMBOO");
  EXPECT_EQ(b.capability(), "General");
  EXPECT_EQ(b.tasks(), (std::vector<std::string>{"altqa", "senhallu", "abshallu", "meetingpred", "showspred",
                                                 "reportsumsort", "showssort", "meetingqa", "paperqa"}));
}

TEST_F(Bamboo, PromptsEqualLoomScopeProcessData) {
  const nlohmann::json expected = read_json_file(testing::fixtures_dir() / "bamboo" / "expected_prompts.json");
  const auto samples = load({}, {4096});
  ASSERT_EQ(samples.size(), 10u);  // one record per task, two of senhallu
  std::set<std::string> seen;
  for (const auto& s : samples) {
    const std::string key = s.task + "_4k/" + std::to_string(s.index + 1);
    SCOPED_TRACE(key);
    ASSERT_TRUE(expected.contains(key));
    EXPECT_EQ(fmt::format("{:016x}", fnv1a64(s.prompt)), expected[key]["fnv1a64"].get<std::string>());
    EXPECT_TRUE(s.system_prompt.empty());
    EXPECT_TRUE(s.use_chat_template);
    EXPECT_EQ(s.generation.max_new_tokens, 32);
    EXPECT_FALSE(s.generation.do_sample);
    EXPECT_EQ(s.target_length, 4096);
    seen.insert(key);
  }
  const auto longer = load({"paperqa"}, {16384});
  ASSERT_EQ(longer.size(), 1u);
  EXPECT_EQ(fmt::format("{:016x}", fnv1a64(longer[0].prompt)),
            expected["paperqa_16k/1"]["fnv1a64"].get<std::string>());
  EXPECT_EQ(seen.size() + 1, expected.size());
}

TEST_F(Bamboo, ListFieldsReferencesAndMetrics) {
  const auto samples = load({"showssort", "reportsumsort", "meetingqa", "senhallu", "altqa"}, {4096});
  std::map<std::string, const Sample*> first;
  for (const auto& s : samples)
    if (!first.count(s.task)) first[s.task] = &s;
  const nlohmann::json shows = read_json_file(testing::fixtures_dir() / "bamboo" / "showssort_4k.jsonl");
  EXPECT_NE(first["showssort"]->prompt.find("Chapters:\n[0] ```" + shows["content"][0].get<std::string>() +
                                            "```\n[1] ```"),
            std::string::npos);
  EXPECT_EQ(first["showssort"]->references, (std::vector<std::string>{"2", "0", "1", "3", "4"}));
  EXPECT_EQ(first["showssort"]->metric, "bamboo_concordance");
  EXPECT_NE(first["reportsumsort"]->prompt.find("Events: [1] ```"), std::string::npos);
  EXPECT_EQ(first["reportsumsort"]->references, (std::vector<std::string>{"4", "3", "2", "1", "0"}));
  EXPECT_NE(first["meetingqa"]->prompt.find("Options: A. he thinks it is supportive.\tB. "), std::string::npos);
  EXPECT_EQ(first["meetingqa"]->references, std::vector<std::string>{"B"});
  EXPECT_EQ(first["meetingqa"]->metric, "bamboo_choice");
  EXPECT_EQ(first["senhallu"]->references, std::vector<std::string>{"False"});
  EXPECT_EQ(first["senhallu"]->metric, "bamboo_hallu,bamboo_hallu_said_yes");
  EXPECT_EQ(first["altqa"]->references, std::vector<std::string>{"1964"});
}

TEST_F(Bamboo, MissingFileNamesWhereItIsPublished) {
  try {
    load({"altqa"}, {16384});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("altqa_16k.jsonl"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("RUCAIBox/BAMBOO"), std::string::npos) << e.what();
  }
}

struct LongHealth : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  PromptContext ctx() const { return PromptContext{&tokenizer, nullptr, 0}; }
  nlohmann::json data = read_json_file(testing::fixtures_dir() / "longhealth" / "benchmark_v5.json");
  std::vector<Sample> make(const std::string& task, int64_t length, int64_t n, uint64_t seed = 42) {
    return registry.get("LongHealth")
        .expand(testing::make_spec("LongHealth", {task}, {length}, n, testing::fixtures_dir() / "longhealth", seed),
                ctx());
  }
  // How many of `patient`'s documents the prompt holds whole.
  int documents_of(const Sample& s, const std::string& patient) {
    int n = 0;
    for (const auto& [id, text] : data[patient]["texts"].items())
      if (s.prompt.find(text.get<std::string>()) != std::string::npos) ++n;
    return n;
  }
};

TEST_F(LongHealth, Task1HoldsThePatientsDocumentsAndFiveOptions) {
  const auto& b = registry.get("LongHealth");
  EXPECT_TRUE(b.synthetic());
  EXPECT_EQ(b.capability(), "Specialization");
  const auto samples = make("task1", 4000, -1);
  ASSERT_EQ(samples.size(), 30u);  // 6 questions x 5 variants
  for (const auto& s : samples) {
    SCOPED_TRACE(s.id);
    const std::string patient = s.metadata["patient"].get<std::string>();
    const auto& q = data[patient]["questions"][s.metadata["question_index"].get<size_t>()];
    EXPECT_EQ(documents_of(s, patient), 3);
    for (const auto& other : {"patient_01", "patient_02", "patient_03"})
      if (other != patient) EXPECT_EQ(documents_of(s, other), 0);
    EXPECT_NE(s.prompt.find(q["question"].get<std::string>() + "\nA: " + q["answer_a"].get<std::string>() +
                            "\nB: "),
              std::string::npos);
    EXPECT_NE(s.prompt.find("\nE: " + q["answer_e"].get<std::string>() + "\n\nPlease answer"), std::string::npos);
    EXPECT_EQ(s.prompt.find("\nF: "), std::string::npos);
    EXPECT_EQ(s.references, std::vector<std::string>{q["correct"].get<std::string>()});
    EXPECT_EQ(s.prompt.rfind("\n--------------BEGIN DOCUMENTS--------------\n\n", 0), 0u);
    EXPECT_EQ(s.prompt.substr(static_cast<size_t>(s.question_begin), 29), "\n\n--------------END DOCUMENTS");
    EXPECT_NE(s.system_prompt.find("discharge letters"), std::string::npos);
    EXPECT_EQ(s.metric, "longhealth_contains");
    EXPECT_EQ(s.generation.max_new_tokens, 512);
  }
  EXPECT_EQ(samples[0].id, "patient_01_q0_0");
  EXPECT_EQ(samples[29].id, "patient_03_q1_4");
  // The variants of a question shuffle its documents differently.
  std::set<std::string> orders;
  for (int i = 0; i < 5; ++i) orders.insert(samples[static_cast<size_t>(i)].metadata["documents"].dump());
  EXPECT_GT(orders.size(), 1u);
}

TEST_F(LongHealth, Task2AddsDistractorsOfOtherPatientsTask3LeavesTheAnswerOut) {
  const auto task2 = make("task2", 4000, -1);
  const auto task3 = make("task3", 4000, -1);
  ASSERT_EQ(task2.size(), 30u);
  ASSERT_EQ(task3.size(), 30u);
  const std::string na = "Question cannot be answered with provided documents";
  for (size_t i = 0; i < task2.size(); ++i) {
    const Sample& s2 = task2[i];
    const Sample& s3 = task3[i];
    SCOPED_TRACE(s2.id);
    const std::string patient = s2.metadata["patient"].get<std::string>();
    const auto& q = data[patient]["questions"][s2.metadata["question_index"].get<size_t>()];
    const int answer_docs = static_cast<int>(q["answer_location"].size());
    EXPECT_EQ(documents_of(s2, patient), answer_docs);
    EXPECT_EQ(documents_of(s3, patient), 0);
    int others2 = 0, others3 = 0;
    for (const auto& other : {"patient_01", "patient_02", "patient_03"})
      if (other != patient) {
        others2 += documents_of(s2, other);
        others3 += documents_of(s3, other);
      }
    EXPECT_EQ(others2, 6);  // min(10, the 6 documents of the other two patients)
    EXPECT_EQ(others3, 6);
    EXPECT_NE(s2.prompt.find("\nF: " + na + "\n\nPlease answer"), std::string::npos);
    EXPECT_EQ(s2.references, std::vector<std::string>{q["correct"].get<std::string>()});
    EXPECT_EQ(s3.references, std::vector<std::string>{na});
  }
}

TEST_F(LongHealth, BudgetCutsTheDocumentThatDoesNotFit) {
  auto tokens = [&](const std::string& text) { return static_cast<int64_t>(tokenizer.encode(text, true).size()); };
  const Sample whole = make("task1", 4000, 1).front();  // every document fits
  ASSERT_EQ(documents_of(whole, "patient_01"), 3);
  const int64_t system_tokens = tokens(whole.system_prompt);
  // 60 tokens short: create_prompt's total stays within the budget, so the prompt (one BOS) does too, and the
  // last document added is cut.
  const int64_t length = system_tokens + tokens(whole.prompt) - 60;
  const auto cut = make("task1", length, 5);
  for (const auto& s : cut) {
    SCOPED_TRACE(s.id);
    EXPECT_LE(tokens(s.prompt), length - system_tokens + 1);
    // The separators are counted longer than the one joining them, each piece with a BOS, the template with its
    // placeholders: the prompt stays a little below the budget.
    EXPECT_GT(tokens(s.prompt), length - system_tokens - 100);
    EXPECT_LT(documents_of(s, "patient_01"), 3);
  }
  EXPECT_EQ(testing::digest(cut), testing::digest(make("task1", length, 5)));
  // A budget below the question, options and template: every document is cut to nothing (upstream's "negative
  // overflow"), the prompt still holds the question.
  const Sample tiny = make("task1", system_tokens + 50, 1).front();
  EXPECT_EQ(documents_of(tiny, "patient_01"), 0);
  EXPECT_NE(tiny.prompt.find("Which drug was reduced because of polyneuropathy?"), std::string::npos);
}

TEST_F(LongHealth, DeterministicPerSeed) {
  const auto a = make("task2", 4000, 10);
  EXPECT_EQ(testing::digest(a), testing::digest(make("task2", 4000, 10)));
  EXPECT_NE(testing::digest(a), testing::digest(make("task2", 4000, 10, 7)));
  // A sample does not depend on how many others were made.
  const auto fewer = make("task2", 4000, 3);
  EXPECT_EQ(testing::digest(fewer), testing::digest(std::vector<Sample>(a.begin(), a.begin() + 3)));
}

TEST_F(LongHealth, BadDataAndOptionsAreInputErrors) {
  EXPECT_THROW(registry.get("LongHealth")
                   .expand(testing::make_spec("LongHealth", {"task1"}, {4000}, 1, testing::fixtures_dir() / "bamboo"),
                           ctx()),
               InputError);
  auto spec = testing::make_spec("LongHealth", {"task1"}, {4000}, 1, testing::fixtures_dir() / "longhealth");
  spec.options["task"] = "task4";
  try {
    registry.get("LongHealth").expand(spec, ctx());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "options.task");
  }
}

}  // namespace
}  // namespace loom::benchmarks
