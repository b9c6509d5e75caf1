// NoLiMa (adobe-research/NoLiMa @ 7532e4e), generated as evaluation/run_tests.py + async_evaluate.py build it:
//  * a task is a needle set (<data_dir>/needlesets/<task>.json, or option `needle_set`): a JSON list of experiments
//    {id, system_prompt, needle, questions{type: text}, tests{test_id: {input_args, gold_answers?}},
//    character_set?, distractors{type: text}?, task_template?}; each (experiment, question type, test) is one test
//    named <id>_<test_id>_<type>, its needle and question filled with input_args ({1}, {2}, ...; the question from
//    the unfilled text for each argument, as upstream's loop does);
//  * haystacks: the *.txt books of option `haystack_dir` (default <data_dir>/haystack/rand_shuffle), name order;
//  * per (book number b, test): np.random.seed(base_seed + int(id[:4]) + b); per depth of
//    linspace(document_depth_percent_min, _max, _intervals) in order: {CHAR} in the needle draws a character
//    (np.random.choice(character_set)) that fills the needle and the question and is the gold answer; else the
//    test's gold_answers; the needle is placed in a window of `length` book tokens (book_haystack.h; a distractor,
//    if the set has one, draws its depth next);
//  * prompt = the task template (the experiment's task_template, else the YAML's = upstream DEFAULT_TASK_TEMPLATE)
//    with {haystack} and {question} (Python str.format); system prompt "You are a helpful assistant" (the default
//    system prompt upstream's API connector sends).
// Options: needle_set, haystack_dir, document_depth_percent_{min,max,intervals}, shift, static_depth, base_seed,
// metric (EM | contains | lastline_EM | lastline_contains → nolima_em, ...; default: the task's metric).
// Samples are ordered book, test (experiments in file order, question types and tests by key), depth;
// num_samples keeps the first n per (task, length). A length is the haystack size in tokens without the needle, as
// upstream's context_length.
#include "common/error.h"
#include "common/parallel_for.h"
#include "benchmarks/book_haystack.h"
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/data_files.h"
#include "benchmarks/numpy_legacy_rng.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>

namespace loom::benchmarks {
namespace {

struct NeedleTest {
  std::string name;            // <id>_<test_id>_<question type>
  std::string needle;          // input_args filled in; may hold {CHAR}
  std::string question;        // may hold {CHAR}
  std::string distractor;      // empty: none
  std::string task_template;   // empty: the YAML's
  std::vector<std::string> character_set;
  bool has_character_set = false;
  nlohmann::json gold = "";    // the test's gold_answers ("" when absent), list or string
  int64_t seed = 0;            // base_seed + int(id[:4])
  std::string reasoning_type;
};

// Python int() of a short string: optional sign and digits (underscores between digits), surrounding whitespace.
std::optional<int64_t> py_int(const std::string& text) {
  const std::string s = strip(text);
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i >= s.size()) return std::nullopt;
  std::string digits;
  for (; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) digits += s[i];
    else if (s[i] != '_' || digits.empty() || i + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i + 1])))
      return std::nullopt;
  }
  const int64_t v = std::stoll(digits);
  return s[0] == '-' ? -v : v;
}

// The first four code points of a string (Python s[:4]).
std::string first_four(const std::string& s) {
  size_t bytes = 0;
  for (int n = 0; n < 4 && bytes < s.size(); ++n) {
    const auto c = static_cast<unsigned char>(s[bytes]);
    bytes += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  }
  return s.substr(0, std::min(bytes, s.size()));
}

