// What retrieval (docs/rag.md, src/rag) needs of a sample: its context, its question, and the prompt around the
// context. Filled by the benchmarks that declare a context (jsonl kind: options rag_context, rag_question or
// rag_query) when the job asks for retrieval (BenchmarkSpec::retrieval); the scheduler then rebuilds the prompt as
// prompt_before + retrieved chunks + prompt_after.
#pragma once

#include <string>

namespace loom::benchmarks {

struct RetrievalSource {
  bool present = false;       // the benchmark declares a context; false: it cannot be retrieved from
  std::string context;        // the text the template inserts for the context field ("" if the task's template
                              // has none: the prompt is then prompt_before alone)
  std::string question;       // the query
  std::string prompt_before;  // Sample::prompt == prompt_before + context + prompt_after
  std::string prompt_after;
};

// Splits `rendered` (a prompt rendered with `marker` in place of the context) into retrieval's prompt_before and
// prompt_after; false when the marker occurs more than once (the template uses the context twice).
bool split_at_context(const std::string& rendered, const std::string& marker, RetrievalSource& source);

struct Sample;
// Sets sample.prompt to retrieval.prompt_before + `context` + retrieval.prompt_after; a question_begin after the
// context it replaces (query_aware: false splits there) moves with the context's new length.
void replace_context(Sample& sample, const std::string& context);

}  // namespace loom::benchmarks
