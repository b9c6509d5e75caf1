// LongBench-Cite judge prompts, byte for byte from THUDM/LongCite @ d7d772e39fb15357749f54a2fe1e2dce77df5255
// (Apache-2.0): LongBench-Cite/auto_scorer.py need_citation_prompt_template, support_prompt_template,
// relevant_prompt_template (one str.format field {} each) and LongBench-Cite/eval_correct.py system_prompt and the
// prompt_template of gpt_score_qa ($Q$ $A$ $P$), gpt_score_summ ($A$ $P$) and gpt_score_fewshot (8 {} fields).
// tests/metrics/longcite_judge_test.cpp compares them with the upstream strings (tests/fixtures/longcite/).
#pragma once

#include <string_view>

namespace loom::metrics::judged {

inline constexpr std::string_view kLongCiteNeedCitationTemplate = R"LC(You are an expert in evaluating text quality. You will receive a user's question regarding their uploaded document (due to the length of the document, it is not shown to you), an AI assistant's response based on the document, and a sentence from the response. Your task is to determine whether this sentence is a factual statement made based on the information in the document that requires citation, rather than an introductory sentence, transition sentence, or a summary, reasoning, or inference based on the previous response.
Ensure that you do not use any other external information during your evaluation. 
Please first provide your judgment (answer with [[Yes]] or [[No]]), then provide your analysis in the format "Need Citation: [[Yes/No]] Analysis: ...".

{}
)LC";

inline constexpr std::string_view kLongCiteSupportTemplate = R"LC(You are an expert in evaluating text quality. You will receive a user's question about an uploaded document, a factual statement from an AI assistant's response based on that document, and a snippet from the document (since the document is too long to display in full). Your task is to carefully assess whether this statement is supported by the snippet. Please use the following scale to generate your rating:
- [[Fully supported]] - Most information in the statement is supported by or extracted from the snippet. This applies only to cases where the statement and parts of the snippet are almost identical. 
- [[Partially supported]] - More than half of the content in the statement is supported by the snippet, but a small portion is either not mentioned or contradicts the snippet. For example, if the statement has two key points and the snippet supports only one of them, it should be considered [Partially supported].
- [[No support]] - The statement is largely unrelated to the snippet, or most key points in the statement do not align with the content of the snippet.
Ensure that you do not use any information or knowledge outside of the snippet when evaluating. 
Please provide the rating first, followed by the analysis, in the format "Rating: [[...]] Analysis: ...". 

{})LC";

inline constexpr std::string_view kLongCiteRelevantTemplate = R"LC(You are an expert in evaluating text quality. You will receive a user's question about an uploaded document, a factual statement from an AI assistant's response based on that document, and a snippet from the document (since the document is too long to display in full). Your task is to carefully assess whether the snippet contains some key information of the statement. Please use the following grades to generate the rating:
- [[Relevant]] - Some key points of the statement are supported by the snippet or extracted from it.
- [[Unrelevant]] - The statement is almostly unrelated to the snippet, or all key points of the statement are inconsistent with the snippet content.
Ensure that you do not use any information or knowledge outside of the snippet when evaluating. 
Please provide the rating first, followed by the analysis, in the format "Rating: [[...]] Analysis: ...". 

{})LC";

inline constexpr std::string_view kLongCiteCorrectSystemPrompt = R"LC(You're a good assistant at evaluating the quality of texts.)LC";

inline constexpr std::string_view kLongCiteQaTemplate = R"LC(You are asked to evaluate the quality of the AI assistant's answer to user questions as an impartial judge, and your evaluation should take into account factors including correctness (high priority), and comprehensiveness (whether the assistant's answer covers all points).
Read the AI assistant's answer and compare against the reference answer, and give an overall integer rating in 1, 2, 3 (1 = wrong or irrelevant, 2 = partially correct, 3 = correct and comprehensive) based on the above principles, strictly in the following format:"[[rating]]", e.g. "[[2]]".

[Question]
$Q$
[Reference answer]
$A$
[Assistant's answer]
$P$
Rating:)LC";

inline constexpr std::string_view kLongCiteSummTemplate = R"LC(You are asked to evaluate the quality of the AI assistant's generated summary as an impartial judge, and your evaluation should take into account factors including correctness (high priority), comprehensiveness (whether the assistant's summary covers all points), and coherence.
Read the AI assistant's summary and compare against the reference summary, and give an overall integer rating in on a scale of 1 to 5, where 1 is the lowest and 5 is the highest based on the evaluation criteria, strictly in the following format:"[[rating]]", e.g. "[[3]]".

[Reference summary]
$A$
[Assistant's summary]
$P$
Rating:)LC";

inline constexpr std::string_view kLongCiteFewshotTemplate = R"LC([Instruction]
You are asked to evaluate the quality of the AI assistant's answers to user questions as an impartial judge, and your evaluation should take into account factors including correctness (high priority), helpfulness, accuracy, and relevance. The scoring principles are as follows:
1. Read the AI assistant's answer and compare the assistant's answer with the reference answer.
2. Identify all errors in the AI Assistant's answers and consider how much they affect the answer to the question.
3. Evaluate how helpful the AI assistant's answers are in directly answering the user's questions and providing the information the user needs. 
4. Examine any additional information in the AI assistant's answer to ensure that it is correct and closely related to the question. If this information is incorrect or not relevant to the question, points should be deducted from the overall score.

Please give an overall integer rating from 1 to 10 based on the above principles, strictly in the following format:"[[rating]]", e.g. "[[5]]".

[Question]
{}

[Reference answer begins]
{}
[Reference answer ends]

Below are several assistants' answers and their ratings:

[Assistant's answer begins]
{}
[Assistant's answer ends]

Rating: [[{}]]

[Assistant's answer begins]
{}
[Assistant's answer ends]

Rating: [[{}]]

[Assistant's answer begins]
{}
[Assistant's answer ends]

Rating: [[{}]]

Please rate the following assistant answers based on the scoring principles and examples above:

[Assistant's answer begins]
{}
[Assistant's answer ends]

Rating: )LC";

}  // namespace loom::metrics::judged