std::string json_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::vector<NeedleTest> read_needle_set(const std::filesystem::path& file, int64_t base_seed) {
  const nlohmann::json doc = read_json(file);
  if (!doc.is_array())
    throw InputError(file.string(), 1, "", "a JSON list of needle experiments (NoLiMa needlesets/*.json)");
  std::vector<NeedleTest> tests;
  for (size_t e = 0; e < doc.size(); ++e) {
    const nlohmann::json& exp = doc[e];
    const std::string where = fmt::format("[{}]", e);
    auto require = [&](const char* key, bool (nlohmann::json::*is)() const noexcept, const char* what) {
      if (!exp.is_object() || !exp.contains(key) || !(exp[key].*is)())
        throw InputError(file.string(), 0, where + "." + key, what);
      return exp[key];
    };
    const std::string id = require("id", &nlohmann::json::is_string, "the experiment id, a string like \"0401\"")
                               .get<std::string>();
    const std::optional<int64_t> id_number = py_int(first_four(id));
    if (!id_number)
      throw InputError(file.string(), 0, where + ".id",
                       fmt::format("an id whose first four characters are a number (upstream int(id[:4])), got '{}'",
                                   id));
    const std::string system_prompt = json_text(require("system_prompt", &nlohmann::json::is_string, "a string"));
    (void)system_prompt;  // upstream sends its API connector's default system prompt instead
    const std::string needle = require("needle", &nlohmann::json::is_string, "the needle text").get<std::string>();
    const nlohmann::json questions = require("questions", &nlohmann::json::is_object,
                                             "an object of question type → question text");
    const nlohmann::json test_map = require("tests", &nlohmann::json::is_object,
                                            "an object of test id → {input_args: [...], gold_answers?}");
    for (const auto& [question_type, question_value] : questions.items()) {
      if (!question_value.is_string())
        throw InputError(file.string(), 0, where + ".questions." + question_type, "a question string");
      const std::string question = question_value.get<std::string>();
      std::string distractor_template;
      if (exp.contains("distractors")) {
        if (!exp["distractors"].is_object() || !exp["distractors"].contains(question_type) ||
            !exp["distractors"][question_type].is_string())
          throw InputError(file.string(), 0, where + ".distractors." + question_type,
                           "a distractor string for every question type");
        distractor_template = exp["distractors"][question_type].get<std::string>();
      }
      for (const auto& [test_id, test] : test_map.items()) {
        const std::string at = where + ".tests." + test_id;
        if (!test.is_object() || !test.contains("input_args") || !test["input_args"].is_array())
          throw InputError(file.string(), 0, at + ".input_args", "a list of argument strings");
        NeedleTest t;
        t.name = id + "_" + test_id + "_" + question_type;
        t.needle = needle;
        t.question = question;
        t.seed = base_seed + *id_number;
        if (test.contains("gold_answers")) t.gold = test["gold_answers"];
        if (exp.contains("task_template")) {
          if (!exp["task_template"].is_string())
            throw InputError(file.string(), 0, where + ".task_template", "a template string");
          t.task_template = exp["task_template"].get<std::string>();
        }
        if (exp.contains("character_set")) {
          t.has_character_set = exp["character_set"].is_array();
          if (t.has_character_set)
            for (const auto& c : exp["character_set"]) t.character_set.push_back(json_text(c));
        }
        if (exp.contains("reasoning_type")) t.reasoning_type = json_text(exp["reasoning_type"]);
        const auto& args = test["input_args"];
        for (size_t a = 0; a < args.size(); ++a) {
          if (!args[a].is_string()) throw InputError(file.string(), 0, at + ".input_args", "argument strings");
          const std::string argument_slot = "{" + std::to_string(a + 1) + "}";
          const std::string arg = args[a].get<std::string>();
          if (question.find(argument_slot) != std::string::npos) t.question = replace_all(question, argument_slot, arg);
          if (t.needle.find(argument_slot) != std::string::npos) t.needle = replace_all(t.needle, argument_slot, arg);
          if (!distractor_template.empty() && distractor_template.find(argument_slot) != std::string::npos)
            t.distractor = replace_all(distractor_template, argument_slot, arg);
        }
        tests.push_back(std::move(t));
      }
    }
  }
  if (tests.empty()) throw InputError(file.string(), 1, "", "a needle set with at least one test");
  return tests;
}

