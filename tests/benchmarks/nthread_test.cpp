// NThread generator checks with the fake tokenizer: JSON UUID haystacks that fill the target length, the needle
// at the requested depth, threads whose links lead from the question's key to the answer in the requested
// direction, determinism per seed, and clear errors for bad options.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "benchmarks/prompt_builder.h"
#include "benchmarks/python_random.h"
#include "common/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace loom::benchmarks {
namespace {

struct NThreadFixture : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  PromptContext ctx() const { return PromptContext{&tokenizer, nullptr, 0}; }
  // The haystack of a sample, parsed back (key order is kept in `order`).
  static nlohmann::ordered_json haystack(const Sample& s) {
    const size_t open = s.prompt.find('{');  // after the instruction line
    return nlohmann::ordered_json::parse(s.prompt.substr(open, static_cast<size_t>(s.question_begin) - open));
  }
};

TEST_F(NThreadFixture, SingleNeedleFillsLengthAtDepth) {
  const auto& nthread = registry.get("NThread");
  EXPECT_TRUE(nthread.synthetic());
  EXPECT_EQ(nthread.capability(), "Retrieval");
  const auto spec = testing::make_spec("NThread", {"Single_Needle"}, {2000, 4000}, 5, {});
  const auto samples = nthread.expand(spec, ctx());
  ASSERT_EQ(samples.size(), 10u);
  for (const auto& s : samples) {
    SCOPED_TRACE(s.id);
    const auto hay = haystack(s);
    ASSERT_EQ(static_cast<int64_t>(hay.size()), s.metadata["num_kv_pairs"].get<int64_t>());
    const std::string key = s.metadata["keys"][0].get<std::string>();
    ASSERT_EQ(s.references.size(), 1u);
    EXPECT_EQ(hay.at(key).get<std::string>(), s.references[0]);
    const double depth = s.metadata["needle_depth"].get<double>();
    EXPECT_EQ(depth, std::vector<double>({0, 25, 50, 75, 100})[static_cast<size_t>(s.index)]);
    size_t pos = 0;
    for (auto it = hay.begin(); it != hay.end() && it.key() != key; ++it) ++pos;
    EXPECT_NEAR(100.0 * static_cast<double>(pos) / static_cast<double>(hay.size() - 1), depth, 1.5);
    EXPECT_NE(s.prompt.find("}\nOnly write the corresponding value, nothing else. Key: " + key + "\nCorresponding value:"),
              std::string::npos);
    const int64_t total = static_cast<int64_t>(build_ids(s, ctx(), TruncationRule::kNone).size()) +
                          s.generation.max_new_tokens;
    EXPECT_LE(total, s.target_length);
    EXPECT_GT(total, s.target_length - 40);  // one more pair (about 24 fake tokens) would not fit
    EXPECT_EQ(s.metric, "nthread_all_values");
    EXPECT_EQ(s.generation.max_new_tokens, 1000);
    EXPECT_FALSE(s.generation.do_sample);
  }
  EXPECT_EQ(testing::digest(samples), testing::digest(nthread.expand(spec, ctx())));
  // The haystacks are upstream's fixed UUID streams (random.seed(uuid_seed + repeat)), not the job seed's.
  auto other_seed = spec;
  other_seed.seed = 7;
  EXPECT_EQ(testing::digest(samples), testing::digest(nthread.expand(other_seed, ctx())));
  auto other_stream = spec;
  other_stream.options["uuid_seed"] = 3;
  EXPECT_NE(testing::digest(samples), testing::digest(nthread.expand(other_stream, ctx())));
  other_stream.options["uuid_seed"] = -1;
  EXPECT_THROW(nthread.expand(other_stream, ctx()), InputError);
}

// The haystack as Python's json.dumps writes a dict of the first n (key, value) pairs of a PythonRandom stream.
std::string python_haystack(uint64_t seed, size_t pairs, std::vector<std::pair<std::string, std::string>>* out) {
  PythonRandom rng(seed);
  std::string text = "{";
  for (size_t i = 0; i < pairs; ++i) {
    const std::string key = rng.uuid_from_128_bits(), value = rng.uuid_from_128_bits();
    text += (i ? ", \"" : "\"") + key + "\": \"" + value + "\"";
    if (out) out->emplace_back(key, value);
  }
  return text + "}";
}

