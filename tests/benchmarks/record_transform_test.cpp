// The record transforms of the jsonl family (src/benchmarks/record_transform.h): their option keys stay jsonl
// options (refused with a suggestion when misspelt), a task switches a transform on only through its options, and
// the InfiniteBench and LIBRA transforms apply their quirks (the loaders test checks them end to end).
#include "benchmarks/benchmark_options.h"
#include "benchmarks/record_transform.h"
#include "common/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace loom::benchmarks {
namespace {

struct TaskOptions {
  BenchmarkSpec spec;
  TaskConfig task;
  BenchmarkConfig config;
  nlohmann::json options = nlohmann::json::object();

  std::vector<std::unique_ptr<RecordTransform>> transforms() {
    task.name = "code_run";
    const TransformContext ctx{spec, task, config, [this](const std::string& key, const nlohmann::json& fallback) {
                                 return options.contains(key) ? options.at(key) : fallback;
                               }};
    return make_record_transforms(ctx);
  }
};

TEST(RecordTransforms, OptionKeysAreJsonlOptionsAndUnique) {
  const std::vector<std::string>& jsonl = option_keys("jsonl");
  std::set<std::string> seen;
  for (const RecordTransformEntry& entry : record_transforms())
    for (const std::string& key : entry.option_keys) {
      EXPECT_TRUE(seen.insert(key).second) << key << " is read by two transforms";
      EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), key), 1) << key;
    }
  // The keys users write today, all still declared.
  for (const char* key : {"file", "length_field", "template_file", "template_key", "length_label", "references",
                          "choice_letter", "label", "derived_fields", "id_field", "metadata_fields", "metadata",
                          "strip_fields", "default_data_dir", "rag_context", "rag_question", "rag_query"})
    EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), key), 1) << key;
  // The 12 keys of the loader itself (3 of them rag's) plus every transform's keys.
  EXPECT_EQ(jsonl.size(), 12u + record_transform_option_keys().size());
}

TEST(RecordTransforms, MisspeltTransformOptionIsRefusedWithASuggestion) {
  EXPECT_NO_THROW(check_option_keys({{"choice_letter", true}, {"template_key", "/x"}}, "jsonl", "my.yaml", 3,
                                    "options"));
  try {
    check_option_keys({{"choice_leter", true}}, "jsonl", "my.yaml", 3, "options");
    FAIL() << "choice_leter accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "options.choice_leter");
    EXPECT_NE(std::string(e.what()).find("did you mean 'choice_letter'?"), std::string::npos) << e.what();
  }
}

TEST(RecordTransforms, OffUnlessATaskOptionSwitchesThemOn) {
  TaskOptions plain;
  EXPECT_TRUE(plain.transforms().empty());
  TaskOptions other_derived;
  other_derived.options = {{"derived_fields", "something_else"}, {"label", false}};
  EXPECT_TRUE(other_derived.transforms().empty());
}

TEST(RecordTransforms, InfiniteBenchDerivedFieldsAndChoiceLetter) {
  TaskOptions t;
  t.options = {{"derived_fields", "infinitebench"}, {"choice_letter", true}, {"label", true}};
  const auto transforms = t.transforms();
  ASSERT_EQ(transforms.size(), 1u);
  const RecordTransform& ib = *transforms.front();
  const nlohmann::json rec = {{"input", "x = func_12(-7) + 1\nThe largest number of the list"},
                              {"options", {"Alice", "Bob"}}};
  EXPECT_EQ(ib.field("func_call", rec), "func_12(-7)");
  EXPECT_EQ(ib.field("func", rec), "func_12");
  EXPECT_EQ(ib.field("prefix", rec), "What is the largest number in the following list?");
  EXPECT_EQ(ib.field("context", rec), std::nullopt);
  EXPECT_EQ(ib.prompt_template("{input}"), "{input}");
  Sample s;
  s.references = {"Bob"};
  ib.on_references("Bob", rec, s);
  EXPECT_EQ(s.references, (std::vector<std::string>{"Bob", "B"}));
  EXPECT_EQ(s.metadata["label"], nlohmann::json({"Bob", "B"}));
}

TEST(RecordTransforms, LibraTemplateFromTheDatasetConfig) {
  const auto dir = std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "benchmarks" / "libra";
  TaskOptions t;
  t.spec.data_dir = dir;
  t.options = {{"template_file", "datasets_config.json"}, {"template_key", "/passkey/instruction"}};
  const auto transforms = t.transforms();
  ASSERT_EQ(transforms.size(), 1u);
  EXPECT_NE(transforms.front()->prompt_template("ignored"), "ignored");
  TaskOptions missing;
  missing.spec.data_dir = dir;
  missing.options = {{"template_file", "datasets_config.json"}, {"template_key", "/no_such_task/instruction"}};
  EXPECT_THROW(missing.transforms(), InputError);
}

}  // namespace
}  // namespace loom::benchmarks

namespace loom::benchmarks {
namespace {

TEST(RecordTransforms, BambooNumberedAndJoinedLists) {
  TaskOptions t;
  t.options = {{"bamboo_numbered", {{"field", "summaries"}, {"first", 1}}},
               {"bamboo_joined", {{"field", "options"}, {"separator", "\t"}}}};
  const auto transforms = t.transforms();
  ASSERT_EQ(transforms.size(), 1u);
  const nlohmann::json rec = {{"summaries", {"one", "two"}}, {"options", {"A. x", "B. y"}}, {"text", "t"}};
  EXPECT_EQ(transforms.front()->field("bamboo_numbered", rec), "[1] ```one```\n[2] ```two```");
  EXPECT_EQ(transforms.front()->field("bamboo_joined", rec), "A. x\tB. y");
  EXPECT_EQ(transforms.front()->field("text", rec), std::nullopt);
  const nlohmann::json not_a_list = {{"summaries", "one"}, {"options", {"A"}}};
  EXPECT_THROW(transforms.front()->field("bamboo_numbered", not_a_list), InputError);
  TaskOptions bad;
  bad.options = {{"bamboo_numbered", "summaries"}};
  try {
    bad.transforms();
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "tasks.code_run.bamboo_numbered");
    EXPECT_NE(std::string(e.what()).find("{field: <list field>, first: <integer>}"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace loom::benchmarks
