// RULER (NVIDIA/RULER): 13 synthetic tasks generated at any target length. For each (task, length) the haystack
// size is found by binary search so that the model's input tokens (chat template and answer prefix included) plus
// max_new_tokens stay within the target, as RULER's generators do; each sample then shrinks its haystack by the
// task's increment until it fits. Every sample has its own seed derived from (seed, task, length, index).
#include "common/error.h"
#include "common/parallel_for.h"
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/data_files.h"
#include "benchmarks/essay_haystack.h"
#include "benchmarks/ruler_tasks.h"
#include "benchmarks/text_util.h"
#include "benchmarks/word_source.h"

#include <fmt/format.h>

#include <exception>
#include <functional>
#include <map>
#include <memory>

namespace loom::benchmarks {
namespace {

using ruler::Draft;
using DraftFn = std::function<Draft(int64_t n, DeterministicRng& rng)>;

class RulerBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  bool synthetic() const override { return true; }

  std::vector<Sample> expand(const BenchmarkSpec& job_spec, const PromptContext& ctx) const override {
    const BenchmarkSpec spec = with_default_data_dir(job_spec);
    LOOM_CHECK(ctx.tokenizer != nullptr, "RULER needs the model's tokenizer to size its haystacks");
    std::vector<Sample> samples;
    ruler::Resources res;
    res.noise = option(spec, nullptr, "noise", "").get<std::string>();
    // Every sample is a pure function of the seed, its task, length and index and the loaded resources, given its
    // cell's haystack size (found on the cell's sample 0). Three passes keep the serial order, bytes and first error
    // (common/parallel_for.h): the listing loads the resources (serially: it fills `res` and qa_cache_) and lists
    // the (task, length) cells; the cells' sizes are searched on ctx.threads threads; then every sample of the
    // cells before the first failing search is drawn on ctx.threads threads.
    struct Cell {
      const TaskConfig* task;
      std::string kind;
      nlohmann::json args;
      int64_t length;
      size_t count;
    };
    std::vector<Cell> cells;
    std::exception_ptr listing_error;
    try {
      for (const TaskConfig* task : selected_tasks(spec)) {
        const std::string kind = task->options.value("task", std::string());
        const nlohmann::json args = task->options.value("args", nlohmann::json::object());
        load_resources(spec, *task, kind, args, res);
        if (kind == "qa") qa_data(spec, args.value("dataset", std::string("squad")));
        for (int64_t length : selected_lengths(spec)) {
          const size_t count = sample_limit(spec, static_cast<size_t>(option(spec, task, "default_num_samples", 500).get<int64_t>()));
          cells.push_back(Cell{task, kind, args, length, count});
        }
      }
    } catch (...) {
      listing_error = std::current_exception();
    }
    std::vector<std::function<Sample(size_t)>> draws(cells.size());
    std::vector<std::exception_ptr> search_errors(cells.size());
    parallel_for(cells.size(), ctx.threads, [&](size_t c) {
      const Cell& cell = cells[c];
      try {
        draws[c] = plan_cell(spec, ctx, *cell.task, cell.kind, cell.args, res, cell.length);
      } catch (...) {
        search_errors[c] = std::current_exception();
      }
    });
    size_t planned = 0;  // cells before the first failing search
    while (planned < cells.size() && !search_errors[planned]) ++planned;
    std::vector<std::function<Sample()>> makers;
    for (size_t c = 0; c < planned; ++c)
      for (size_t index = 0; index < cells[c].count; ++index)
        makers.push_back([&draw = draws[c], index] { return draw(index); });
    samples = parallel_make(makers, ctx.threads, planned < cells.size() ? search_errors[planned] : listing_error);
    return samples;
  }

