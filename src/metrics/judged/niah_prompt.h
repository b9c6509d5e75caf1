// The NIAH judge prompt of gkamradt/LLMTest_NeedleInAHaystack @ 7b90d28 (needlehaystack/evaluators/openai.py:
// load_evaluator("labeled_score_string", criteria=OpenAIEvaluator.CRITERIA)), as langchain 0.1.9's
// SCORING_TEMPLATE_WITH_REFERENCE renders it (langchain/evaluation/scoring/prompt.py + eval_chain.py: the criteria
// line "accuracy: <CRITERIA text, stripped>" after CRITERIA_INSTRUCTIONS). Byte for byte; the three fields are
// substituted once each (str.format), so braces in them stay as they are.
#pragma once

#include <string>
#include <string_view>

namespace loom::metrics::judged {

inline constexpr std::string_view kNiahSystemMessage = "You are a helpful assistant.";

// Parts of the human message around {reference}, {input} and {prediction}, in that order.
inline constexpr std::string_view kNiahBeforeReference = "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user question displayed below. For this evaluation, you should primarily consider the following criteria:\naccuracy: \n                Score 1: The answer is completely unrelated to the reference.\n                Score 3: The answer has minor relevance but does not align with the reference.\n                Score 5: The answer has moderate relevance but contains inaccuracies.\n                Score 7: The answer aligns with the reference but has minor omissions.\n                Score 10: The answer is completely accurate and aligns perfectly with the reference.\n                Only respond with a numberical score\n[Ground truth]\n";
inline constexpr std::string_view kNiahBeforeInput = "\nBegin your evaluation by providing a short explanation. Be as objective as possible. After providing your explanation, you must rate the response on a scale of 1 to 10 by strictly following this format: \"[[rating]]\", for example: \"Rating: [[5]]\".\n\n[Question]\n";
inline constexpr std::string_view kNiahBeforePrediction = "\n\n[The Start of Assistant's Answer]\n";
inline constexpr std::string_view kNiahAfterPrediction = "\n[The End of Assistant's Answer]";

inline std::string render_niah_human_message(const std::string& input, const std::string& prediction,
                                             const std::string& reference) {
  std::string out(kNiahBeforeReference);
  out += reference;
  out += kNiahBeforeInput;
  out += input;
  out += kNiahBeforePrediction;
  out += prediction;
  out += kNiahAfterPrediction;
  return out;
}

}  // namespace loom::metrics::judged
