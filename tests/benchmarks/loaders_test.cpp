// Loaders in each benchmark's published format: the real LEval slices and LongWriter files in data/, small fixtures
// in the official formats for the others (tests/fixtures/benchmarks), missing-file errors, custom benchmark YAMLs.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "common/error.h"
#include "benchmarks/benchmark_config.h"

#include <gtest/gtest.h>

namespace loom::benchmarks {
namespace {

struct LoaderFixture : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  PromptContext ctx() const { return PromptContext{&tokenizer, nullptr, 0}; }
  std::vector<Sample> load(const std::string& name, std::vector<std::string> tasks, const std::filesystem::path& dir,
                           std::vector<int64_t> lengths = {}, int64_t n = -1) {
    return registry.get(name).expand(testing::make_spec(name, std::move(tasks), std::move(lengths), n, dir), ctx());
  }
};

TEST_F(LoaderFixture, RegistryHasTheTwelveLoomBenchBenchmarks) {
  const std::vector<std::string> expected = {"babilong",     "Counting_Stars", "InfiniteBench", "L_CiteEval",
                                             "LEval",        "LIBRA",          "LongBench",     "LongBench_v2",
                                             "LongWriter",   "LVEval",         "NIAH",          "RULER"};
  std::vector<std::string> names = registry.names();
  for (const auto& n : expected) {
    const auto& b = registry.get(n);
    EXPECT_EQ(b.name(), n);
    EXPECT_FALSE(b.tasks().empty()) << n;
  }
  EXPECT_GE(names.size(), expected.size());  // and the others (LongIns, Ada_LEval, ...)
  EXPECT_EQ(registry.get("ruler").capability(), "Retrieval");
  EXPECT_EQ(registry.get("L_CiteEval").capability(), "Faithfulness");
  EXPECT_EQ(registry.get("LongWriter").capability(), "Generation");
  EXPECT_EQ(registry.get("LIBRA").capability(), "Specialization");
  EXPECT_EQ(registry.get("LongBench").tasks().size(), 21u);
  EXPECT_EQ(registry.get("RULER").tasks().size(), 13u);
  EXPECT_EQ(registry.get("LVEval").tasks().size(), 11u);
  EXPECT_EQ(registry.get("InfiniteBench").tasks().size(), 12u);
  EXPECT_EQ(registry.get("LEval").tasks().size(), 20u);
  EXPECT_EQ(registry.get("babilong").tasks().size(), 20u);
}

TEST_F(LoaderFixture, LEvalRealTestSets) {
  const auto samples = load("LEval", {"coursera", "financial_qa", "gov_report_summ", "gsm100"},
                            testing::data_dir() / "slices" / "LEval");
  size_t coursera = 0, financial = 0, gov = 0, gsm = 0;
  for (const auto& s : samples) {
    if (s.task == "coursera") {
      ++coursera;
      EXPECT_EQ(s.metric, "leval_exam");
      EXPECT_EQ(s.answer_prefix, "\nAnswer:");
      EXPECT_NE(s.system_prompt.find("there could be a sinlge correct option or multiple"), std::string::npos);
    } else if (s.task == "financial_qa") {
      ++financial;
      EXPECT_EQ(s.metric, "leval_f1");
      EXPECT_NE(s.prompt.find("\nAnswer this question with "), std::string::npos);
    } else if (s.task == "gov_report_summ") {
      ++gov;
      EXPECT_EQ(s.metric, "leval_rouge1,leval_rouge2,leval_rougel");
    } else {
      ++gsm;
    }
    EXPECT_EQ(s.generation.max_new_tokens, 512);
    const auto b = s.metadata["document_begin"].get<size_t>(), e = s.metadata["document_end"].get<size_t>();
    EXPECT_LE(b, e);
    EXPECT_LE(e, s.prompt.size());
    EXPECT_EQ(s.references.size(), 1u);
  }
  // data/slices/LEval: the first document of each test set (financial_qa: also its first LLM-judged one; gsm100: 3)
  EXPECT_EQ(coursera, 14u);   // every instruction of the document
  EXPECT_EQ(financial, 8u);   // LLM/human-judged rows are skipped (f1 rows only)
  EXPECT_EQ(gov, 1u);
  EXPECT_EQ(gsm, 3u);
  // codeU is published only on HF: the error names the file, where to get it and the key to set.
  try {
    load("LEval", {"codeU"}, testing::data_dir() / "slices" / "LEval");
    FAIL();
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("codeU.jsonl"), std::string::npos) << what;
    EXPECT_NE(what.find("L4NLP/LEval"), std::string::npos) << what;
    EXPECT_NE(what.find("data_dir"), std::string::npos) << what;
    EXPECT_EQ(e.file(), "test_job.yaml");
    EXPECT_EQ(e.line(), 3);
  }
}

