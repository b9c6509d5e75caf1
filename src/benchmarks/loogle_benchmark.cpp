// LooGLE (bigai-nlco/LooGLE): each task file <data_dir>/<task>.jsonl (or .json, JSON lines too) is read in either of
// two layouts, told apart per record:
//   LooGLE's own (HF dataset bigainlco/LooGLE, LooGLE-testdata/): one document per line, `input` (the document),
//     `qa_pairs` (the str() of a Python list of {Q, A, S, ...}, read as eval() reads it; "none" for
//     summarization) and `output` (the summary). Every QA pair is a sample, as Prediction/pred_*.py's get_pred.
//   LOOM-Scope's (benchmarks/General/LooGLE): one QA pair per line, `context`, `question`, `answer`.
// Prompt: the task's template with {input} = document and {Q} = question. The reference is the answer text, or
// for shortdep_cloze the JSON object of masked entities. Rows carry metadata `wordnet_dir` (METEOR's database,
// option wordnet_dir), `not_computed` (BERTScore; METEOR too when the WordNet database is missing, then dropped
// from the row's metrics) and `upstream_repetition_penalty` (2.0, which the engine does not apply).
// rag: the document is the context; the query is the question ("Write a summary." for summarization, as
// LOOM-Scope's extract_contextAndquestion).
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/data_files.h"
#include "benchmarks/retrieval_source.h"
#include "benchmarks/text_util.h"
#include "common/error.h"
#include "metrics/text/python_literal.h"
#include "metrics/text/wordnet.h"

#include <fmt/format.h>

namespace loom::benchmarks {
namespace {

struct QaPair {
  std::string question;
  nlohmann::json answer;
  std::string id;
};

const char* const kBertScoreReason =
    "BERTScore (bert_score, roberta-large token embeddings) needs a neural model; loom_mpi does not compute it";
constexpr double kUpstreamRepetitionPenalty = 2.0;

class LooGLEBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  std::vector<Sample> expand(const BenchmarkSpec& job_spec, const PromptContext& /*ctx*/) const override {
    const BenchmarkSpec spec = with_default_data_dir(job_spec);
    std::vector<Sample> samples;
    for (const TaskConfig* task : selected_tasks(spec)) {
      const std::filesystem::path file = locate(spec, *task);
      const std::string wordnet_dir = option(spec, task, "wordnet_dir", metrics::text::WordNet::kDefaultDir).get<std::string>();
      const std::string wordnet_missing = task->metric.find("loogle_meteor") != std::string::npos
                                              ? metrics::text::WordNet::unavailable_reason(wordnet_dir)
                                              : "";
      const size_t limit = sample_limit(spec, SIZE_MAX);
      size_t taken = 0;
      for (const auto& rec : read_jsonl(file)) {
        if (taken >= limit) break;
        const int line = rec.value("__line", 0);
        const bool native = rec.contains("input") && rec.contains("qa_pairs");
        const std::string document = record_string(rec, native ? "input" : "context", file, line);
        for (const QaPair& qa : native ? native_pairs(rec, file, line, *task) : loomscope_pair(rec, file, line)) {
          if (taken >= limit) break;
          Sample s = new_sample(*task, spec, 0, static_cast<int64_t>(taken));
          s.id = qa.id.empty() ? fmt::format("{}_{}", task->name, line) : qa.id;
          build_prompt(*task, spec, document, qa.question, s);
          s.references = {qa.answer.is_string() ? qa.answer.get<std::string>() : qa.answer.dump()};
          s.metadata["not_computed"] = {{"bertscore", kBertScoreReason}};
          if (!wordnet_missing.empty()) {
            s.metadata["not_computed"]["meteor"] = "METEOR needs WordNet: " + wordnet_missing;
            s.metric = without_metric(s.metric, "loogle_meteor");
          } else if (s.metric.find("loogle_meteor") != std::string::npos) {
            s.metadata["wordnet_dir"] = wordnet_dir;
          }
          s.metadata["upstream_repetition_penalty"] = kUpstreamRepetitionPenalty;
          if (rec.contains("title") && rec["title"].is_string()) s.metadata["title"] = rec["title"];
          samples.push_back(std::move(s));
          ++taken;
        }
      }
    }
    return samples;
  }

 private:
  std::filesystem::path locate(const BenchmarkSpec& spec, const TaskConfig& task) const {
    for (const std::string& name : {task.name + ".jsonl", task.name + ".json"}) {
      if (!spec.data_dir.empty() && std::filesystem::is_regular_file(spec.data_dir / name)) return spec.data_dir / name;
    }
    return require_data_file(spec, task.name + ".jsonl", config().published);
  }