// Python str.format(haystack=..., question=...): {{ and }} are braces; any other field is an error. Returns the
// text and the byte offset just after the inserted haystack (-1 when the template has none).
std::pair<std::string, int64_t> py_format(const std::string& tmpl, const std::string& haystack,
                                          const std::string& question, const std::string& where) {
  std::string out;
  int64_t haystack_end = -1;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    const char c = tmpl[i];
    if (c == '{' && i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const size_t close = tmpl.find('}', i);
      const std::string field = close == std::string::npos ? "" : tmpl.substr(i + 1, close - i - 1);
      if (field == "haystack") {
        out += haystack;
        haystack_end = static_cast<int64_t>(out.size());
      } else if (field == "question") {
        out += question;
      } else {
        throw InputError(where, 0, "task_template",
                         "a template whose only fields are {haystack} and {question} (braces doubled), got {" +
                             field + (close == std::string::npos ? "" : "}"));
      }
      i = close;
    } else if (c == '}') {
      throw InputError(where, 0, "task_template", "a template with single '}' doubled (Python str.format)");
    } else {
      out += c;
    }
  }
  return {out, haystack_end};
}

std::string scorer_for(const std::string& metric, const std::string& file, int line) {
  static const std::map<std::string, std::string> names = {{"EM", "nolima_em"},
                                                           {"contains", "nolima_contains"},
                                                           {"lastline_EM", "nolima_lastline_em"},
                                                           {"lastline_contains", "nolima_lastline_contains"}};
  const auto it = names.find(metric);
  if (it == names.end())
    throw InputError(file, line, "options.metric", "EM, contains, lastline_EM or lastline_contains, got '" + metric + "'");
  return it->second;
}

class NoLiMaBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  bool synthetic() const override { return true; }

  std::vector<Sample> expand(const BenchmarkSpec& spec, const PromptContext& ctx) const override {
    LOOM_CHECK(ctx.tokenizer != nullptr, "NoLiMa needs the model's tokenizer to place its needles");
    const std::string file = config().file.string();
    const std::vector<std::filesystem::path> books = book_files(spec);
    // The books are encoded on ctx.threads threads. Each (task, length, book, needle test) group of samples draws
    // from its own seeded RNG: the listing reads the options and lists the groups in order (with the index of each
    // group's first sample), the groups are made on ctx.threads threads and concatenated in the serial order
    // (common/parallel_for.h). Within a group the depths share the RNG stream, so they stay in order.
    std::vector<std::function<std::unique_ptr<BookHaystack>()>> readers;
    for (const auto& book : books) {
      readers.push_back([&ctx, &book] {
        return std::make_unique<BookHaystack>(*ctx.tokenizer, read_text_file(book), book.string());
      });
    }
    const std::vector<std::unique_ptr<BookHaystack>> haystacks = parallel_make(readers, ctx.threads);
    struct TaskSetup {
      std::vector<NeedleTest> tests;
      std::vector<double> depths;
      int64_t shift = 0;
      double static_depth = -1;
      std::string metric;
    };
    std::vector<std::unique_ptr<TaskSetup>> setups;
    std::vector<std::function<std::vector<Sample>()>> groups;
    std::exception_ptr listing_error;
    try {
      for (const TaskConfig* task : selected_tasks(spec)) {
        auto setup = std::make_unique<TaskSetup>();
        const int64_t base_seed = option(spec, task, "base_seed", 42).get<int64_t>();
        setup->tests = read_needle_set(needle_set_file(spec, *task), base_seed);
        setup->depths = depth_percents(spec, *task);
        setup->shift = option(spec, task, "shift", 0).get<int64_t>();
        setup->static_depth = option(spec, task, "static_depth", -1).get<double>();
        const nlohmann::json metric_opt = option(spec, task, "metric", nullptr);
        setup->metric = metric_opt.is_string() ? scorer_for(metric_opt.get<std::string>(), file, task->line)
                                               : task->metric;
        setups.push_back(std::move(setup));
        const TaskSetup& t = *setups.back();
        for (int64_t length : selected_lengths(spec)) {
          if (length <= 0 || length > (int64_t{1} << 24))
            throw InputError(file, task->line, "lengths",
                             fmt::format("context lengths in [1, 16777216] tokens, got {}", length));
          const size_t limit = sample_limit(spec, haystacks.size() * t.tests.size() * t.depths.size());
          size_t made = 0;
          for (size_t b = 0; b < haystacks.size() && made < limit; ++b) {
            for (const NeedleTest& test : t.tests) {
              if (made >= limit) break;
              const int64_t seed = test.seed + static_cast<int64_t>(b);
              if (seed < 0 || seed > 0xFFFFFFFFLL)
                throw InputError(file, task->line, "options.base_seed",
                                 fmt::format("a seed in [0, 2^32) for np.random.seed, got {} (test {})", seed,
                                             test.name));
              const size_t first = made;
              const size_t count = std::min(t.depths.size(), limit - made);
              made += count;
              groups.push_back([this, &spec, task, &t, &test, &haystacks, &books, b, length, seed, first, count] {
                NumpyLegacyRng rng(static_cast<uint32_t>(seed));
                std::vector<Sample> group;
                for (size_t d = 0; d < count; ++d) {
                  group.push_back(make(spec, *task, test, *haystacks[b], books[b], length, t.depths[d], t.shift,
                                       t.static_depth, rng, static_cast<int64_t>(first + d)));
                  group.back().metric = t.metric;
                }
                return group;
              });
            }
          }
        }
      }
    } catch (...) {
      listing_error = std::current_exception();
    }
    std::vector<Sample> samples;
    for (std::vector<Sample>& group : parallel_make(groups, ctx.threads, listing_error))
      samples.insert(samples.end(), std::make_move_iterator(group.begin()), std::make_move_iterator(group.end()));
    return samples;
  }

 private:
  std::vector<std::filesystem::path> book_files(const BenchmarkSpec& spec) const {
    const nlohmann::json dir_opt = option(spec, nullptr, "haystack_dir", "haystack/rand_shuffle");
    std::filesystem::path dir = dir_opt.is_string() ? dir_opt.get<std::string>() : "haystack/rand_shuffle";
    if (dir.is_relative()) dir = require_data_dir(spec, config().published) / dir;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(dir)) files = list_files(dir, ".txt");
    if (files.empty())
      throw InputError(spec.source_file.empty() ? spec.name : spec.source_file, spec.source_line,
                       "benchmarks[].options.haystack_dir",
                       fmt::format("a folder of haystack books (*.txt); {} has none (published at {})", dir.string(),
                                   config().published));
    return files;
  }

  std::filesystem::path needle_set_file(const BenchmarkSpec& spec, const TaskConfig& task) const {
    const nlohmann::json opt = option(spec, &task, "needle_set", nullptr);
    if (opt.is_string()) {
      std::filesystem::path path = opt.get<std::string>();
      if (path.is_relative() && !spec.data_dir.empty()) path = spec.data_dir / path;
      if (!std::filesystem::is_regular_file(path))
        throw InputError(spec.source_file.empty() ? spec.name : spec.source_file, spec.source_line,
                         "benchmarks[].options.needle_set", "an existing needle-set JSON file; " + path.string() +
                                                               " does not exist");
      return path;
    }
    return require_data_file(spec, "needlesets/" + task.name + ".json", config().published);
  }

  std::vector<double> depth_percents(const BenchmarkSpec& spec, const TaskConfig& task) const {
    const double lo = option(spec, &task, "document_depth_percent_min", 0).get<double>();
    const double hi = option(spec, &task, "document_depth_percent_max", 100).get<double>();
    const int64_t n = option(spec, &task, "document_depth_percent_intervals", 26).get<int64_t>();
    if (n < 1 || n > 100000 || !std::isfinite(lo) || !std::isfinite(hi) || lo < 0 || hi > 100 || lo > hi)
      throw InputError(config().file.string(), task.line, "options.document_depth_percent_intervals",
                       fmt::format("1 or more depths in 0 <= min <= max <= 100, got {} from {} to {}", n, lo, hi));
    // numpy.linspace: start + i · step, the last value exactly `stop`.
    std::vector<double> out;
    const double step = n > 1 ? (hi - lo) / static_cast<double>(n - 1) : 0.0;
    for (int64_t i = 0; i < n; ++i) out.push_back(static_cast<double>(i) * step + lo);
    if (n > 1) out.back() = hi;
    return out;
  }

  Sample make(const BenchmarkSpec& spec, const TaskConfig& task, const NeedleTest& test, const BookHaystack& haystack,
              const std::filesystem::path& book, int64_t length, double depth_percent, int64_t shift,
              double static_depth, NumpyLegacyRng& rng, int64_t index) const {
    const std::string file = config().file.string();
    std::string needle = test.needle, question = test.question, selected;
    const bool uses_char = needle.find("{CHAR}") != std::string::npos;
    if (uses_char) {
      if (!test.has_character_set || test.character_set.empty())
        throw InputError(file, task.line, "character_set",
                         "a non-empty character_set for needle test " + test.name + " (its needle holds {CHAR})");
      selected = test.character_set[static_cast<size_t>(rng.index_below(test.character_set.size()))];
      needle = replace_all(needle, "{CHAR}", selected);
    }
    if (question.find("{CHAR}") != std::string::npos) {
      if (!uses_char)
        throw InputError(file, task.line, "questions",
                         "a question with {CHAR} only where the needle has {CHAR} too (test " + test.name + ")");
      question = replace_all(question, "{CHAR}", selected);
    }
    const double depth = depth_percent / 100;
    const Placement placement =
        test.distractor.empty() ? haystack.place(needle, length, depth, shift, static_depth)
        : static_depth == -1
            ? haystack.place_with_distractor(needle, test.distractor, length, depth, shift, rng)
            : throw InputError(file, task.line, "options.static_depth",
                               "-1 for a needle set with distractors (upstream supports no static depth there)");
    const std::string tmpl = test.task_template.empty() ? task.template_text : test.task_template;
    auto [prompt, haystack_end] = py_format(tmpl, placement.text, question, file);

    Sample s = new_sample(task, spec, length, index);
    s.id = fmt::format("{}_{}_{}_{}", test.name, book.stem().string(), length, depth_percent);
    s.prompt = std::move(prompt);
    s.question_begin = haystack_end;
    if (uses_char) {
      s.references = {selected};
    } else if (test.gold.is_array()) {
      for (const auto& g : test.gold) s.references.push_back(json_text(g));
    } else {
      s.references = {json_text(test.gold)};
      s.metadata["gold_answers_text"] = json_text(test.gold);  // upstream compares with a str: see nolima.cpp
    }
    s.metadata["test_name"] = test.name;
    s.metadata["haystack"] = book.filename().string();
    s.metadata["depth_percent"] = depth_percent;
    s.metadata["context_length"] = length;
    s.metadata["needle"] = needle;
    s.metadata["question"] = question;
    s.metadata["token_depth"] = placement.token_depth;
    if (uses_char) s.metadata["selected_character"] = selected;
    if (placement.static_depth >= 0) s.metadata["static_depth"] = placement.static_depth;
    if (!test.distractor.empty()) {
      s.metadata["distractor"] = test.distractor;
      s.metadata["distractor_depth"] = placement.distractor_depth;
    }
    if (!test.reasoning_type.empty()) s.metadata["reasoning_type"] = test.reasoning_type;
    return s;
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_nolima_benchmark(BenchmarkConfig config) {
  return std::make_unique<NoLiMaBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