TEST_F(LoaderFixture, LEvalSciFiAsksTheFactQuestionAsAFollowUp) {
  const auto samples = load("LEval", {"sci_fi", "coursera"}, testing::data_dir() / "slices" / "LEval");
  size_t sci_fi = 0, rewritten = 0;
  for (const auto& s : samples) {
    if (s.task != "sci_fi") {
      EXPECT_TRUE(s.followup_prompt.empty()) << s.id;
      continue;
    }
    ++sci_fi;
    // Baselines/llama2-chat-test.py: the question with "based on the world described in the document." replaced by
    // the real-world wording (instructions without that exact phrase are asked as they are), raw, no document.
    EXPECT_EQ(s.followup_prompt.find("based on the world described in the document."), std::string::npos);
    if (s.followup_prompt.find("based on the real-world knowledge and facts up until your last training") !=
        std::string::npos) {
      ++rewritten;
    }
    EXPECT_EQ(s.followup_prompt.substr(s.followup_prompt.size() - 8), "\nAnswer:");
    EXPECT_EQ(s.followup_prefix, " [fact: ");
    EXPECT_EQ(s.followup_suffix, "]");
    EXPECT_NE(s.references[0].find("[fact:"), std::string::npos);
    EXPECT_EQ(s.followup_prompt.find(s.prompt.substr(30, 200)), std::string::npos);  // no document text
  }
  EXPECT_GT(sci_fi, 0u);
  EXPECT_GT(rewritten, sci_fi / 2);
}

TEST_F(LoaderFixture, LongWriterRealFiles) {
  const auto samples = load("LongWriter", {}, testing::data_dir() / "LongWriter");
  ASSERT_EQ(samples.size(), 120u + 60u + 48u);
  EXPECT_TRUE(samples[0].metadata["length"].is_number());
  EXPECT_EQ(samples[0].metric, "longwriter_length");
  EXPECT_EQ(samples[0].generation.max_new_tokens, 32768);
  EXPECT_TRUE(samples[0].generation.do_sample);
  EXPECT_FLOAT_EQ(samples[0].generation.temperature, 0.5f);
  // Without a data_dir the repository's data/LongWriter is used.
  EXPECT_EQ(load("LongWriter", {"longwrite_ruler"}, {}).size(), 48u);
}

TEST_F(LoaderFixture, LongBenchAndLongBenchE) {
  const auto dir = testing::fixtures_dir() / "longbench";
  const auto samples = load("LongBench", {"hotpotqa", "trec"}, dir);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].id, "lb1");
  EXPECT_EQ(samples[0].prompt,
            "Answer the question based on the given passages. Only give me the answer and do not output any other "
            "words.\n\nThe following are given passages.\nPassage 1:\nParis hosted the 1900 Summer Olympics.\n\n"
            "Answer the question based on the given passages. Only give me the answer and do not output any other "
            "words.\n\nQuestion: Which city hosted the 1900 games?\nAnswer:");
  EXPECT_EQ(samples[1].references, (std::vector<std::string>{"Shakespeare", "William Shakespeare"}));
  EXPECT_EQ(samples[0].generation.max_new_tokens, 32);
  EXPECT_TRUE(samples[0].use_chat_template);
  EXPECT_FALSE(samples[2].use_chat_template);  // trec: no chat template (pred.py)
  EXPECT_EQ(samples[2].metric, "classification");
  EXPECT_EQ(samples[2].metadata["all_classes"].size(), 3u);
  EXPECT_EQ(samples[2].metadata["dataset"], "trec");
  EXPECT_EQ(samples[2].metadata["first_line"], true);
  auto e = testing::make_spec("LongBench", {"trec"}, {}, -1, dir);
  e.options["file"] = "{task}_e.jsonl";
  const auto lbe = registry.get("LongBench").expand(e, ctx());
  ASSERT_EQ(lbe.size(), 1u);
  EXPECT_EQ(lbe[0].id, "lbe1");
  try {
    load("LongBench", {"qasper"}, dir);
    FAIL();
  } catch (const InputError& err) {
    EXPECT_NE(std::string(err.what()).find("qasper.jsonl"), std::string::npos);
    EXPECT_NE(std::string(err.what()).find("THUDM/LongBench"), std::string::npos);
  }
}