// CPython's random.seed / getrandbits(128) / uuid / json.dumps, run by tools/fixtures/parity/nthread_haystack.py,
// against PythonRandom, byte for byte; the row with seed 0 and 25 pairs is the upstream README's Single_Needle
// example (the script asserts it against the README at needle-threading@006f8f5).
TEST(NThreadUpstream, HaystacksEqualCpythonRandomAndTheReadmeExample) {
  std::ifstream in(testing::fixtures_dir() / "nthread_haystacks.jsonl");
  ASSERT_TRUE(in.good());
  std::string line;
  size_t rows = 0, readme = 0;
  while (std::getline(in, line)) {
    const auto row = nlohmann::json::parse(line);
    SCOPED_TRACE(line.substr(0, 60));
    const auto n = row.at("pairs").get<size_t>();
    std::vector<std::pair<std::string, std::string>> pairs;
    const std::string hay = python_haystack(row.at("seed").get<uint64_t>(), n, &pairs);
    EXPECT_EQ(hay.size(), row.at("chars").get<size_t>());
    if (row.at("haystack").is_string()) EXPECT_EQ(hay, row.at("haystack").get<std::string>());
    EXPECT_EQ(hay.substr(0, 400), row.at("head").get<std::string>());
    EXPECT_EQ(hay.substr(hay.size() > 400 ? hay.size() - 400 : 0), row.at("tail").get<std::string>());
    for (const auto& needle : row.at("needles")) {
      const auto at = static_cast<size_t>(std::nearbyint(needle.at("depth").get<double>() / 100.0 * double(n - 1)));
      EXPECT_EQ(pairs[at].first, needle.at("key").get<std::string>());
      EXPECT_EQ(pairs[at].second, needle.at("value").get<std::string>());
    }
    readme += row.at("readme_example").get<bool>();
    ++rows;
  }
  EXPECT_EQ(rows, 24u);
  EXPECT_EQ(readme, 1u);
}

// LOOM-Scope's prompts (loom-scope 0.8: process_data and utils/instruction.py run unchanged by
// tools/fixtures/parity/nthread_haystack.py): instruction[task][0] + "\n" + haystack + "\n" +
// instruction[task][1].format(key=keys). Every task's sample is that, over upstream's UUID stream of its repeat, with
// its keys as the dataset writes them (one key, or a Python list literal); and the Single_Needle sample with 25 pairs
// at depth 50, repeat 0 is the README record's prompt as process_data builds it, byte for byte.
nlohmann::json loomscope_prompt(const std::string& task) {
  std::ifstream in(testing::fixtures_dir() / "nthread_loomscope_prompts.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    if (row.at("task") == task) return row;
  }
  ADD_FAILURE() << "no LOOM-Scope prompt for " << task;
  return {};
}

std::string format_key(std::string text, const std::string& keys) {
  const size_t at = text.find("{key}");
  if (at != std::string::npos) text.replace(at, 5, keys);
  return text;
}

