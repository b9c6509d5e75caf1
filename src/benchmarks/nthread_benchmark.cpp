// Needle Threading (jonathan-roberts1/needle-threading, LOOM-Scope's NThread), generated: the haystack is a JSON
// object of random UUID key-value pairs written as Python's json.dumps does ({"k": "v", "k": "v"}), and the prompt
// is the task's template around it (LOOM-Scope's instruction texts by default; slots {context}, {key},
// {keys} (JSON list), {keys_repr} (Python list literal), {character}). The UUIDs are upstream's: CPython's
// random seeded with `uuid_seed` + the sample's repeat number, each pair str(uuid.UUID(int=getrandbits(128))) for
// the key then for the value, so a haystack of n pairs is the first 2n UUIDs of that stream (with uuid_seed 0 this
// gives the README's Single_Needle example, 25 pairs at depth 50, byte for byte). The repeat number is index / |depths|
// for single_needle (each repeat visits every depth in one haystack, as the dataset's repeat_number), the index
// otherwise. Each task's `task` option picks the needle layout:
//   single_needle     one key at depth depths[index % n] (pair index round(depth/100·(pairs-1))); answer its value.
//   multiple_needles  `num_needles` keys at random distinct pairs; answer every value.
//   threading         a thread of `thread_length` pairs at random distinct positions, each value the next key,
//                     `thread_direction` forward (links move later in the context) or backward; answer the last value.
//   multi_threading   `num_threads` such threads at once (disjoint pairs); answer every thread's last value.
//   conditional       `num_needles` keys at random pairs get one random hex digit replaced by `conditional_character`;
//                     answer the values of every key holding it.
// The number of pairs is the largest whose whole templated input plus max_new_tokens fits the target length in
// model tokens. The needle positions (all but single_needle's) and conditional marks are drawn from
// DeterministicRng::derive_seed(seed, task, length, index); upstream's own draws are not published.
// Options: task, depths, num_needles, thread_length, thread_direction, num_threads, conditional_character,
// uuid_seed, default_num_samples.
#include "common/error.h"
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/deterministic_rng.h"
#include "common/parallel_for.h"
#include "benchmarks/python_random.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <functional>
#include <memory>

namespace loom::benchmarks {
namespace {

struct Pair {
  std::string key;
  std::string value;
};

std::string json_haystack(const std::vector<Pair>& pairs) {
  std::string out = "{";
  for (size_t i = 0; i < pairs.size(); ++i)
    out += fmt::format("{}\"{}\": \"{}\"", i == 0 ? "" : ", ", pairs[i].key, pairs[i].value);
  return out + "}";
}

struct Layout {
  std::string task;              // single_needle | multiple_needles | threading | multi_threading | conditional
  std::vector<double> depths;    // single_needle
  int64_t num_needles = 2;       // multiple_needles, conditional
  std::string character = "*";   // conditional
  int64_t thread_length = 3;     // threading, multi_threading
  int64_t num_threads = 1;       // multi_threading
  bool forward = true;           // threading
  uint64_t uuid_seed = 0;        // CPython random.seed of repeat 0
};

struct Built {
  std::vector<Pair> pairs;
  std::vector<std::string> keys;    // the question's key(s)
  std::vector<std::string> values;  // the answer value(s)
  std::vector<size_t> positions;    // pair index of each needle (thread order for threading)
  double depth = -1;
};

int64_t needles_of(const Layout& l) {
  if (l.task == "single_needle") return 1;
  if (l.task == "multiple_needles" || l.task == "conditional") return l.num_needles;
  return l.thread_length * (l.task == "multi_threading" ? l.num_threads : 1);
}

// The repeat number whose UUID stream a sample's haystack is made of.
int64_t repeat_of(const Layout& l, int64_t index) {
  return l.task == "single_needle" ? index / static_cast<int64_t>(l.depths.size()) : index;
}

Built build(uint64_t seed, int64_t n, const Layout& l, int64_t index) {
  DeterministicRng rng(seed);
  PythonRandom uuids(l.uuid_seed + static_cast<uint64_t>(repeat_of(l, index)));
  Built b;
  for (int64_t i = 0; i < n; ++i) {
    std::string key = uuids.uuid_from_128_bits();
    b.pairs.push_back({std::move(key), uuids.uuid_from_128_bits()});
  }
  const auto size = static_cast<size_t>(n);
  if (l.task == "single_needle") {
    b.depth = l.depths[static_cast<size_t>(index) % l.depths.size()];
    b.positions = {static_cast<size_t>(std::nearbyint(b.depth / 100.0 * static_cast<double>(size - 1)))};
  } else {
    b.positions = rng.sample_indices(size, static_cast<size_t>(needles_of(l)));
    if (l.task == "threading" || l.task == "multi_threading") {
      // Thread t takes the t-th run of thread_length drawn positions, ordered by the direction.
      const auto len = static_cast<size_t>(l.thread_length);
      for (size_t t = 0; t < b.positions.size(); t += len) {
        const auto first = b.positions.begin() + static_cast<std::ptrdiff_t>(t);
        const auto last = first + static_cast<std::ptrdiff_t>(len);
        std::sort(first, last);
        if (!l.forward) std::reverse(first, last);
        for (size_t j = t; j + 1 < t + len; ++j) b.pairs[b.positions[j]].value = b.pairs[b.positions[j + 1]].key;
        b.keys.push_back(b.pairs[*first].key);
        b.values.push_back(b.pairs[*(last - 1)].value);
      }
      return b;
    }
  }
  for (size_t p : b.positions) {
    if (l.task == "conditional") {
      std::string& key = b.pairs[p].key;
      size_t at = static_cast<size_t>(rng.below(32));
      at += at >= 8 ? (at >= 12 ? (at >= 16 ? (at >= 20 ? 4 : 3) : 2) : 1) : 0;  // skip the dashes
      key.replace(at, 1, l.character);
    }
    b.keys.push_back(b.pairs[p].key);
    b.values.push_back(b.pairs[p].value);
  }
  return b;
}

class NThreadBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  bool synthetic() const override { return true; }