 private:
  void load_resources(const BenchmarkSpec& spec, const TaskConfig& task, const std::string& kind,
                      const nlohmann::json& args, ruler::Resources& res) const {
    const std::string hay = args.value("type_haystack", std::string());
    if (hay == "essay" && res.essay_words.empty()) {
      // The essays come from data_dir when it holds them (RULER's PaulGrahamEssays.json), else from the folder named
      // by the option default_essay_dir (relative to the YAML: the repo's data/niah), next to the QA sets' data_dir.
      BenchmarkSpec essay_spec = spec;
      const nlohmann::json essay_dir = option(spec, &task, "default_essay_dir", nullptr);
      if (!holds_essays(spec.data_dir) && essay_dir.is_string()) {
        std::filesystem::path dir = essay_dir.get<std::string>();
        if (dir.is_relative()) dir = config().file.parent_path() / dir;
        essay_spec.data_dir = dir.lexically_normal();
      }
      const std::string text = load_essay_haystack(essay_spec, option(spec, &task, "essay_json", nullptr));
      // re.sub(r'\s+', " ", essay).split(" ")
      std::string collapsed;
      bool in_space = false;
      for (char c : text) {
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        if (space) {
          if (!in_space) collapsed += ' ';
        } else {
          collapsed += c;
        }
        in_space = space;
      }
      res.essay_words = split_on(collapsed, " ");
    }
    const bool needs_words = kind == "common_words_extraction" || (kind == "niah" && (args.value("type_needle_k", "") == "words" ||
                                                                                    args.value("type_needle_v", "") == "words"));
    if (needs_words && res.words == nullptr) {
      const std::string path = option(spec, &task, "word_list", kDefaultWordList).get<std::string>();
      res.words = &load_word_list(path, config().file.string());
    }
  }

  // Loads on first use; expand() calls it for every qa task before drawing in parallel, so the draws only read.
  const ruler::QaData& qa_data(const BenchmarkSpec& spec, const std::string& dataset) const {
    const std::string key = spec.data_dir.string() + "|" + dataset;
    auto it = qa_cache_.find(key);
    if (it != qa_cache_.end()) return it->second;
    std::filesystem::path file;
    if (dataset == "squad") {
      file = std::filesystem::is_regular_file(spec.data_dir / "dev-v2.0.json")
                 ? spec.data_dir / "dev-v2.0.json"
                 : require_data_file(spec, "squad.json", "SQuAD v2 dev-v2.0.json (rajpurkar.github.io/SQuAD-explorer), saved as squad.json or dev-v2.0.json");
      return qa_cache_.emplace(key, ruler::read_squad(file.string())).first->second;
    }
    file = std::filesystem::is_regular_file(spec.data_dir / "hotpot_dev_distractor_v1.json")
               ? spec.data_dir / "hotpot_dev_distractor_v1.json"
               : require_data_file(spec, "hotpotqa.json", "HotpotQA hotpot_dev_distractor_v1.json (hotpotqa.github.io), saved as hotpotqa.json or hotpot_dev_distractor_v1.json");
    return qa_cache_.emplace(key, ruler::read_hotpotqa(file.string())).first->second;
  }