TEST_F(LoaderFixture, LongBenchV2) {
  const auto samples = load("LongBench_v2", {"longbench_v2"}, testing::fixtures_dir() / "longbench_v2");
  ASSERT_EQ(samples.size(), 1u);
  const auto& s = samples[0];
  EXPECT_NE(s.prompt.find("<text>\nThe fee is 2 dollars.\n</text>"), std::string::npos);  // context stripped
  EXPECT_NE(s.prompt.find("(B) 2 dollars\n"), std::string::npos);
  EXPECT_EQ(s.references, std::vector<std::string>{"B"});
  EXPECT_EQ(s.metadata["difficulty"], "easy");
  EXPECT_EQ(s.metadata["length"], "short");
  EXPECT_EQ(s.metric, "longbench_v2_accuracy");
}

// options.cot: true is pred.py --cot: the first prompt is 0shot_cot.txt with max_new_tokens 1024, and the sample
// chains 0shot_cot_ans.txt (no document; the first output's place marked) with the task's max_new_tokens 128.
TEST_F(LoaderFixture, LongBenchV2ChainOfThought) {
  const auto dir = testing::fixtures_dir() / "longbench_v2";
  BenchmarkSpec spec = testing::make_spec("LongBench_v2", {}, {}, -1, dir);
  spec.options = {{"cot", true}};
  const auto samples = registry.get("LongBench_v2").expand(spec, ctx());
  ASSERT_EQ(samples.size(), 2u);  // longbench_v2 and longbench_v2_no_context
  const Sample& s = samples[0].task == "longbench_v2" ? samples[0] : samples[1];
  const Sample& nc = samples[0].task == "longbench_v2" ? samples[1] : samples[0];
  EXPECT_EQ(s.prompt.rfind("Please read the following text and answer the questions below.\n\n<text>\nThe fee is 2 "
                           "dollars.\n</text>", 0), 0u) << s.prompt;
  EXPECT_TRUE(s.prompt.size() > 29 && s.prompt.substr(s.prompt.size() - 29) == "\n\nLet’s think step by step:")
      << s.prompt;
  EXPECT_EQ(s.generation.max_new_tokens, 1024);
  EXPECT_EQ(s.chain_max_new_tokens, 128);
  const std::string expected_answer_prompt =
      "Please read the following text and answer the questions below.\n\nThe text is too long and omitted here.\n\n"
      "What is the correct answer to this question: What is the fee?\nChoices:\n(A) 1 dollar\n(B) 2 dollars\n"
      "(C) 3 dollars\n(D) 4 dollars\n\nLet’s think step by step: " + std::string(kFirstOutputMarker) +
      "\n\nBased on the above, what is the single, most likely answer choice? Format your response as follows: "
      "\"The correct answer is (insert answer here)\".";
  EXPECT_EQ(s.chain_prompt, expected_answer_prompt);
  EXPECT_GE(s.question_begin, 0);  // the CoT prompt still separates its question (query_aware: false)
  // --no_context takes precedence over --cot in pred.py: its own prompt, then the answer prompt.
  EXPECT_EQ(nc.prompt.rfind("What is the correct answer to this question: What is the fee?", 0), 0u) << nc.prompt;
  EXPECT_EQ(nc.chain_prompt, expected_answer_prompt);
  EXPECT_EQ(nc.generation.max_new_tokens, 1024);
  // Off by default: one generation, no chain.
  const auto plain = load("LongBench_v2", {"longbench_v2"}, dir);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_TRUE(plain[0].chain_prompt.empty());
  EXPECT_EQ(plain[0].generation.max_new_tokens, 128);
  // A job's cot_max_new_tokens sets the first budget; a bad cot value names the job's key.
  spec.options = {{"cot", true}, {"cot_max_new_tokens", 512}};
  EXPECT_EQ(registry.get("LongBench_v2").expand(spec, ctx())[0].generation.max_new_tokens, 512);
  spec.options = {{"cot", "yes"}};
  try {
    registry.get("LongBench_v2").expand(spec, ctx());
    ADD_FAILURE() << "cot: \"yes\" accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "benchmarks[].options.cot");
    EXPECT_EQ(e.line(), 3);
  }
}

