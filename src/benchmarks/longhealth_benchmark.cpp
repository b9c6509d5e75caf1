// LongHealth (kbressem/LongHealth data/benchmark_v5.json; LOOM-Scope's benchmarks/Specialization/LongHealth), with
// prompts generated from the patients' documents as LOOM-Scope's LongHealth.py download_data and utils/tools.py
// create_prompt build them (upstream's run scripts do the same):
//   task1  every question 5 times: the target patient's documents that hold the answer (answer_location), then
//          the patient's other documents; options A..E; reference: the correct option's text.
//   task2  every question 5 times: its answer documents plus 10 documents drawn from the other patients; options
//          A..F with F "Question cannot be answered with provided documents"; reference: the correct option's text.
//   task3  the same with only the 10 drawn documents (unanswerable); reference: option F's text.
// (LOOM-Scope makes ten task2/task3 prompts per question, alternating; here sample i of a question is upstream's
// j = 2i + 1 for task2 and j = 2i for task3.) create_prompt: the budget is the target length minus the system
// prompt's tokens; the question, the options and the raw template count first; documents are added in order while
// they fit, each also counting one "\n\n-------------- NEW DOCUMENT --------------\n\n" separator; the first that
// does not fit is cut to the tokens left and ends the list (a cut answer document also ends the distractors'
// list after one empty cut); the documents are shuffled and joined by "\n\n--------------\n\n". Token counts are
// the tokenizer's encode with special tokens, as transformers' tokenizer.encode counts them; a cut keeps the
// document's own first tokens (upstream's slice keeps the BOS among them and decodes it into the text: here it is
// left out).
// Samples enumerate patients in file order, their questions in order, then the 5 variants; every draw (distractors,
// shuffle) comes from DeterministicRng::derive_seed(seed, task, length, index), so a sample is a pure function of
// the seed and its position. The template fields are {documents}, {question_text} and {options}.
// Options: file (default benchmark_v5.json), task (task1 | task2 | task3), variants (5), distractors (10),
// unanswerable_text.
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/data_files.h"
#include "benchmarks/deterministic_rng.h"
#include "common/parallel_for.h"
#include "benchmarks/text_util.h"
#include "common/error.h"
#include "text/tokenizer.h"

#include <fmt/format.h>

#include <fstream>
#include <exception>
#include <functional>
#include <memory>
#include <sstream>

namespace loom::benchmarks {
namespace {

using ordered_json = nlohmann::ordered_json;

struct Question {
  std::string patient;
  int64_t number = 0;            // position in the patient's question list
  const ordered_json* record = nullptr;
};

struct Layout {
  std::string task;  // task1 | task2 | task3
  int64_t variants = 5;
  int64_t distractors = 10;
  std::string unanswerable;
};

std::string separator_text() { return "\n\n-------------- NEW DOCUMENT --------------\n\n"; }

class LongHealthBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  bool synthetic() const override { return true; }

