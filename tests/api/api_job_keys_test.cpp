// model.backend: openai in a job file: the keys it takes, their defaults, and the error (line, key, words) for a
// missing or malformed base_url, an unset API key variable, tensor parallelism, and API keys without the backend.
#include "common/error.h"
#include "scheduler/job_parser.h"
#include "scheduler/run_identity.h"
#include "support/job_text_test.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace loom::scheduler;

namespace {

const fs::path kRepo = LOOM_SOURCE_DIR;

class ApiJobKeys : public loom::test_support::JobTextTest {
 protected:
  ApiJobKeys() : JobTextTest(kRepo / "tests/api/job.yaml") {}
  // A job on tiny-loom with `model_keys` under model: and `tail` at the end.
  std::string job(const std::string& model_keys, const std::string& tail = "") const {
    return "model:\n  path: " + (kRepo / "models/tiny-loom").string() + "\n" + model_keys +
           "benchmarks:\n  - name: NIAH\n" + tail;
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(ApiJobKeys, KeysAndDefaults) {
  const JobConfig local = parse(job(""));
  EXPECT_EQ(local.model.backend, "local");
  const JobConfig api = parse(job("  backend: openai\n  base_url: http://127.0.0.1:8000/v1\n  model: tiny\n"
                                  "  max_in_flight: 3\n  timeout_s: 2.5\n  max_retries: 0\n"));
  EXPECT_EQ(api.model.backend, "openai");
  EXPECT_EQ(api.model.base_url, "http://127.0.0.1:8000/v1");
  EXPECT_EQ(api.model.api_model, "tiny");
  EXPECT_EQ(api.model.endpoint, "completions");
  EXPECT_EQ(api.model.max_in_flight, 3);
  EXPECT_DOUBLE_EQ(api.model.timeout_s, 2.5);
  EXPECT_EQ(api.model.max_retries, 0);
}

TEST_F(ApiJobKeys, BaseUrlIsRequiredAndAnHttpUrl) {
  auto e = parse_error(job("  backend: openai\n"));
  EXPECT_EQ(e.key(), "model.base_url");
  EXPECT_TRUE(contains(e.what(), "starting with http:// or https://")) << e.what();
  e = parse_error(job("  backend: openai\n  base_url: localhost:8000\n"));
  EXPECT_EQ(e.key(), "model.base_url");
  EXPECT_EQ(e.line(), 4);
  EXPECT_TRUE(contains(e.what(), "got 'localhost:8000'")) << e.what();
}

TEST_F(ApiJobKeys, BadValuesNameTheKey) {
  EXPECT_EQ(parse_error(job("  backend: vllm\n")).key(), "model.backend");
  EXPECT_EQ(parse_error(job("  backend: openai\n  base_url: http://x/v1\n  endpoint: chat\n")).key(),
            "model.endpoint");
  EXPECT_EQ(parse_error(job("  backend: openai\n  base_url: http://x/v1\n  max_in_flight: 0\n")).key(),
            "model.max_in_flight");
  EXPECT_EQ(parse_error(job("  backend: openai\n  base_url: http://x/v1\n  timeout_s: -1\n")).key(),
            "model.timeout_s");
  EXPECT_EQ(parse_error(job("  backend: openai\n  base_url: http://x/v1\n  max_retries: -1\n")).key(),
            "model.max_retries");
}

TEST_F(ApiJobKeys, ApiKeyVariableMustBeSet) {
  unsetenv("LOOM_TEST_NO_SUCH_KEY");
  const auto e = parse_error(job("  backend: openai\n  base_url: http://x/v1\n  api_key_env: LOOM_TEST_NO_SUCH_KEY\n"));
  EXPECT_EQ(e.key(), "model.api_key_env");
  EXPECT_TRUE(contains(e.what(), "LOOM_TEST_NO_SUCH_KEY is not set")) << e.what();
  setenv("LOOM_TEST_KEY", "sk-1", 1);
  EXPECT_EQ(parse(job("  backend: openai\n  base_url: http://x/v1\n  api_key_env: LOOM_TEST_KEY\n")).model.api_key_env,
            "LOOM_TEST_KEY");
}

TEST_F(ApiJobKeys, NoTensorParallelismAndNoApiKeysWithoutTheBackend) {
  auto e = parse_error(job("  backend: openai\n  base_url: http://x/v1\n", "parallel:\n  tensor_parallel: 2\n"));
  EXPECT_EQ(e.key(), "model.backend");
  EXPECT_TRUE(contains(e.what(), "tensor_parallel 1")) << e.what();
  e = parse_error(job("  base_url: http://x/v1\n"));
  EXPECT_EQ(e.key(), "model.base_url");
  EXPECT_TRUE(contains(e.what(), "only with model.backend: openai")) << e.what();
}

// API rows have their own model identity (named by model.model, not by the URL that may move), so a resume never
// mixes them with local rows or with another served model; local rows keep the identity they had.
TEST_F(ApiJobKeys, RunIdentityNamesTheServedModelNotTheUrl) {
  const auto fingerprint = [](const JobConfig& job) {
    RunIdentity identity = RunIdentity::of_job(job);
    return identity.row_fingerprint({}, {}, RunIdentity::prompt_hash({1, 2}, {}, "", "", "[]", "{}"));
  };
  const JobConfig local = parse(job(""));
  JobConfig api = parse(job("  backend: openai\n  base_url: http://127.0.0.1:8000/v1\n  model: tiny\n"));
  const std::string api_print = fingerprint(api);
  EXPECT_EQ(changed_components(fingerprint(local), api_print), std::vector<std::string>{"model"});
  api.model.base_url = "http://127.0.0.1:9999/v1";
  EXPECT_EQ(fingerprint(api), api_print);
  api.model.api_model = "other";
  EXPECT_EQ(changed_components(api_print, fingerprint(api)), std::vector<std::string>{"model"});
}

}  // namespace