TEST_F(LoaderFixture, BabilongRawFiles) {
  const auto samples = load("babilong", {"qa1"}, testing::fixtures_dir() / "babilong", {4096});
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_NE(samples[0].prompt.find("<context>\nMary moved to the bathroom. Some filler text. John went to the "
                                   "hallway.\n</context>\n\nQuestion: Where is Mary?"),
            std::string::npos);
  EXPECT_EQ(samples[0].prompt.rfind("I will give you context with the facts about positions", 0), 0u);
  EXPECT_EQ(samples[0].references, std::vector<std::string>{"bathroom"});
  EXPECT_EQ(samples[0].metadata["task"], "qa1");
  EXPECT_EQ(samples[0].metadata["question"], "Where is Mary?");
  EXPECT_EQ(samples[0].target_length, 4096);
  EXPECT_EQ(samples[0].generation.max_new_tokens, 20);
}

// LOOM-Scope keeps one JSON-lines file per task (LOOMBench: babilong/qa1_0k.jsonl,
// L_CiteEval/L-CiteEval-Data_hotpotqa.jsonl); such a folder is a valid data_dir as it is.
TEST_F(LoaderFixture, LoomScopePerTaskFiles) {
  const auto dir = testing::fixtures_dir() / "loomscope";
  const auto babilong = load("babilong", {"qa1"}, dir / "babilong", {0});
  ASSERT_EQ(babilong.size(), 2u);
  EXPECT_EQ(babilong[0].references, std::vector<std::string>{"bathroom"});
  EXPECT_NE(babilong[1].prompt.find("Question: Where is Daniel?"), std::string::npos);
  EXPECT_EQ(babilong[0].target_length, 0);
  const auto cite = load("L_CiteEval", {"hotpotqa"}, dir / "L_CiteEval");
  ASSERT_EQ(cite.size(), 1u);
  EXPECT_NE(cite[0].prompt.find("Passage [1]: Rome was founded by Romulus."), std::string::npos);
  EXPECT_EQ(cite[0].references, std::vector<std::string>{"Romulus"});
  // Neither layout present: the error names the HF layout's file.
  try {
    load("babilong", {"qa2"}, dir / "babilong", {0});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("data/qa2/0k.json"), std::string::npos) << e.what();
  }
}

TEST_F(LoaderFixture, LVEvalLengthFiles) {
  const auto samples = load("LVEval", {"factrecall_en"}, testing::fixtures_dir() / "lveval", {16384});
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].metadata["answer_keywords"], "David Beckham");
  EXPECT_EQ(samples[0].generation.max_new_tokens, 16);
  EXPECT_EQ(samples[0].metric, "lveval_qa_f1");
  EXPECT_NE(samples[0].prompt.find("Question: What is the name of the scientist?\nAnswer:"), std::string::npos);
  try {
    load("LVEval", {"factrecall_en"}, testing::fixtures_dir() / "lveval", {32768});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("factrecall_en_32k.jsonl"), std::string::npos) << e.what();
  }
}

