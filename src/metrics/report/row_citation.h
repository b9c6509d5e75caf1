// L-CiteEval's citation metrics of one row (metrics/judged/lciteeval_citation.h): lciteeval_cite_recall,
// lciteeval_cite_precision and lciteeval_cite_f1 (0–100) for an ok L-CiteEval row, reported beside the row's score
// like judged metrics (ScoredRow::judged). An NLI task's come from the NLI answers stored with the file
// (metrics/judge/nli_pass.h: a local classifier's labels or an endpoint's answers), else they are not computed with
// the reason: no NLI model or endpoint configured, no docs in the row's metadata, a check not answered yet, a stored
// failure, or no sentence in the output (upstream skips the sample). niah's and counting_stars' are computed from
// the gold passages (no NLI; niah's answer is the first reference).
#pragma once

#include "metrics/report/aggregation.h"
#include "metrics/report/row_scoring.h"
#include "results/result_row.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace loom::metrics::report {

void add_citation_metrics(const results::ResultRow& row, const std::vector<std::string>& references,
                          const nlohmann::json& metadata, const JudgedView* view, ScoredRow& out);

}  // namespace loom::metrics::report