  std::vector<Sample> expand(const BenchmarkSpec& job_spec, const PromptContext& ctx) const override {
    LOOM_CHECK(ctx.tokenizer != nullptr, "LongHealth needs the model's tokenizer to fill its document budget");
    const BenchmarkSpec spec = with_default_data_dir(job_spec);
    // Each sample is a pure function of the task's file and its seed (spec.seed, task, length, index): the listing
    // reads the files and lists the samples in order; they are made on ctx.threads threads (common/parallel_for.h),
    // in the serial order.
    struct TaskData {
      std::filesystem::path file;
      ordered_json data;
      std::vector<Question> questions;
      Layout layout;
    };
    std::vector<std::unique_ptr<TaskData>> tasks;
    std::vector<std::function<Sample()>> makers;
    std::exception_ptr listing_error;
    try {
      for (const TaskConfig* task : selected_tasks(spec)) {
        auto loaded = std::make_unique<TaskData>();
        const std::string relative = option(spec, task, "file", "benchmark_v5.json").get<std::string>();
        loaded->file = require_data_file(spec, relative, config().published);
        loaded->data = read_benchmark(loaded->file);
        loaded->questions = list_questions(loaded->data, loaded->file);
        loaded->layout = read_layout(spec, *task);
        tasks.push_back(std::move(loaded));
        const TaskData& t = *tasks.back();
        const size_t available = t.questions.size() * static_cast<size_t>(t.layout.variants);
        for (int64_t length : selected_lengths(spec)) {
          if (length <= 0 || length > (int64_t{1} << 24))
            throw InputError(config().file.string(), task->line, "lengths",
                             fmt::format("prompt budgets in [1, 16777216] tokens, got {}", length));
          const size_t count = sample_limit(spec, available);
          for (size_t i = 0; i < count; ++i) {
            makers.push_back([this, &spec, task, &t, length, i, &ctx] {
              return make(spec, *task, t.layout, t.data, t.questions, t.file, length, static_cast<int64_t>(i), ctx);
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
  static ordered_json read_benchmark(const std::filesystem::path& file) {
    read_json(file);  // a parse error becomes an InputError naming the file and line
    std::ifstream in(file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return ordered_json::parse(buffer.str());
  }

  static std::vector<Question> list_questions(const ordered_json& data, const std::filesystem::path& file) {
    if (!data.is_object() || data.empty())
      throw InputError(file.string(), 1, "(top level)", "an object of patients keyed by id (benchmark_v5.json)");
    std::vector<Question> out;
    for (auto it = data.begin(); it != data.end(); ++it) {
      const ordered_json& patient = it.value();
      const std::string where = it.key();
      if (!patient.is_object() || !patient.contains("texts") || !patient["texts"].is_object())
        throw InputError(file.string(), 0, where + ".texts", "an object of the patient's documents keyed by id");
      for (auto t = patient["texts"].begin(); t != patient["texts"].end(); ++t)
        if (!t.value().is_string())
          throw InputError(file.string(), 0, where + ".texts." + t.key(), "a document text");
      if (!patient.contains("questions") || !patient["questions"].is_array())
        throw InputError(file.string(), 0, where + ".questions", "a list of questions");
      int64_t n = 0;
      for (const ordered_json& q : patient["questions"]) {
        const std::string key = fmt::format("{}.questions[{}]", where, n);
        for (const char* field : {"question", "correct", "answer_a", "answer_b", "answer_c", "answer_d", "answer_e"})
          if (!q.contains(field) || !q[field].is_string())
            throw InputError(file.string(), 0, key + "." + field, "a string");
        if (!q.contains("answer_location") || !q["answer_location"].is_object())
          throw InputError(file.string(), 0, key + ".answer_location", "an object keyed by the answer documents' ids");
        for (auto loc = q["answer_location"].begin(); loc != q["answer_location"].end(); ++loc)
          if (!patient["texts"].contains(loc.key()))
            throw InputError(file.string(), 0, key + ".answer_location." + loc.key(),
                             "the id of one of the patient's documents");
        out.push_back({where, n, &q});
        ++n;
      }
    }
    return out;
  }

  Layout read_layout(const BenchmarkSpec& spec, const TaskConfig& task) const {
    const std::string file = config().file.string();
    Layout l;
    l.task = option(spec, &task, "task", "").get<std::string>();
    if (l.task != "task1" && l.task != "task2" && l.task != "task3")
      throw InputError(file, task.line, "options.task", fmt::format("task1, task2 or task3, got '{}'", l.task));
    l.variants = option(spec, &task, "variants", 5).get<int64_t>();
    if (l.variants < 1 || l.variants > 1000)
      throw InputError(file, task.line, "options.variants", fmt::format("a count in [1, 1000], got {}", l.variants));
    l.distractors = option(spec, &task, "distractors", 10).get<int64_t>();
    if (l.distractors < 0 || l.distractors > 100000)
      throw InputError(file, task.line, "options.distractors",
                       fmt::format("a count in [0, 100000], got {}", l.distractors));
    l.unanswerable =
        option(spec, &task, "unanswerable_text", "Question cannot be answered with provided documents")
            .get<std::string>();
    return l;
  }

  Sample make(const BenchmarkSpec& spec, const TaskConfig& task, const Layout& layout, const ordered_json& data,
              const std::vector<Question>& questions, const std::filesystem::path& file, int64_t length,
              int64_t index, const PromptContext& ctx) const {
    const Question& q = questions[static_cast<size_t>(index / layout.variants)];
    const ordered_json& question = *q.record;
    const ordered_json& patient = data.at(q.patient);
    DeterministicRng rng(DeterministicRng::derive_seed(spec.seed, task.name, length, index));
    const text::Tokenizer& tok = *ctx.tokenizer;
    auto count = [&](const std::string& s) { return static_cast<int64_t>(tok.encode(s, true).size()); };
    const int64_t specials = static_cast<int64_t>(tok.encode("", true).size());

    // The documents: answer documents (by answer_location order), then distractors.
    std::vector<std::pair<std::string, std::string>> answer_docs;  // (text id, text)
    std::vector<std::string> other_docs;
    if (layout.task != "task3")
      for (auto loc = question["answer_location"].begin(); loc != question["answer_location"].end(); ++loc)
        answer_docs.emplace_back(loc.key(), patient["texts"][loc.key()].get<std::string>());
    if (layout.task == "task1") {
      for (auto t = patient["texts"].begin(); t != patient["texts"].end(); ++t)
        if (!question["answer_location"].contains(t.key())) other_docs.push_back(t.value().get<std::string>());
    } else {
      std::vector<std::string> pool;  // every document of every other patient, in file order
      for (auto p = data.begin(); p != data.end(); ++p)
        if (p.key() != q.patient)
          for (auto t = p.value()["texts"].begin(); t != p.value()["texts"].end(); ++t)
            pool.push_back(t.value().get<std::string>());
      const size_t k = std::min(pool.size(), static_cast<size_t>(layout.distractors));
      for (size_t at : rng.sample_indices(pool.size(), k)) other_docs.push_back(pool[at]);
    }

    const std::string labels = layout.task == "task1" ? "abcde" : "abcdef";
    std::string options;
    for (char label : labels) {
      const std::string text = label == 'f' ? layout.unanswerable
                                            : question[std::string("answer_") + label].get<std::string>();
      if (!options.empty()) options += "\n";
      options += std::string(1, static_cast<char>(label - 'a' + 'A')) + ": " + text;
    }
    const std::string question_text = question["question"].get<std::string>();

    // create_prompt's budget.
    const int64_t max_len = length - count(task.system_prompt);
    const int64_t len_separator = count(separator_text());
    int64_t total = count(question_text) + count(options) + count(task.template_text);
    std::vector<std::string> selected;
    std::vector<std::string> kinds;  // a text id or "distraction"
    auto cut = [&](const std::string& doc, int64_t keep) {
      std::vector<int32_t> ids = tok.encode(doc, false);
      const int64_t own = std::max<int64_t>(keep - specials, 0);
      if (static_cast<int64_t>(ids.size()) > own) ids.resize(static_cast<size_t>(own));
      return tok.decode(ids, false);
    };
    auto add = [&](const std::string& doc, const std::string& kind) {  // false: the list ends here
      const int64_t len_doc = count(doc);
      if (total + len_doc <= max_len) {
        selected.push_back(doc);
        kinds.push_back(kind);
        total += len_doc + len_separator;
        return true;
      }
      selected.push_back(cut(doc, std::max<int64_t>(max_len - total, 0)));
      kinds.push_back(kind);
      total += max_len - total;
      return false;
    };
    for (const auto& [id, doc] : answer_docs)
      if (!add(doc, id)) break;
    for (const std::string& doc : other_docs)
      if (!add(doc, "distraction")) break;
    std::vector<size_t> order(selected.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    rng.shuffle(order);
    std::string documents;
    std::vector<std::string> doc_kinds;
    for (size_t i = 0; i < order.size(); ++i) {
      if (i > 0) documents += "\n\n--------------\n\n";
      documents += selected[order[i]];
      doc_kinds.push_back(kinds[order[i]]);
    }

    Sample s = new_sample(task, spec, length, index);
    int64_t question_begin = -1;
    std::vector<std::string> unknown;
    s.prompt = render_template(
        task.template_text,
        [&](std::string_view name) -> std::optional<std::string> {
          if (name == "documents") return documents;
          if (name == "question_text") return question_text;
          if (name == "options") return options;
          return std::nullopt;
        },
        &unknown);
    if (!unknown.empty())
      throw InputError(config().file.string(), task.line, "tasks." + task.name + ".template",
                       fmt::format("only the fields {{documents}}, {{question_text}} and {{options}}; got {{{}}}",
                                   unknown.front()));
    const size_t documents_at = task.template_text.find("{documents}");
    if (documents_at != std::string::npos) {
      const std::string before = render_template(task.template_text.substr(0, documents_at),
                                                 [](std::string_view) { return std::optional<std::string>(); });
      question_begin = static_cast<int64_t>(before.size() + documents.size());
    }
    s.question_begin = question_begin;
    s.id = fmt::format("{}_q{}_{}", q.patient, q.number, index % layout.variants);
    s.references = {layout.task == "task3" ? layout.unanswerable : question["correct"].get<std::string>()};
    s.metadata["patient"] = q.patient;
    s.metadata["question_index"] = q.number;
    s.metadata["variant"] = index % layout.variants;
    s.metadata["documents"] = doc_kinds;
    s.metadata["source_file"] = file.filename().string();
    return s;
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_longhealth_benchmark(BenchmarkConfig config) {
  return std::make_unique<LongHealthBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