  std::vector<Sample> expand(const BenchmarkSpec& spec, const PromptContext& ctx) const override {
    LOOM_CHECK(ctx.tokenizer != nullptr, "NThread needs the model's tokenizer to size its haystack");
    // Each sample is a pure function of its seed (spec.seed, task, length, index): the listing checks the options
    // and lists them in order; they are made on ctx.threads threads (common/parallel_for.h), in the serial order.
    std::vector<std::unique_ptr<const Layout>> layouts;
    std::vector<std::function<Sample()>> makers;
    std::exception_ptr listing_error;
    try {
      for (const TaskConfig* task : selected_tasks(spec)) {
        layouts.push_back(std::make_unique<const Layout>(read_layout(spec, *task)));
        const Layout& layout = *layouts.back();
        const auto per_length =
            static_cast<size_t>(option(spec, task, "default_num_samples", 10).get<int64_t>());
        for (int64_t length : selected_lengths(spec)) {
          if (length <= 0 || length > (int64_t{1} << 24))
            throw InputError(config().file.string(), task->line, "lengths",
                             fmt::format("context lengths in [1, 16777216] tokens, got {}", length));
          const size_t count = sample_limit(spec, per_length);
          for (size_t i = 0; i < count; ++i) {
            makers.push_back([this, &spec, task, &layout, length, i, &ctx] {
              return make(spec, *task, layout, length, static_cast<int64_t>(i), ctx);
            });
          }
        }
      }
    } catch (...) {
      listing_error = std::current_exception();
    }
    return parallel_make(makers, ctx.threads, listing_error);
  }

 private:
  Layout read_layout(const BenchmarkSpec& spec, const TaskConfig& task) const {
    const std::string file = config().file.string();
    Layout l;
    l.task = option(spec, &task, "task", "").get<std::string>();
    if (l.task != "single_needle" && l.task != "multiple_needles" && l.task != "threading" &&
        l.task != "multi_threading" && l.task != "conditional")
      throw InputError(file, task.line, "options.task",
                       fmt::format("single_needle, multiple_needles, conditional, threading or multi_threading, got "
                                   "'{}'", l.task));
    l.depths = option(spec, &task, "depths", nlohmann::json::array({0, 25, 50, 75, 100})).get<std::vector<double>>();
    if (l.depths.empty())
      throw InputError(file, task.line, "options.depths", "at least one depth percentage");
    for (double d : l.depths)
      if (!std::isfinite(d) || d < 0.0 || d > 100.0)
        throw InputError(file, task.line, "options.depths", fmt::format("depth percentages in [0, 100], got {}", d));
    const nlohmann::json uuid_seed = option(spec, &task, "uuid_seed", 0);
    if (!uuid_seed.is_number_integer() || uuid_seed.get<int64_t>() < 0 ||
        uuid_seed.get<int64_t>() > (int64_t{1} << 40))
      throw InputError(file, task.line, "options.uuid_seed",
                       "an integer in [0, 2^40] (CPython random.seed of the first repeat), got " + uuid_seed.dump());
    l.uuid_seed = uuid_seed.get<uint64_t>();
    l.num_needles = option(spec, &task, "num_needles", 2).get<int64_t>();
    l.thread_length = option(spec, &task, "thread_length", 3).get<int64_t>();
    l.num_threads = option(spec, &task, "num_threads", 1).get<int64_t>();
    l.character = option(spec, &task, "conditional_character", "*").get<std::string>();
    if (l.character.size() != 1 || std::isxdigit(static_cast<unsigned char>(l.character[0])) ||
        l.character[0] == '"' || l.character[0] == '\\' || l.character[0] == '-' ||
        static_cast<unsigned char>(l.character[0]) <= 0x20 || static_cast<unsigned char>(l.character[0]) >= 0x7F)
      throw InputError(file, task.line, "options.conditional_character",
                       "one printable ASCII character other than a hex digit, space, '-', '\"' or '\\', got '" +
                           l.character + "'");
    if (l.num_threads < 1 || l.num_threads > 100)
      throw InputError(file, task.line, "options.num_threads",
                       fmt::format("a count in [1, 100], got {}", l.num_threads));
    const std::string direction = option(spec, &task, "thread_direction", "forward").get<std::string>();
    if (direction != "forward" && direction != "backward")
      throw InputError(file, task.line, "options.thread_direction", "forward or backward, got '" + direction + "'");
    l.forward = direction == "forward";
    if (l.num_needles < 1 || l.num_needles > 1000)
      throw InputError(file, task.line, "options.num_needles",
                       fmt::format("a count in [1, 1000], got {}", l.num_needles));
    if (l.thread_length < 1 || l.thread_length > 1000)
      throw InputError(file, task.line, "options.thread_length",
                       fmt::format("a count in [1, 1000], got {}", l.thread_length));
    return l;
  }

