// Run identity (issue 14): the fingerprint of a row changes with each input named in run_identity.h and with
// nothing else; a resume whose stored rows differ is refused with a message naming the component, old and new;
// the failure summary counts and ranks failed rows.
#include "results/writer_lock.h"
#include "scheduler/coordinator.h"
#include "scheduler/failure_summary.h"
#include "scheduler/run_identity.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace fs = std::filesystem;
using namespace loom::scheduler;

namespace {

class RunIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("loom_identity_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "model");
    write("config.json", R"({"hidden_size": 64, "num_hidden_layers": 2})");
    write("tokenizer.json", R"({"model": {"type": "BPE"}})");
    write("tokenizer_config.json", R"({"chat_template": "{{ messages }}"})");
    write_safetensors("model.safetensors", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})");
    job_.source_file = dir_ / "job.yaml";
    job_.model.path = dir_ / "model";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / "model" / name) << text; }
  void write_safetensors(const std::string& name, const std::string& header, char weight = 1) {
    std::ofstream out(dir_ / "model" / name, std::ios::binary);
    const uint64_t size = header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((size >> (8 * i)) & 0xFF));
    out << header << std::string(8, weight);
  }
  // Records the generation and method descriptions in `identity`.
  static std::string fingerprint(RunIdentity& identity, int max_new_tokens = 32) {
    loom::GenerationSettings generation;
    generation.max_new_tokens = max_new_tokens;
    return identity.row_fingerprint(generation, {}, RunIdentity::prompt_hash({1, 2, 3}, {}, "", "", "[\"a\"]", "{}"));
  }
  static std::string fingerprint(RunIdentity&& identity) { return fingerprint(identity); }

  fs::path dir_;
  JobConfig job_;
};

TEST_F(RunIdentityTest, IsDeterministic) {
  EXPECT_EQ(fingerprint(RunIdentity::of_job(job_)), fingerprint(RunIdentity::of_job(job_)));
  const auto parts = parse_fingerprint(fingerprint(RunIdentity::of_job(job_)));
  ASSERT_EQ(parts.size(), 6u);
  for (const char* component : kFingerprintComponents) EXPECT_EQ(parts.count(component), 1u) << component;
  EXPECT_EQ(parts.at("model").size(), 16u);
}

TEST_F(RunIdentityTest, ModelChangesWithConfigWeightsHeaderAndDtypeButNotWeightBytes) {
  const std::string base = fingerprint(RunIdentity::of_job(job_));
  write_safetensors("model.safetensors", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 7);
  EXPECT_EQ(fingerprint(RunIdentity::of_job(job_)), base) << "weights are not hashed, only names, sizes, headers";
  write_safetensors("model.safetensors", R"({"w": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]}})");
  EXPECT_EQ(changed_components(base, fingerprint(RunIdentity::of_job(job_))), std::vector<std::string>{"model"});
  write_safetensors("model.safetensors", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})");
  write("config.json", R"({"hidden_size": 128, "num_hidden_layers": 2})");
  EXPECT_EQ(changed_components(base, fingerprint(RunIdentity::of_job(job_))), std::vector<std::string>{"model"});
  write("config.json", R"({"hidden_size": 64, "num_hidden_layers": 2})");
  job_.model.dtype = "bfloat16";
  EXPECT_EQ(changed_components(base, fingerprint(RunIdentity::of_job(job_))), std::vector<std::string>{"model"});
}

TEST_F(RunIdentityTest, TokenizerChangesWithItsFilesAndTheChatTemplate) {
  const std::string base = fingerprint(RunIdentity::of_job(job_));
  write("tokenizer_config.json", R"({"chat_template": "{{ other }}"})");
  EXPECT_EQ(changed_components(base, fingerprint(RunIdentity::of_job(job_))), std::vector<std::string>{"tokenizer"});
  write("tokenizer_config.json", R"({"chat_template": "{{ messages }}"})");
  job_.model.chat_template = "chatml";
  EXPECT_EQ(changed_components(base, fingerprint(RunIdentity::of_job(job_))), std::vector<std::string>{"tokenizer"});
}

TEST_F(RunIdentityTest, GenerationMethodAndPromptAreRowComponents) {
  RunIdentity identity = RunIdentity::of_job(job_);
  const std::string base = fingerprint(identity);
  EXPECT_EQ(changed_components(base, fingerprint(identity, 64)), std::vector<std::string>{"generation"});
  loom::GenerationSettings generation;
  loom::MethodSpec snapkv{"snapkv", R"({"budget": 0.5})", "snapkv@0.5"};
  const std::string prompt = RunIdentity::prompt_hash({1, 2, 3}, {}, "", "", "[\"a\"]", "{}");
  EXPECT_EQ(changed_components(base, identity.row_fingerprint(generation, snapkv, prompt)),
            std::vector<std::string>{"method"});
  const std::string other_prompt = RunIdentity::prompt_hash({1, 2, 4}, {}, "", "", "[\"a\"]", "{}");
  EXPECT_EQ(changed_components(base, identity.row_fingerprint(generation, {}, other_prompt)),
            std::vector<std::string>{"prompt"});
  const std::string other_reference = RunIdentity::prompt_hash({1, 2, 3}, {}, "", "", "[\"b\"]", "{}");
  EXPECT_NE(prompt, other_reference);
  generation.prefill_chunk_size = 128;  // speed only: not part of the identity
  EXPECT_EQ(identity.row_fingerprint(generation, {}, prompt), base);
  EXPECT_EQ(changed_components("", base).size(), 6u);
}

