// The job's `judge:` keys (docs/judge.md): defaults, and the error (line, key, words) for a missing or malformed
// base_url, a missing model, an unknown judged metric, an unset API key variable, and bad limits.
#include "common/error.h"
#include "scheduler/job_parser.h"
#include "support/job_text_test.h"

#include <gtest/gtest.h>

namespace fs = std::filesystem;
using namespace loom::scheduler;

namespace {

const fs::path kRepo = LOOM_SOURCE_DIR;

class JudgeJobKeys : public loom::test_support::JobTextTest {
 protected:
  JudgeJobKeys() : JobTextTest(kRepo / "tests/judge/job.yaml") {}
  std::string job(const std::string& judge) const {
    return "model:\n  path: " + (kRepo / "models/tiny-loom").string() + "\nbenchmarks:\n  - name: NIAH\n" + judge;
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(JudgeJobKeys, KeysAndDefaults) {
  EXPECT_FALSE(parse(job("")).judge.enabled());
  const JobConfig j = parse(job("judge:\n  base_url: http://127.0.0.1:9/v1\n  model: gpt-4o\n"));
  EXPECT_TRUE(j.judge.enabled());
  EXPECT_EQ(j.judge.model, "gpt-4o");
  EXPECT_EQ(j.judge.max_concurrency, 8);
  EXPECT_DOUBLE_EQ(j.judge.timeout_s, 120);
  EXPECT_EQ(j.judge.max_retries, 4);
  EXPECT_TRUE(j.judge.metrics.empty());
  const JobConfig k = parse(job("judge:\n  base_url: https://x/v1\n  model: m\n  max_concurrency: 2\n"
                                "  timeout_s: 1.5\n  max_retries: 0\n  metrics: niah_judge\n"));
  EXPECT_EQ(k.judge.max_concurrency, 2);
  EXPECT_DOUBLE_EQ(k.judge.timeout_s, 1.5);
  EXPECT_EQ(k.judge.max_retries, 0);
  EXPECT_EQ(k.judge.metrics, std::vector<std::string>{"niah_judge"});
}

TEST_F(JudgeJobKeys, ErrorsNameTheKeyAndLine) {
  auto e = parse_error(job("judge:\n  base_url: localhost:8000\n  model: m\n"));
  EXPECT_EQ(e.key(), "judge.base_url");
  EXPECT_EQ(e.line(), 6);
  EXPECT_TRUE(contains(e.what(), "got 'localhost:8000'")) << e.what();
  EXPECT_EQ(parse_error(job("judge:\n  model: m\n")).key(), "judge.base_url");
  EXPECT_EQ(parse_error(job("judge:\n  base_url: http://x/v1\n")).key(), "judge.model");
  e = parse_error(job("judge:\n  base_url: http://x/v1\n  model: m\n  metrics: [niah_judg]\n"));
  EXPECT_EQ(e.key(), "judge.metrics");
  EXPECT_TRUE(contains(e.what(), "did you mean 'niah_judge'")) << e.what();
  EXPECT_EQ(parse_error(job("judge:\n  base_url: http://x/v1\n  model: m\n  max_concurrency: 0\n")).key(),
            "judge.max_concurrency");
  EXPECT_EQ(parse_error(job("judge:\n  base_url: http://x/v1\n  model: m\n  timeot_s: 3\n")).key(), "judge.timeot_s");
  e = parse_error(job("judge:\n  base_url: http://x/v1\n  model: m\n  api_key_env: LOOM_JUDGE_TEST_UNSET_KEY\n"));
  EXPECT_EQ(e.key(), "judge.api_key_env");
  EXPECT_TRUE(contains(e.what(), "LOOM_JUDGE_TEST_UNSET_KEY is not set")) << e.what();
}

// judge.nli (L-CiteEval's NLI endpoint): alone (no chat judge), or beside one; its errors name judge.nli.<key>.
TEST_F(JudgeJobKeys, NliKeys) {
  const JobConfig alone = parse(job("judge:\n  nli:\n    base_url: http://127.0.0.1:9/v1\n    model: true-nli\n"
                                    "  timeout_s: 7\n"));
  EXPECT_FALSE(alone.judge.enabled());
  EXPECT_TRUE(alone.judge.nli.enabled());
  EXPECT_EQ(alone.judge.nli.model, "true-nli");
  EXPECT_DOUBLE_EQ(alone.judge.timeout_s, 7);
  const JobConfig both = parse(job("judge:\n  base_url: http://x/v1\n  model: m\n  nli:\n    base_url: http://y/v1\n"
                                   "    model: n\n"));
  EXPECT_TRUE(both.judge.enabled());
  EXPECT_EQ(both.judge.nli.base_url, "http://y/v1");
  EXPECT_FALSE(parse(job("judge:\n  base_url: http://x/v1\n  model: m\n")).judge.nli.enabled());
  auto e = parse_error(job("judge:\n  nli:\n    base_url: localhost:1\n    model: n\n"));
  EXPECT_EQ(e.key(), "judge.nli.base_url");
  EXPECT_TRUE(contains(e.what(), "got 'localhost:1'")) << e.what();
  EXPECT_EQ(parse_error(job("judge:\n  nli:\n    base_url: http://y/v1\n")).key(), "judge.nli.model");
  EXPECT_EQ(parse_error(job("judge:\n  nli:\n    base_url: http://y/v1\n    model: n\n    modle: x\n")).key(),
            "judge.nli.modle");
  e = parse_error(job("judge:\n  nli:\n    base_url: http://y/v1\n    model: n\n"
                      "    api_key_env: LOOM_NLI_TEST_UNSET_KEY\n"));
  EXPECT_EQ(e.key(), "judge.nli.api_key_env");
  // A chat judge half given beside nli is still checked.
  EXPECT_EQ(parse_error(job("judge:\n  model: m\n  nli:\n    base_url: http://y/v1\n    model: n\n")).key(),
            "judge.base_url");
}

// judge.nli.model without base_url: a local NLI model directory (relative to the job file), its name stored; the
// keys that belong to the other kind are errors naming them.
TEST_F(JudgeJobKeys, NliLocalModelKeys) {
  const JobConfig local = parse(job("judge:\n  nli:\n    model: ../fixtures/nli/tiny-deberta-nli\n"));
  EXPECT_FALSE(local.judge.enabled());
  EXPECT_TRUE(local.judge.nli.enabled());
  EXPECT_TRUE(local.judge.nli.local());
  EXPECT_EQ(local.judge.nli.model, "tiny-deberta-nli");
  EXPECT_EQ(fs::path(local.judge.nli.model_dir), kRepo / "tests/fixtures/nli/tiny-deberta-nli");
  EXPECT_EQ(local.judge.nli.device, "cpu");
  const std::string dir = (kRepo / "tests/fixtures/nli/tiny-deberta-nli").string();
  const JobConfig both =
      parse(job("judge:\n  base_url: http://x/v1\n  model: m\n  nli:\n    model: " + dir + "\n    device: cuda:1\n"));
  EXPECT_TRUE(both.judge.enabled());
  EXPECT_TRUE(both.judge.nli.local());
  EXPECT_EQ(both.judge.nli.device, "cuda:1");
  auto e = parse_error(job("judge:\n  nli:\n    model: ../fixtures/nli/no-such-model\n"));
  EXPECT_EQ(e.key(), "judge.nli.model");
  EXPECT_TRUE(contains(e.what(), "config.json is missing")) << e.what();
  EXPECT_EQ(parse_error(job("judge:\n  nli:\n    model: ../fixtures/nli/tiny-deberta-nli\n    device: tpu\n")).key(),
            "judge.nli.device");
  EXPECT_EQ(parse_error(job("judge:\n  nli:\n    model: ../fixtures/nli/tiny-deberta-nli\n    api_key_env: K\n")).key(),
            "judge.nli.api_key_env");
  EXPECT_EQ(parse_error(job("judge:\n  nli:\n    base_url: http://y/v1\n    model: n\n    device: cpu\n")).key(),
            "judge.nli.device");
  EXPECT_EQ(parse_error(job("judge:\n  nli:\n    device: cpu\n")).key(), "judge.nli.model");
}

}  // namespace