TEST_F(LoaderFixture, InfiniteBenchPromptsAndLabels) {
  const auto dir = testing::fixtures_dir() / "infinitebench";
  const auto samples = load("InfiniteBench", {"passkey", "longbook_choice_eng", "code_run", "math_find"}, dir);
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(samples[0].metadata["label"], "71432");
  EXPECT_EQ(samples[0].metric, "infbench_passkey");
  EXPECT_EQ(samples[0].generation.max_new_tokens, 6);
  EXPECT_EQ(samples[1].references, (std::vector<std::string>{"Bob", "B"}));
  EXPECT_EQ(samples[1].metadata["label"], nlohmann::json({"Bob", "B"}));
  EXPECT_NE(samples[1].prompt.find("Question: Who is the hero?\nA. Alice\nB. Bob\nC. Carol\nD. Dan"), std::string::npos);
  EXPECT_NE(samples[2].prompt.find("There is a function called func_1 in the following Python code."), std::string::npos);
  EXPECT_NE(samples[2].prompt.find("The value of func_1(-3) is"), std::string::npos);
  EXPECT_EQ(samples[2].metadata["label"], -2);
  // create_prompt: the greedy "The .+ of" match, lowercased, minus its last 3 characters (" of").
  EXPECT_EQ(samples[3].prompt, "What is the largest number in the following list?\n\n[1, 5, 3]\n\nYou should answer "
                               "with only one number, no other words. The largest number of the list is: ");
}

TEST_F(LoaderFixture, LCiteEvalOneShotPrompt) {
  const auto samples = load("L_CiteEval", {"hotpotqa"}, testing::fixtures_dir() / "lciteeval");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].prompt,
            "Passage [1]: Demo passage.\nPassage [2]: Other passage.\n\n\nAnswer the question using the passages and "
            "cite them.\n\nQuestion: Demo question?\nAnswer:Demo answer [1].\n\n\n"
            "Passage [1]: Rome was founded by Romulus.\nPassage [2]: Unrelated passage.\n\n\nAnswer the question "
            "using the passages and cite them.\n\nQuestion: Who founded Rome?\nAnswer:");
  EXPECT_EQ(samples[0].references, std::vector<std::string>{"Romulus"});
  EXPECT_EQ(samples[0].generation.max_new_tokens, 200);
  EXPECT_EQ(samples[0].metric, "lciteeval_qa_f1");
}

TEST_F(LoaderFixture, LibraJsonlExportFilteredByLength) {
  const auto samples = load("LIBRA", {"passkey"}, testing::fixtures_dir() / "libra", {4096, 8192});
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].prompt, "Найди ключ доступа.\nшум шум. Ключ доступа 12345. шум.\nВопрос:Какой ключ доступа?\nОтвет:");
  EXPECT_EQ(samples[0].target_length, 4096);
  EXPECT_EQ(samples[1].references, std::vector<std::string>{"777"});
  EXPECT_EQ(samples[0].metric, "libra_em");
  EXPECT_EQ(samples[0].generation.max_new_tokens, 16);
}

TEST_F(LoaderFixture, CustomBenchmarkYaml) {
  const auto path = (testing::fixtures_dir() / "custom" / "my_qa.yaml").string();
  const auto& custom = registry.get(path);
  EXPECT_EQ(custom.name(), "MyQA");
  EXPECT_EQ(custom.capability(), "Retrieval");
  const auto samples = custom.expand(testing::make_spec(path, {}, {}, 1, {}), ctx());
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].id, "m1");
  EXPECT_EQ(samples[0].prompt, "Read the text and answer.\n\nThe sky on Mars is butterscotch.\n\nQuestion: What colour is "
                               "the Martian sky?\nAnswer:");
  EXPECT_EQ(samples[0].references, std::vector<std::string>{"butterscotch"});
  EXPECT_EQ(samples[0].metric, "qa_f1");
  EXPECT_EQ(samples[0].generation.max_new_tokens, 16);
  EXPECT_EQ(&registry.get(path), &custom);  // loaded once

  const auto bad = (testing::fixtures_dir() / "custom" / "bad_field.yaml").string();
  try {
    registry.get(bad).expand(testing::make_spec(bad, {}, {}, 1, {}), ctx());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "question_text");
    EXPECT_EQ(e.line(), 1);
  }
  try {
    registry.get((testing::fixtures_dir() / "custom" / "bad_capability.yaml").string());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "capability");
    EXPECT_EQ(e.line(), 2);
  }
  EXPECT_THROW(registry.get("NoSuchBenchmark"), InputError);
  EXPECT_THROW(registry.get("RULER").expand(testing::make_spec("RULER", {"niah_single_9"}, {1024}, 1, {}), ctx()),
               InputError);
}

}  // namespace
}  // namespace loom::benchmarks