loom::results::ResultRow stored_row(const std::string& key, const std::string& fingerprint) {
  loom::results::ResultRow row;
  row.sample_key = key;
  row.fingerprint = fingerprint;
  return row;
}

TEST_F(RunIdentityTest, ResumeWithAnotherModelIsRefusedNamingItOldAndNew) {
  RunIdentity old_identity = RunIdentity::of_job(job_);
  const std::string old_fingerprint = fingerprint(old_identity);
  write("config.json", R"({"hidden_size": 128, "num_hidden_layers": 2})");
  RunIdentity new_identity = RunIdentity::of_job(job_);
  const std::string new_fingerprint = fingerprint(new_identity);
  try {
    check_run_identity("results/x.h5", {stored_row("a", old_fingerprint)}, {{"a", new_fingerprint}}, new_identity,
                       old_identity.descriptions());
    ADD_FAILURE() << "not refused";
  } catch (const loom::results::OutputConflict& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("results/x.h5"), std::string::npos) << message;
    EXPECT_NE(message.find("model of 1 rows changed"), std::string::npos) << message;
    EXPECT_NE(message.find(old_identity.model()), std::string::npos) << message;
    EXPECT_NE(message.find(new_identity.model()), std::string::npos) << message;
    EXPECT_NE(message.find("resume: false"), std::string::npos) << message;
    EXPECT_NE(message.find("another output path"), std::string::npos) << message;
    EXPECT_EQ(message.find("generation"), std::string::npos) << message;
  }
}

TEST_F(RunIdentityTest, ResumeWithOtherGenerationSettingsIsRefusedNamingThem) {
  RunIdentity identity = RunIdentity::of_job(job_);
  RunIdentity old_identity = identity;
  const std::string old_fingerprint = fingerprint(old_identity, 16);
  const std::string new_fingerprint = fingerprint(identity, 32);
  try {
    check_run_identity("x.h5", {stored_row("a", old_fingerprint)}, {{"a", new_fingerprint}}, identity,
                       old_identity.descriptions());
    ADD_FAILURE() << "not refused";
  } catch (const loom::results::OutputConflict& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("generation of 1 rows changed"), std::string::npos) << message;
    EXPECT_NE(message.find("stored max_new_tokens=16"), std::string::npos) << message;
    EXPECT_NE(message.find("this job max_new_tokens=32"), std::string::npos) << message;
  }
}

TEST_F(RunIdentityTest, MatchingRowsAndRowsOfOtherBenchmarksWithTheSameModelResume) {
  RunIdentity identity = RunIdentity::of_job(job_);
  const std::string same = fingerprint(identity);
  // "b" is not in this job (a benchmark since removed): only model, tokenizer and version must match.
  const std::string other_generation = fingerprint(identity, 99);
  EXPECT_NO_THROW(check_run_identity("x.h5", {stored_row("a", same), stored_row("b", other_generation)},
                                     {{"a", same}}, identity, {}));
  write("config.json", R"({"hidden_size": 128})");
  RunIdentity other_model = RunIdentity::of_job(job_);
  EXPECT_THROW(check_run_identity("x.h5", {stored_row("b", other_generation)}, {{"a", fingerprint(other_model)}},
                                  other_model, {}),
               loom::results::OutputConflict);
  EXPECT_THROW(check_run_identity("x.h5", {stored_row("a", "")}, {{"a", same}}, identity, {}),
               loom::results::OutputConflict);
}

TEST(FailureSummary, CountsTheJobsFailedRowsAndRanksReasons) {
  std::vector<loom::results::ResultRow> rows;
  auto add = [&](const std::string& key, const std::string& status, const std::string& error, int attempts) {
    loom::results::ResultRow row;
    row.sample_key = key;
    row.status = status;
    row.error = error;
    row.attempts = attempts;
    rows.push_back(row);
  };
  add("a", "failed", "out of memory", 1);
  add("b", "failed", "out of memory", 3);
  add("c", "failed", "prompt too long", 1);
  add("d", "ok", "", 1);
  add("other-job", "failed", "x", 1);
  const std::map<std::string, std::string> keys = {{"a", ""}, {"b", ""}, {"c", ""}, {"d", ""}};
  const FailureSummary summary = summarize_failures(rows, keys, 3);
  EXPECT_EQ(summary.rows, 4);
  EXPECT_EQ(summary.failed, 3);
  EXPECT_EQ(summary.exhausted, 1);
  ASSERT_EQ(summary.reasons.size(), 2u);
  EXPECT_EQ(summary.reasons[0].first, "out of memory");
  EXPECT_EQ(summary.reasons[0].second, 2);
  const std::string text = describe_failures(summary, 3);
  EXPECT_NE(text.find("3 of 4 rows failed"), std::string::npos) << text;
  EXPECT_NE(text.find("2 x out of memory"), std::string::npos) << text;
  EXPECT_NE(text.find("retry 2 of them"), std::string::npos) << text;
  EXPECT_TRUE(describe_failures(summarize_failures({}, keys, 3), 3).empty());
}

}  // namespace
