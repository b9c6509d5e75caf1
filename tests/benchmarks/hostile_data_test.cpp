// Benchmark data that once crashed a loader or reached the user as raw library text (issue 14): each case is a
// small file written to a temporary folder, and each must end in samples or in an InputError that names the file
// (and key) in words — never a signal, std::bad_alloc or "[json.exception...]".
#include "fake_tokenizer.h"
#include "test_support.h"

#include "common/error.h"

#include <gtest/gtest.h>

#include <fstream>

namespace loom::benchmarks {
namespace {

namespace fs = std::filesystem;

struct HostileData : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  fs::path dir;

  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("loom_hostile_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  PromptContext ctx() const { return PromptContext{&tokenizer, nullptr, 0}; }
  void write(const std::string& name, const std::string& text) const {
    fs::create_directories((dir / name).parent_path());
    std::ofstream(dir / name, std::ios::binary) << text;
  }
  std::vector<Sample> load(const std::string& name, std::vector<std::string> tasks, std::vector<int64_t> lengths = {},
                           int64_t n = -1) {
    return registry.get(name).expand(testing::make_spec(name, std::move(tasks), std::move(lengths), n, dir), ctx());
  }
  // The InputError text of `fn`, failing the test when it throws anything else or nothing.
  template <class Fn>
  std::string input_error(Fn fn) {
    try {
      fn();
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected an InputError";
    return "";
  }
};

void expect_plain_words(const std::string& message) {
  for (const char* raw : {"json.exception", "std::", "bad_alloc", "vector::", "basic_string", ".cpp:"})
    EXPECT_EQ(message.find(raw), std::string::npos) << raw << " in: " << message;
}

// std::regex("The .+ of") recursed once per character: a 40 KB math_find input overflowed the stack (SIGSEGV).
TEST_F(HostileData, InfiniteBenchMathFindWith40KBInput) {
  const std::string filler(40000, 'x');
  write("math_find.jsonl", nlohmann::json({{"id", 1},
                                           {"context", "[1, 5, 3]"},
                                           {"input", "The " + filler + " of the list is: "},
                                           {"answer", 5}})
                               .dump() +
                               "\n");
  const auto samples = load("InfiniteBench", {"math_find"});
  ASSERT_EQ(samples.size(), 1u);
  // The greedy match runs to the last " of" of the line, lowercased, minus " of".
  EXPECT_EQ(samples[0].prompt.rfind("What is the " + filler + " in the following list?", 0), 0u);
}

// ... and "func_[0-9]+\(-?[0-9]+\)" on a 40 KB code_run input did the same.
TEST_F(HostileData, InfiniteBenchCodeRunWith40KBInput) {
  std::string input(40000, '9');
  input = "func_" + input + " func_12(-7) and func_3(4)";
  write("code_run.jsonl",
        nlohmann::json({{"id", 1}, {"context", "def func_12(x):\n    return x\n"}, {"input", input}, {"answer", -7}})
                .dump() +
            "\n");
  const auto samples = load("InfiniteBench", {"code_run"});
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_NE(samples[0].prompt.find("There is a function called func_12 in the following Python code."),
            std::string::npos);
  EXPECT_NE(samples[0].prompt.find("The value of func_12(-7) is"), std::string::npos);
}

// An input without the computed field: the template's field is reported, not crashed on.
TEST_F(HostileData, InfiniteBenchInputWithoutTheTargetIsAnInputError) {
  write("math_find.jsonl", R"({"id": 1, "context": "[1]", "input": "no target here\nThe\nof", "answer": 1})"
                           "\n");
  const std::string message = input_error([&] { load("InfiniteBench", {"math_find"}); });
  EXPECT_NE(message.find("math_find.jsonl:1"), std::string::npos) << message;
  EXPECT_NE(message.find("prefix"), std::string::npos) << message;
}

// RULER qa_1 on {"data": []} divided by the number of questions (SIGFPE).
TEST_F(HostileData, RulerQaWithNoQuestions) {
  write("squad.json", R"({"data": []})");
  const std::string message = input_error([&] { load("RULER", {"qa_1"}, {1024}, 1); });
  EXPECT_NE(message.find("squad.json"), std::string::npos) << message;
  EXPECT_NE(message.find("at least one answerable question"), std::string::npos) << message;
  write("hotpotqa.json", "[]");
  const std::string hotpot = input_error([&] { load("RULER", {"qa_2"}, {1024}, 1); });
  EXPECT_NE(hotpot.find("hotpotqa.json"), std::string::npos) << hotpot;
}

// Wrong shapes in SQuAD / HotpotQA were json.exception type_error / out_of_range text.
TEST_F(HostileData, RulerQaRecordsOfTheWrongShapeNameTheRecord) {
  write("squad.json", R"({"data": [{"paragraphs": [{"context": "A text.", "qas": [{"question": 7}]}]}]})");
  std::string message = input_error([&] { load("RULER", {"qa_1"}, {1024}, 1); });
  EXPECT_NE(message.find("squad.json"), std::string::npos) << message;
  EXPECT_NE(message.find("data[0].paragraphs[0].qas[0].question"), std::string::npos) << message;
  expect_plain_words(message);
  write("squad.json", R"({"data": [{"title": "no paragraphs"}]})");
  message = input_error([&] { load("RULER", {"qa_1"}, {1024}, 1); });
  EXPECT_NE(message.find("data[0].paragraphs"), std::string::npos) << message;
  write("hotpotqa.json", R"([{"question": "q", "answer": "a", "context": [["title", "not a list"]]}])");
  message = input_error([&] { load("RULER", {"qa_2"}, {1024}, 1); });
  EXPECT_NE(message.find("[0].context[0]"), std::string::npos) << message;
  expect_plain_words(message);
}

// An empty essay never grew the haystack: the size search doubled until std::bad_alloc.
TEST_F(HostileData, RulerEmptyEssay) {
  write("PaulGrahamEssays.json", R"({"text": "  \n "})");
  const std::string message = input_error([&] { load("RULER", {"niah_single_2"}, {1024}, 1); });
  EXPECT_NE(message.find("PaulGrahamEssays.json"), std::string::npos) << message;
  EXPECT_NE(message.find("text"), std::string::npos) << message;
  write("PaulGrahamEssays.json", R"({"text": ""})");
  EXPECT_NE(input_error([&] { load("NIAH", {}, {1024}, 1); }).find("PaulGrahamEssays.json"), std::string::npos);
}

// A data file that is not JSON: the line and the problem in words, no "[json.exception.parse_error.101]".
TEST_F(HostileData, MalformedJsonNamesTheLine) {
  write("squad.json", "{\n  \"data\": [\n    {\"paragraphs\": tru\n");
  const std::string message = input_error([&] { load("RULER", {"qa_1"}, {1024}, 1); });
  EXPECT_NE(message.find("squad.json:3"), std::string::npos) << message;
  EXPECT_NE(message.find("valid JSON"), std::string::npos) << message;
  expect_plain_words(message);
}

// counting_times 0 divided by zero (SIGFPE); max_context_length below it made a step of 0 and never ended.
TEST_F(HostileData, CountingStarsOptionsOutOfRange) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, int64_t>>{
           {"counting_times", 0}, {"counting_times", -3}, {"max_context_length", 5}}) {
    SCOPED_TRACE(key);
    auto spec = testing::make_spec("Counting_Stars", {}, {}, 1, testing::data_dir() / "counting_stars");
    spec.options[key] = value;
    std::string message;
    try {
      registry.get("Counting_Stars").expand(spec, ctx());
    } catch (const InputError& e) {
      message = e.what();
    }
    EXPECT_NE(message.find("options." + key), std::string::npos) << message;
  }
}

// `file: []` took front() of an empty list (SIGSEGV in validate, found by tools/fuzz/fuzz_inputs.py).
TEST_F(HostileData, CustomBenchmarkWithAnEmptyFileList) {
  write("empty.yaml", "name: Empty\nkind: jsonl\ncapability: Retrieval\npublished: here\noptions:\n  file: []\n"
                      "tasks:\n  qa:\n    template: \"{q}\"\n    metric: qa_f1\n    max_new_tokens: 4\n");
  auto spec = testing::make_spec((dir / "empty.yaml").string(), {}, {}, -1, dir);
  const std::string message = input_error([&] { registry.get((dir / "empty.yaml").string()).expand(spec, ctx()); });
  EXPECT_NE(message.find("tasks.qa.file"), std::string::npos) << message;
}

// NIAH depths outside [0, 100] indexed outside the haystack (a negative one: a huge size_t, SIGSEGV).
TEST_F(HostileData, NiahDepthsOutOfRange) {
  for (const double depth : {-5.0, 150.0}) {
    auto spec = testing::make_spec("NIAH", {}, {1024}, -1, testing::data_dir() / "niah");
    spec.options["depths"] = {depth};
    std::string message;
    try {
      registry.get("NIAH").expand(spec, ctx());
    } catch (const InputError& e) {
      message = e.what();
    }
    EXPECT_NE(message.find("options.depths"), std::string::npos) << depth << ": " << message;
  }
}

// A custom benchmark YAML with a 100 000-digit scalar: read as text by a linear scan (std::regex_match recursed).
TEST_F(HostileData, CustomBenchmarkWithAHugeNumericScalar) {
  write("huge.yaml", "name: Huge\nkind: jsonl\ncapability: Retrieval\npublished: here\noptions:\n  file: qa.jsonl\n"
                     "  references: gold\n  metadata:\n    huge: " + std::string(100000, '7') + "\n    float: 1e999\n"
                     "tasks:\n  qa:\n    template: \"{q}\"\n    metric: qa_f1\n    max_new_tokens: 4\n");
  write("qa.jsonl", R"({"q": "what?", "gold": "x"})"
                    "\n");
  auto spec = testing::make_spec((dir / "huge.yaml").string(), {}, {}, -1, dir);
  const auto samples = registry.get((dir / "huge.yaml").string()).expand(spec, ctx());
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].prompt, "what?");
}

}  // namespace
}  // namespace loom::benchmarks