  Sample make(const BenchmarkSpec& spec, const TaskConfig& task, const Layout& layout, int64_t length, int64_t index,
              const PromptContext& ctx) const {
    const uint64_t seed = DeterministicRng::derive_seed(spec.seed, task.name, length, index);
    const int64_t min_pairs = needles_of(layout);
    auto sample_for = [&](int64_t n) {
      const Built b = build(seed, n, layout, index);
      Sample s = new_sample(task, spec, length, index);
      const std::string context = json_haystack(b.pairs);
      std::string keys_list = "[";
      for (size_t k = 0; k < b.keys.size(); ++k) keys_list += fmt::format("{}\"{}\"", k ? ", " : "", b.keys[k]);
      keys_list += "]";
      // Python's str(list): the multi-key tasks' `keys` as LOOM-Scope formats the dataset field into its instruction.
      std::string keys_repr = "[";
      for (size_t k = 0; k < b.keys.size(); ++k) keys_repr += fmt::format("{}'{}'", k ? ", " : "", b.keys[k]);
      keys_repr += "]";
      s.prompt = render_template(task.template_text, [&](std::string_view name) -> std::optional<std::string> {
        if (name == "context") return context;
        if (name == "key") return b.keys.front();
        if (name == "keys") return keys_list;
        if (name == "keys_repr") return keys_repr;
        if (name == "character") return layout.character;
        return std::nullopt;
      });
      s.question_begin = static_cast<int64_t>(s.prompt.find(context) + context.size());
      s.id = fmt::format("{}_{}_{}", task.name, length, index);
      s.references = b.values;
      s.metadata["num_kv_pairs"] = n;
      s.metadata["repeat_number"] = repeat_of(layout, index);
      s.metadata["uuid_seed"] = layout.uuid_seed + static_cast<uint64_t>(repeat_of(layout, index));
      s.metadata["keys"] = b.keys;
      s.metadata["needle_positions"] = b.positions;
      if (layout.task == "conditional") s.metadata["conditional_character"] = layout.character;
      if (b.depth >= 0) s.metadata["needle_depth"] = b.depth;
      if (layout.task == "threading" || layout.task == "multi_threading") {
        s.metadata["num_threads"] = b.keys.size();
        s.metadata["thread_length"] = layout.thread_length;
        s.metadata["thread_direction"] = layout.forward ? "forward" : "backward";
      }
      return s;
    };
    const int64_t budget = length - task.generation.max_new_tokens;
    auto fits = [&](int64_t n) { return count_input_tokens(sample_for(n), ctx) <= budget; };
    if (!fits(min_pairs))
      throw InputError(config().file.string(), task.line, "lengths",
                       fmt::format("a length that holds {} key-value pairs plus the question and {} new tokens; {} "
                                   "tokens is too short for task {}",
                                   min_pairs, task.generation.max_new_tokens, length, task.name));
    // Grow an upper bound by doubling, then binary-search the largest haystack that fits.
    int64_t hi = std::max<int64_t>(min_pairs, 16);
    while (fits(hi) && hi < (int64_t{1} << 22)) hi *= 2;
    const int64_t n = largest_fitting(min_pairs, hi, fits);
    return sample_for(n);
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_nthread_benchmark(BenchmarkConfig config) {
  return std::make_unique<NThreadBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