TEST_F(NThreadFixture, PromptsAreLoomScopesOverUpstreamsHaystacks) {
  const auto& nthread = registry.get("NThread");
  for (const std::string task :
       {"Single_Needle", "Multiple_Needles", "Conditional_Needles", "Single_Threads", "Multi_Threads"}) {
    const auto row = loomscope_prompt(task);
    const auto spec = testing::make_spec("NThread", {task}, {4000}, 7, {});
    for (const auto& s : nthread.expand(spec, ctx())) {
      SCOPED_TRACE(s.id);
      const auto n = s.metadata["num_kv_pairs"].get<size_t>();
      const auto repeat = s.metadata["repeat_number"].get<uint64_t>();
      EXPECT_EQ(repeat, task == "Single_Needle" ? static_cast<uint64_t>(s.index) / 5 : static_cast<uint64_t>(s.index));
      std::vector<std::pair<std::string, std::string>> pairs;
      std::string hay = python_haystack(repeat, n, &pairs);
      const auto keys = s.metadata["keys"].get<std::vector<std::string>>();
      std::string key_text;
      if (task == "Multiple_Needles" || task == "Multi_Threads") {
        key_text = "[";
        for (size_t k = 0; k < keys.size(); ++k) key_text += (k ? ", '" : "'") + keys[k] + "'";
        key_text += "]";
      } else {
        key_text = keys.at(0);
      }
      if (task == "Single_Needle") {
        const double depth = std::vector<double>({0, 25, 50, 75, 100})[static_cast<size_t>(s.index) % 5];
        const auto& [key, value] = pairs[static_cast<size_t>(std::nearbyint(depth / 100.0 * double(n - 1)))];
        EXPECT_EQ(keys.at(0), key);
        EXPECT_EQ(s.references, std::vector<std::string>({value}));
      }
      if (task == "Conditional_Needles" || task == "Single_Threads" || task == "Multi_Threads") {
        // Marked keys and thread links rewrite some pairs of the stream (the other tests check those): take the
        // haystack the prompt holds, which has the stream's length.
        const size_t open = row.at("instruction")[0].get<std::string>().size() + 1;
        hay = s.prompt.substr(open, static_cast<size_t>(s.question_begin) - open);
        EXPECT_EQ(hay.size(), python_haystack(repeat, n, nullptr).size());
      }
      EXPECT_EQ(s.prompt, row.at("instruction")[0].get<std::string>() + "\n" + hay + "\n" +
                              format_key(row.at("instruction")[1].get<std::string>(), key_text));
    }
  }
  // The README record: 25 pairs, depth 50 (sample 2), repeat 0, found by sizing the target length.
  const auto row = loomscope_prompt("Single_Needle");
  bool found = false;
  for (int64_t length = 1400; length <= 2000 && !found; ++length) {
    const auto spec = testing::make_spec("NThread", {"Single_Needle"}, {length}, 3, {});
    const auto samples = nthread.expand(spec, ctx());
    if (samples.at(2).metadata["num_kv_pairs"].get<int64_t>() != 25) continue;
    found = true;
    EXPECT_EQ(samples[2].prompt, row.at("prompt").get<std::string>());
    EXPECT_EQ(samples[2].references, std::vector<std::string>({"1759edc3-72ae-2244-8b01-63c1cd9d2b7d"}));
  }
  EXPECT_TRUE(found) << "no length in [1400, 2000] gives 25 pairs";
}

TEST_F(NThreadFixture, ThreadsLeadFromKeyToAnswerInDirection) {
  const auto& nthread = registry.get("NThread");
  for (const std::string direction : {"forward", "backward"}) {
    auto spec = testing::make_spec("NThread", {"Single_Threads"}, {3000}, 4, {});
    spec.options["thread_direction"] = direction;
    spec.options["thread_length"] = 5;
    for (const auto& s : nthread.expand(spec, ctx())) {
      SCOPED_TRACE(s.id + " " + direction);
      const auto hay = haystack(s);
      std::vector<std::string> order;
      for (auto it = hay.begin(); it != hay.end(); ++it) order.push_back(it.key());
      std::string at = s.metadata["keys"][0].get<std::string>();
      std::vector<size_t> positions;
      while (hay.contains(at)) {
        positions.push_back(static_cast<size_t>(std::find(order.begin(), order.end(), at) - order.begin()));
        at = hay.at(at).get<std::string>();
      }
      EXPECT_EQ(positions.size(), 5u);
      EXPECT_EQ(positions, s.metadata["needle_positions"].get<std::vector<size_t>>());
      EXPECT_TRUE(direction == "forward" ? std::is_sorted(positions.begin(), positions.end())
                                         : std::is_sorted(positions.rbegin(), positions.rend()));
      EXPECT_EQ(s.references, std::vector<std::string>{at});
      EXPECT_EQ(s.metadata["thread_direction"], direction);
    }
  }
}