  // Sizes the haystack of one (task, length) cell on its sample 0 and returns the function that draws its sample
  // `index` at that size (shrunk until it fits). The function refers to spec, ctx, task and res, which must outlive
  // it; it is a pure function of the index, safe to call from several threads at once.
  std::function<Sample(size_t index)> plan_cell(const BenchmarkSpec& spec, const PromptContext& ctx,
                                                const TaskConfig& task, const std::string& kind,
                                                const nlohmann::json& args, const ruler::Resources& res,
                                                int64_t length) const {
    const std::string hay = args.value("type_haystack", std::string("essay"));
    int64_t incremental = 10;
    std::function<Draft(size_t index, int64_t n, DeterministicRng&)> draft;
    if (kind == "niah") {
      ruler::NiahArgs a;
      a.type_haystack = hay;
      a.type_needle_k = args.value("type_needle_k", a.type_needle_k);
      a.type_needle_v = args.value("type_needle_v", a.type_needle_v);
      a.num_needle_k = args.value("num_needle_k", 1);
      a.num_needle_v = args.value("num_needle_v", 1);
      a.num_needle_q = args.value("num_needle_q", 1);
      incremental = hay == "essay" ? 500 : (length < 4096 ? 5 : 25);
      draft = [&task, a, &res](size_t, int64_t n, DeterministicRng& rng) { return ruler::draft_niah(task, a, res, n, rng); };
    } else if (kind == "variable_tracking") {
      const int chains = args.value("num_chains", 1), hops = args.value("num_hops", 4);
      incremental = length < 4096 ? 5 : 10;
      // The in-context example: the largest noise count whose example fits in 500 tokens (RULER's first pass).
      auto icl_text = [&](int64_t n) {
        DeterministicRng r(DeterministicRng::derive_seed(spec.seed, task.name + "/icl", length, 0));
        return ruler::vt_icl_example(task, res, chains, hops, n, r);
      };
      const int64_t icl_n = largest_fitting(5, 200, [&](int64_t n) {
        return static_cast<int64_t>(ctx.tokenizer->encode(icl_text(n), false).size()) <= 500;
      });
      const auto icl = std::make_shared<const std::string>(icl_text(icl_n));
      draft = [&task, &res, chains, hops, icl](size_t, int64_t n, DeterministicRng& rng) {
        return ruler::draft_vt(task, res, chains, hops, *icl, n, rng);
      };
    } else if (kind == "common_words_extraction") {
      const int fcw = args.value("freq_cw", 30), fucw = args.value("freq_ucw", 3), ncw = args.value("num_cw", 10);
      const bool short_ctx = length < 4096;
      draft = [&task, &res, fcw, fucw, ncw, short_ctx](size_t, int64_t n, DeterministicRng& rng) {
        return ruler::draft_cwe(task, res, fcw, fucw, ncw, short_ctx, n, rng);
      };
    } else if (kind == "freq_words_extraction") {
      const double alpha = args.value("alpha", 2.0);
      const int wordlen = args.value("coded_wordlen", 6);
      const int64_t vocab = args.value("vocab_size", int64_t{-1}) > 0
                                ? args.value("vocab_size", int64_t{-1})
                                : std::max<int64_t>(10, (length - task.generation.max_new_tokens) / 50);
      incremental = std::max<int64_t>(1, (length - task.generation.max_new_tokens) / 32);
      draft = [&task, alpha, wordlen, vocab](size_t, int64_t n, DeterministicRng& rng) {
        return ruler::draft_fwe(task, alpha, wordlen, vocab, n, rng);
      };
    } else if (kind == "qa") {
      const ruler::QaData& data = qa_data(spec, args.value("dataset", std::string("squad")));
      draft = [&task, &data](size_t index, int64_t n, DeterministicRng& rng) {
        return ruler::draft_qa(task, data, index, n, rng);
      };
    } else {
      throw InputError(config().file.string(), task.line, "tasks." + task.name + ".task",
                       "one of niah, variable_tracking, common_words_extraction, freq_words_extraction, qa");
    }

    auto make = [&spec, &task, length, draft, this](size_t index, int64_t n) {
      DeterministicRng rng(DeterministicRng::derive_seed(spec.seed, task.name, length, static_cast<int64_t>(index)));
      Draft d = draft(index, n, rng);
      Sample s = new_sample(task, spec, length, static_cast<int64_t>(index));
      s.id = fmt::format("{}_{}_{}", task.name, length, index);
      s.prompt = std::move(d.prompt);
      s.answer_prefix = std::move(d.answer_prefix);
      s.question_begin = d.question_begin;
      s.references = std::move(d.references);
      s.metadata = std::move(d.metadata);
      s.metadata["haystack_size"] = n;
      return s;
    };
    auto total_tokens = [&ctx, &task](const Sample& s) {
      return count_input_tokens(s, ctx) + task.generation.max_new_tokens;
    };

    // Size search on sample 0: grow the haystack geometrically until it overflows, binary-search the last doubling,
    // then probe a few sizes above (a larger haystack redraws positions and values, so fit is not strictly monotone).
    auto fits = [&](int64_t n) { return total_tokens(make(0, n)) <= length; };
    int64_t hi = incremental * 2;
    while (fits(hi)) {
      // Each unit of haystack (word, sentence, document) adds at least one token, so a haystack this large that
      // still fits means the data adds nothing (an empty essay or noise text).
      if (hi > 16 * length + 4096)
        throw InputError(config().file.string(), task.line, "tasks." + task.name,
                         fmt::format("a haystack that grows with its size: {} units still give only {} tokens for a "
                                     "target of {} (is the essay or noise text empty?)",
                                     hi, total_tokens(make(0, hi)), length));
      hi *= 2;
    }
    int64_t best = largest_fitting(std::max(incremental, hi / 2), hi, fits);
    for (int64_t probe = best + 1, misses = 0; misses < 8; ++probe) {
      if (fits(probe)) {
        best = probe;
        misses = 0;
      } else {
        ++misses;
      }
    }

    return [make, total_tokens, best, incremental, length](size_t index) {
      int64_t n = best;
      Sample s = make(index, n);
      int64_t tokens = total_tokens(s);
      // RULER shrinks a sample that overflows by `incremental`; a finer step keeps it near the target.
      const int64_t step = std::max<int64_t>(1, incremental / 50);
      while (tokens > length && n > step) {
        n -= step;
        s = make(index, n);
        tokens = total_tokens(s);
      }
      s.metadata["length"] = tokens;
      return s;
    };
  }

  mutable std::map<std::string, ruler::QaData> qa_cache_;
};

}  // namespace

std::unique_ptr<Benchmark> make_ruler_benchmark(BenchmarkConfig config) {
  return std::make_unique<RulerBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