  // qa_pairs: "none" (summarization: one sample, the reference is `output`) or the str() of a list of dicts.
  static std::vector<QaPair> native_pairs(const nlohmann::json& rec, const std::filesystem::path& file, int line,
                                          const TaskConfig& task) {
    const nlohmann::json& raw = rec["qa_pairs"];
    if (raw.is_string() && raw.get<std::string>() == "none") {
      const nlohmann::json& output = rec.contains("output") ? rec["output"] : nlohmann::json();
      if (!output.is_string())
        throw InputError(file.string(), line, "output", "the summary text where qa_pairs is \"none\" (LooGLE)");
      return {{"", output, ""}};
    }
    nlohmann::json pairs = raw;
    if (raw.is_string()) {
      std::string why;
      auto parsed = metrics::text::parse_python_literal(raw.get<std::string>(), &why);
      if (!parsed)
        throw InputError(file.string(), line, "qa_pairs",
                         "a Python list of {'Q': ..., 'A': ...} dicts, as LooGLE writes it (" + why + ")");
      pairs = std::move(*parsed);
    }
    if (!pairs.is_array())
      throw InputError(file.string(), line, "qa_pairs", "a list of {'Q': ..., 'A': ...} dicts (LooGLE)");
    std::vector<QaPair> out;
    for (size_t q = 0; q < pairs.size(); ++q) {
      const nlohmann::json& pair = pairs[q];
      if (!pair.is_object() || !pair.contains("Q") || !pair["Q"].is_string() || !pair.contains("A") ||
          !(pair["A"].is_string() || pair["A"].is_object()))
        throw InputError(file.string(), line, fmt::format("qa_pairs[{}]", q),
                         "a dict with a string 'Q' and an 'A' (text, or for cloze a dict of masks)");
      out.push_back({pair["Q"].get<std::string>(), pair["A"], fmt::format("{}_{}_{}", task.name, line, q)});
    }
    return out;
  }

  static std::vector<QaPair> loomscope_pair(const nlohmann::json& rec, const std::filesystem::path& file, int line) {
    if (!rec.contains("answer") || rec["answer"].is_null())
      throw InputError(file.string(), line, "answer",
                       "LooGLE records: input/qa_pairs (LooGLE's layout) or context/question/answer (LOOM-Scope's)");
    const std::string question =
        rec.contains("question") && rec["question"].is_string() ? rec["question"].get<std::string>() : "";
    const nlohmann::json& answer = rec["answer"];
    return {{question, answer.is_string() || answer.is_object() ? answer : nlohmann::json(json_to_text(answer)), ""}};
  }

  void build_prompt(const TaskConfig& task, const BenchmarkSpec& spec, const std::string& document,
                    const std::string& question, Sample& s) const {
    static const std::string kMarker = "\x1f\x1eLOOM_RAG_CONTEXT\x1e\x1f";
    std::vector<std::string> unknown;
    auto field = [&](std::string_view name) -> std::optional<std::string> {
      if (name == "input") return kMarker;
      if (name == "Q") return question;
      return std::nullopt;
    };
    const std::string rendered = render_template(task.template_text, field, &unknown);
    if (!unknown.empty())
      throw InputError(config().file.string(), task.line, "tasks." + task.name + ".template",
                       fmt::format("only the fields {{input}} and {{Q}}; `{{{}}}` is not a LooGLE field", unknown.front()));
    RetrievalSource source;
    if (!split_at_context(rendered, kMarker, source) || rendered.find(kMarker) == std::string::npos)
      throw InputError(config().file.string(), task.line, "tasks." + task.name + ".template",
                       "a template that inserts {input} (the document) exactly once");
    s.prompt = source.prompt_before + document + source.prompt_after;
    if (!source.prompt_after.empty())
      s.question_begin = static_cast<int64_t>(source.prompt_before.size() + document.size());
    if (spec.retrieval) {
      s.retrieval = source;
      s.retrieval.present = true;
      s.retrieval.context = document;
      s.retrieval.question = task.name.find("summarization") != std::string::npos ? "Write a summary." : question;
    }
  }

  static std::string without_metric(const std::string& metrics, const std::string& drop) {
    std::vector<std::string> kept;
    for (const std::string& name : split_on(metrics, ","))
      if (strip(name) != drop) kept.push_back(strip(name));
    return join(kept, ",");
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_loogle_benchmark(BenchmarkConfig config) {
  return std::make_unique<LooGLEBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