TEST_F(NThreadFixture, MultiThreadsFollowEveryThread) {
  const auto& nthread = registry.get("NThread");
  auto spec = testing::make_spec("NThread", {"Multi_Threads"}, {4000}, 3, {});
  spec.options["num_threads"] = 3;
  spec.options["thread_direction"] = "backward";
  for (const auto& s : nthread.expand(spec, ctx())) {
    SCOPED_TRACE(s.id);
    const auto hay = haystack(s);
    const auto keys = s.metadata["keys"].get<std::vector<std::string>>();
    ASSERT_EQ(keys.size(), 3u);
    ASSERT_EQ(s.references.size(), 3u);
    for (size_t t = 0; t < keys.size(); ++t) {
      std::string at = keys[t];
      int links = 0;
      for (; hay.contains(at); ++links) at = hay.at(at).get<std::string>();
      EXPECT_EQ(links, 3);
      EXPECT_EQ(at, s.references[t]);
    }
    EXPECT_EQ(s.metadata["needle_positions"].size(), 9u);
    EXPECT_NE(s.prompt.find("Keys:['" + keys[0] + "', '" + keys[1] + "', '"), std::string::npos);
  }
}

TEST_F(NThreadFixture, MultipleNeedlesAnswerEveryValue) {
  const auto& nthread = registry.get("NThread");
  auto spec = testing::make_spec("NThread", {"Multiple_Needles"}, {3000}, 3, {});
  spec.options["num_needles"] = 4;
  for (const auto& s : nthread.expand(spec, ctx())) {
    const auto hay = haystack(s);
    const auto keys = s.metadata["keys"].get<std::vector<std::string>>();
    ASSERT_EQ(keys.size(), 4u);
    ASSERT_EQ(s.references.size(), 4u);
    for (size_t k = 0; k < keys.size(); ++k) EXPECT_EQ(hay.at(keys[k]).get<std::string>(), s.references[k]);
    EXPECT_NE(s.prompt.find("Keys: ['" + keys[0] + "', '"), std::string::npos);
  }
}

TEST_F(NThreadFixture, ConditionalNeedlesMarkTheirKeys) {
  const auto& nthread = registry.get("NThread");
  auto spec = testing::make_spec("NThread", {"Conditional_Needles"}, {3000}, 3, {});
  spec.options["num_needles"] = 3;
  spec.options["conditional_character"] = "&";
  for (const auto& s : nthread.expand(spec, ctx())) {
    SCOPED_TRACE(s.id);
    const auto hay = haystack(s);
    std::vector<std::string> marked_values;
    for (auto it = hay.begin(); it != hay.end(); ++it) {
      if (it.key().find('&') == std::string::npos) continue;
      EXPECT_EQ(it.key().size(), 36u);
      EXPECT_EQ(std::count(it.key().begin(), it.key().end(), '-'), 4);
      marked_values.push_back(it.value().get<std::string>());
    }
    std::vector<std::string> refs = s.references;
    std::sort(refs.begin(), refs.end());
    std::sort(marked_values.begin(), marked_values.end());
    EXPECT_EQ(refs, marked_values);
    EXPECT_EQ(refs.size(), 3u);
    EXPECT_NE(s.prompt.find("that contain the character '&'"), std::string::npos);
  }
  spec.options["conditional_character"] = "a";
  EXPECT_THROW(nthread.expand(spec, ctx()), InputError);
}

TEST_F(NThreadFixture, BadOptionsAndShortLengthsAreInputErrors) {
  const auto& nthread = registry.get("NThread");
  auto spec = testing::make_spec("NThread", {"Single_Threads"}, {2000}, 1, {});
  spec.options["thread_direction"] = "sideways";
  EXPECT_THROW(nthread.expand(spec, ctx()), InputError);
  spec.options.erase("thread_direction");
  spec.options["thread_length"] = 0;
  EXPECT_THROW(nthread.expand(spec, ctx()), InputError);
  auto tiny = testing::make_spec("NThread", {"Single_Needle"}, {1010}, 1, {});
  EXPECT_THROW(nthread.expand(tiny, ctx()), InputError);  // 1000 new tokens leave no room for a pair
  auto depth = testing::make_spec("NThread", {"Single_Needle"}, {2000}, 1, {});
  depth.options["depths"] = {120};
  EXPECT_THROW(nthread.expand(depth, ctx()), InputError);
}

}  // namespace
}  // namespace loom::benchmarks
