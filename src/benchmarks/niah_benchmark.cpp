// Needle In A Haystack (gkamradt/LLMTest_NeedleInAHaystack): the essays are concatenated (name order) until they
// cover the longest length, cut to each context length in model tokens, and the needle is inserted at each depth:
// at int(len·depth/100) tokens, moved back to just after the previous "." token (depth 100 appends). The context
// budget is the length minus `final_context_length_buffer` (official: 200; default "auto" = the prompt's other
// tokens plus max_new_tokens, so the whole sequence lands on the target length). One sample per (length, depth).
// Options: needle, retrieval_question, answer, depths | document_depth_percent_{min,max,intervals,interval_type},
// context_lengths_{min,max,num_intervals} (when the job gives no lengths), final_context_length_buffer.
// num_samples (when set) keeps that many depths per length, evenly spread over the depth list.
#include "common/error.h"
#include "common/parallel_for.h"
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/essay_haystack.h"
#include "benchmarks/prompt_builder.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

namespace loom::benchmarks {
namespace {

std::vector<double> linspace(double lo, double hi, int64_t n) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(n == 1 ? lo : lo + (hi - lo) * static_cast<double>(i) / (n - 1));
  return v;
}

// Token ids that end a sentence. gkamradt matches only the ids of encode("."); BPE vocabularies also merge the
// period with what follows (".\n", ".\n\n", ".\""), so every id in the haystack whose text, right-trimmed of
// whitespace and quotes, ends with "." counts too: the needle lands on the nearest sentence break before the depth.
std::vector<int32_t> sentence_end_tokens(const text::Tokenizer& tok, const std::vector<int32_t>& haystack, int64_t n) {
  std::vector<int32_t> ids = tok.encode(".", false);
  std::vector<int32_t> seen(haystack.begin(), haystack.begin() + std::min<int64_t>(n, haystack.size()));
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  for (int32_t id : seen) {
    std::string piece = tok.decode({id}, true);
    while (!piece.empty() && (std::isspace(static_cast<unsigned char>(piece.back())) || piece.back() == '"' ||
                              piece.back() == '\''))
      piece.pop_back();
    if (!piece.empty() && piece.back() == '.') ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

class NiahBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  bool synthetic() const override { return true; }

  std::vector<Sample> expand(const BenchmarkSpec& job_spec, const PromptContext& ctx) const override {
    const BenchmarkSpec spec = with_default_data_dir(job_spec);
    LOOM_CHECK(ctx.tokenizer != nullptr, "NIAH needs the model's tokenizer to cut its haystack");
    const text::Tokenizer& tok = *ctx.tokenizer;
    const TaskConfig& task = *selected_tasks(spec).front();
    const std::string needle = option(spec, &task, "needle", "").get<std::string>();
    const std::string question = option(spec, &task, "retrieval_question", "").get<std::string>();
    const std::string answer = option(spec, &task, "answer", strip(needle)).get<std::string>();
    const std::vector<int64_t> lengths = context_lengths(spec, task);
    std::vector<double> depths = depth_percents(spec, task);
    // num_samples caps the depths per length; the kept ones stay spread over the range (first and last included).
    if (spec.num_samples > 0 && static_cast<size_t>(spec.num_samples) < depths.size()) {
      const auto n = static_cast<size_t>(spec.num_samples);
      std::vector<double> kept;
      for (size_t i = 0; i < n; ++i)
        kept.push_back(depths[n == 1 ? depths.size() / 2 : (i * (depths.size() - 1) + (n - 1) / 2) / (n - 1)]);
      depths = std::move(kept);
    }
    const nlohmann::json buffer_opt = option(spec, &task, "final_context_length_buffer", "auto");
    // Depths outside [0, 100] indexed outside the haystack; an empty or huge length list had no longest length or
    // grew the haystack without bound.
    for (double depth : depths) {
      if (!std::isfinite(depth) || depth < 0.0 || depth > 100.0)
        throw InputError(config().file.string(), task.line, "options.depths",
                         fmt::format("depth percentages in [0, 100], got {}", depth));
    }
    if (lengths.empty() || depths.empty())
      throw InputError(config().file.string(), task.line, lengths.empty() ? "lengths" : "options.depths",
                       "at least one context length and one depth");
    for (int64_t length : lengths) {
      if (length <= 0 || length > (int64_t{1} << 24))
        throw InputError(config().file.string(), task.line, "lengths",
                         fmt::format("context lengths in [1, 16777216] tokens, got {}", length));
    }

    const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
    const std::string essays = load_essay_haystack(spec, option(spec, &task, "essay_json", nullptr));
    std::vector<int32_t> essay_ids = tok.encode(essays, false);
    LOOM_CHECK(!essay_ids.empty(), "the essay haystack is empty");
    std::vector<int32_t> haystack;
    while (static_cast<int64_t>(haystack.size()) < longest) haystack.insert(haystack.end(), essay_ids.begin(), essay_ids.end());
    const std::vector<int32_t> needle_ids = tok.encode(needle, false);
    const std::vector<int32_t> period_ids = sentence_end_tokens(tok, haystack, longest);

    // Each (length, depth) sample is a pure function of the shared haystack: their budgets are found in order, the
    // samples are cut and decoded on ctx.threads threads (common/parallel_for.h), in the serial order.
    std::vector<std::function<Sample()>> makers;
    for (int64_t length : lengths) {
      Sample probe = new_sample(task, spec, length, 0);
      probe.prompt = fill(task, "", question);
      const int64_t overhead = count_input_tokens(probe, ctx);
      const int64_t buffer = buffer_opt.is_number_integer() ? buffer_opt.get<int64_t>()
                                                            : overhead + task.generation.max_new_tokens;
      const int64_t budget = std::max<int64_t>(0, length - buffer);
      for (size_t d = 0; d < depths.size(); ++d) {
        makers.push_back([&, length, budget, d] {
          const double depth = depths[d];
          std::vector<int32_t> context(haystack.begin(), haystack.begin() + std::min<int64_t>(length, haystack.size()));
          if (static_cast<int64_t>(context.size() + needle_ids.size()) > budget)
            context.resize(static_cast<size_t>(std::max<int64_t>(0, budget - static_cast<int64_t>(needle_ids.size()))));
          std::vector<int32_t> out;
          size_t insertion = context.size();
          if (depth < 100.0) {
            insertion = static_cast<size_t>(static_cast<double>(context.size()) * (depth / 100.0));
            while (insertion > 0 &&
                   !std::binary_search(period_ids.begin(), period_ids.end(), context[insertion - 1]))
              --insertion;
          }
          out.assign(context.begin(), context.begin() + static_cast<std::ptrdiff_t>(insertion));
          out.insert(out.end(), needle_ids.begin(), needle_ids.end());
          out.insert(out.end(), context.begin() + static_cast<std::ptrdiff_t>(insertion), context.end());
          const std::string before = tok.decode(std::vector<int32_t>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(insertion)), true);
          const std::string text = tok.decode(out, true);

          Sample s = new_sample(task, spec, length, static_cast<int64_t>(d));
          s.id = fmt::format("niah_{}_{}", length, depth);
          s.prompt = fill(task, text, question);
          s.references = {answer};
          s.metadata["depth_percent"] = depth;
          s.metadata["context_length"] = length;
          s.metadata["needle"] = needle;
          s.metadata["retrieval_question"] = question;  // the judge's {input} (niah_judge)
          s.metadata["needle_token_offset"] = insertion;
          s.metadata["context_tokens"] = out.size();
          s.metadata["needle_char_offset"] = before.size();
          return s;
        });
      }
    }
    return parallel_make(makers, ctx.threads);
  }

 private:
  static std::string fill(const TaskConfig& task, const std::string& context, const std::string& question) {
    return render_template(task.template_text, [&](std::string_view name) -> std::optional<std::string> {
      if (name == "context") return context;
      if (name == "retrieval_question") return question;
      return std::nullopt;
    });
  }

  std::vector<int64_t> context_lengths(const BenchmarkSpec& spec, const TaskConfig& task) const {
    if (!spec.lengths.empty()) return spec.lengths;
    const int64_t lo = option(spec, &task, "context_lengths_min", 1000).get<int64_t>();
    const int64_t hi = option(spec, &task, "context_lengths_max", 16000).get<int64_t>();
    const int64_t n = option(spec, &task, "context_lengths_num_intervals", 35).get<int64_t>();
    std::vector<int64_t> out;
    for (double v : linspace(static_cast<double>(lo), static_cast<double>(hi), n))
      out.push_back(static_cast<int64_t>(std::nearbyint(v)));
    return out;
  }

  std::vector<double> depth_percents(const BenchmarkSpec& spec, const TaskConfig& task) const {
    const nlohmann::json explicit_depths = option(spec, &task, "depths", nullptr);
    if (explicit_depths.is_array()) return explicit_depths.get<std::vector<double>>();
    const double lo = option(spec, &task, "document_depth_percent_min", 0).get<double>();
    const double hi = option(spec, &task, "document_depth_percent_max", 100).get<double>();
    const int64_t n = option(spec, &task, "document_depth_percent_intervals", 35).get<int64_t>();
    const std::string type = option(spec, &task, "document_depth_percent_interval_type", "linear").get<std::string>();
    std::vector<double> out;
    for (double x : linspace(lo, hi, n)) {
      if (type == "sigmoid") {
        // logistic(x, L=100, x0=50, k=.1), rounded to 3 decimals; 0 and 100 kept exact (gkamradt).
        double v = x <= 0.0 ? 0.0 : (x >= 100.0 ? 100.0 : std::round(100.0 / (1.0 + std::exp(-0.1 * (x - 50.0))) * 1000.0) / 1000.0);
        out.push_back(v);
      } else {
        out.push_back(std::nearbyint(x));
      }
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_niah_benchmark(BenchmarkConfig config) {
  return std::make_unique<NiahBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
