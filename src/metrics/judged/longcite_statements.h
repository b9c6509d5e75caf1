// LongBench-Cite's post-processing of a model's answer (THUDM/LongCite LongBench-Cite/pred_one_shot.py @ d7d772e,
// postprocess and get_citations, re-implemented): the context is split into sentences as the prompt numbered them
// (metrics/judged/longcite_sentences.h); chunk i runs from sentence i's start to sentence i+1's start (the last one to its
// own end). The answer is cut at <statement>...</statement>: text between statements longer than 5 characters
// (stripped) is a statement without citations; inside a statement, every [a-b] of its <cite>...</cite> parts is a
// citation of chunks a..b (skipped when a is past the last chunk or b < a; b clamped to the last chunk), a span
// starting right after the previous one is merged into it, and only the first 3 are kept. The statement's text is
// what remains without its <cite> parts, stripped.
#pragma once

#include <string>
#include <vector>

namespace loom::metrics::judged {

struct LongCiteCitation {
  int64_t st_sent = 0, ed_sent = 0;
  std::string cite;  // the chunks' text, concatenated
};

struct LongCiteStatement {
  std::string statement;
  std::vector<LongCiteCitation> citation;
};

// pred_one_shot.py process(): an output starting with "statement>" gets its '<' back.
std::string longcite_fix_output(const std::string& output);
// postprocess(longcite_fix_output(answer), context, text_split_by_punctuation(context)).
std::vector<LongCiteStatement> longcite_statements(const std::string& answer, const std::string& context);
// get_citation_score's and eval_correct.py's answer text: <cite>...</cite> removed, <statement> tags dropped.
std::string longcite_plain_answer(const std::string& answer);

}  // namespace loom::metrics::judged
