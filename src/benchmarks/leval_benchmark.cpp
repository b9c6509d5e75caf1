// LEval (OpenLMLab/LEval): one JSON record per document with lists `instructions` and `outputs`; every
// (instruction, output) pair is a sample. Prompts follow Baselines/llama2-chat-test.py with the model's own chat
// template: system prompt = LEval_config.get_sys_prompt (per task, in the YAML); user turn =
//   gsm100, codeU, topic_retrieval_longchat: "{document}\n\n{instruction}"
//   exam tasks (coursera, quality, tpo, sci_fi): "Document is as follows. {document} \nQuestion: {instruction}.  Please
//     directly give the answer without any additional output or explanation ", answer prefix "\nAnswer:"
//   open-ended: "Document is as follows. {document} Instruction: {instruction} \nAnswer this question with {N} words."
//     (N = words of the gold output).
//   sci_fi (option fact_followup): a second, raw generation asks the question about the real world instead of the
//     document; the prediction is "<answer> [fact: <answer>]" as upstream writes it.
// Metric per record `evaluation`: exam → leval_exam (metadata task), f1 → leval_f1, rouge → leval_rouge1/2/l; rows
// judged by an LLM or humans are skipped (as auto_eval.py). Files: <data_dir>/LEval-data/{Closed,Open}-ended-tasks/
// <task>.jsonl or <data_dir>/<task>.jsonl. Truncation: LEval's word rule (prompt_builder.h).
#include "common/error.h"
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/data_files.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

namespace loom::benchmarks {
namespace {

class LEvalBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  std::vector<Sample> expand(const BenchmarkSpec& job_spec, const PromptContext& ctx) const override {
    const BenchmarkSpec spec = with_default_data_dir(job_spec);
    std::vector<Sample> samples;
    for (const TaskConfig* task : selected_tasks(spec)) {
      const std::filesystem::path file = locate(spec, *task);
      const std::string style = task->options.value("prompt_style", std::string("open"));
      const bool code = task->name.find("code") != std::string::npos;
      size_t taken = 0;
      const size_t limit = sample_limit(spec, SIZE_MAX);
      for (const auto& rec : read_jsonl(file)) {
        const int line = rec.value("__line", 0);
        const std::string evaluation = record_string(rec, "evaluation", file, line);
        if (evaluation != "exam" && evaluation != "f1" && evaluation != "rouge") continue;
        const std::string document = record_string(rec, "input", file, line);
        if (!rec.contains("instructions") || !rec["instructions"].is_array() || !rec.contains("outputs") ||
            !rec["outputs"].is_array())
          throw InputError(file.string(), line, "instructions", "lists `instructions` and `outputs`");
        const auto& insts = rec["instructions"];
        const auto& outs = rec["outputs"];
        for (size_t q = 0; q < insts.size() && q < outs.size() && taken < limit; ++q, ++taken) {
          const std::string inst = json_to_text(insts[q]);
          const std::string gold = json_to_text(outs[q]);
          Sample s = new_sample(*task, spec, 0, static_cast<int64_t>(taken));
          s.id = fmt::format("{}_{}_{}", task->name, line, q);
          std::string before, after;
          if (style == "document_then_instruction") {
            after = "\n\n" + inst;
          } else if (style == "exam") {
            before = "Document is as follows. ";
            after = " \nQuestion: " + inst + ".  Please directly give the answer without any additional output or explanation ";
            s.answer_prefix = "\nAnswer:";
          } else {
            before = "Document is as follows. ";
            after = " Instruction: " + inst + " \nAnswer this question with " +
                    std::to_string(split_whitespace(gold).size()) + " words.";
          }
          s.prompt = before + document + after;
          s.metadata["document_begin"] = before.size();
          s.metadata["document_end"] = before.size() + document.size();
          if (code) s.metadata["truncate_side"] = "left";
          s.metadata["task"] = task->name;
          s.metadata["evaluation"] = evaluation;
          if (task->options.value("fact_followup", false)) {
            // Baselines/llama2-chat-test.py: the same question about the real world, raw, without the document; the
            // prediction becomes "<answer> [fact: <answer>]" (auto_eval.py scores loyalty and fact halves).
            s.followup_prompt = replace_all(inst, "based on the world described in the document.",
                                            "based on the real-world knowledge and facts up until your last training") +
                                "\nAnswer:";
            s.followup_prefix = " [fact: ";
            s.followup_suffix = "]";
          }
          s.references = {gold};
          s.metric = evaluation == "exam" ? "leval_exam"
                     : evaluation == "f1" ? "leval_f1"
                                          : "leval_rouge1,leval_rouge2,leval_rougel";
          samples.push_back(std::move(s));
        }
      }
    }
    return samples;
  }

 private:
  std::filesystem::path locate(const BenchmarkSpec& spec, const TaskConfig& task) const {
    const std::string name = task.name + ".jsonl";
    for (const char* sub : {"LEval-data/Closed-ended-tasks/", "LEval-data/Open-ended-tasks/", ""}) {
      const std::filesystem::path p = spec.data_dir / (std::string(sub) + name);
      if (!spec.data_dir.empty() && std::filesystem::is_regular_file(p)) return p;
    }
    const std::string sub = task.options.value("closed_ended", false) ? "LEval-data/Closed-ended-tasks/"
                                                                     : "LEval-data/Open-ended-tasks/";
    return require_data_file(spec, sub + name, config().published);
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_leval_benchmark(BenchmarkConfig config) {
  return std::make_unique<LEvalBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
