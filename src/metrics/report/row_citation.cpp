#include "metrics/report/row_citation.h"

#include "metrics/judged/lciteeval_citation.h"

#include <fmt/format.h>

#include <optional>
#include <set>

namespace loom::metrics::report {

void add_citation_metrics(const results::ResultRow& row, const std::vector<std::string>& references,
                          const nlohmann::json& metadata, const JudgedView* view, ScoredRow& out) {
  using judged::NliLookup;
  if (row.benchmark != judged::kLCiteEvalBenchmark) return;
  const auto not_computed = [&](const std::string& reason) {
    for (const char* name : {judged::kCiteRecall, judged::kCitePrecision, judged::kCiteF1})
      out.not_computed[name] = reason;
  };
  const auto computed = [&](const judged::CitationScores& s) {
    out.judged[judged::kCiteRecall] = 100 * s.recall;
    out.judged[judged::kCitePrecision] = 100 * s.precision;
    out.judged[judged::kCiteF1] = 100 * s.f1;
  };
  if (!metadata.is_object() || !metadata.contains("docs")) {
    not_computed("the row's metadata has no \"docs\" (rows written before the citation metrics were added lack "
                 "them: generate them again)");
    return;
  }
  if (!judged::lciteeval_nli_task(row.task)) {
    std::string why;
    const std::optional<judged::CitationScores> s =
        row.task == "niah" ? judged::niah_citation(row.prediction, references.empty() ? "" : references.front(),
                                                   metadata["docs"], &why)
                           : judged::counting_stars_citation(row.prediction, metadata["docs"], &why);
    if (s) computed(*s);
    else not_computed(why);
    return;
  }
  const std::string model = view ? view->nli_model : std::string();
  if (!view || (!view->nli_configured && !view->nli_answers)) {
    not_computed(model.empty() ? "no NLI model or endpoint configured (job key judge.nli: a local model directory or "
                                 "base_url; loom_mpi report --nli-model-dir or --nli-url)"
                               : fmt::format("no NLI answers of model {} stored (job key judge.nli, or loom_mpi "
                                             "report --nli-model-dir / --nli-url)",
                                             model));
    return;
  }
  const judged::NliOracle oracle = [&](const std::string& premise, const std::string& hypothesis) {
    if (!view) return NliLookup{};
    const std::string hash = judged::nli_query_hash(premise, hypothesis);
    auto it = view->verdicts.find({"nli:" + hash, judged::kNliVerdictMetric});
    if (it == view->verdicts.end()) return NliLookup{};
    const results::Verdict* verdict = nullptr;
    for (const results::Verdict& v : it->second) {
      if (model.empty() || v.judge_model == model) {
        if (verdict && verdict->judge_model != v.judge_model)
          return NliLookup{NliLookup::State::failed,
                           fmt::format("NLI answers of several models ({}, {}): choose one with --nli-model",
                                       verdict->judge_model, v.judge_model)};
        verdict = &v;
      }
    }
    if (!verdict || verdict->request_hash != hash) return NliLookup{};
    if (verdict->status != "ok") return NliLookup{NliLookup::State::failed, verdict->error};
    return NliLookup{judged::nli_answer_entailed(verdict->response) ? NliLookup::State::entailed
                                                                    : NliLookup::State::not_entailed,
                     ""};
  };
  const judged::CitationEvaluation e = judged::evaluate_citations(row.prediction, metadata["docs"], oracle);
  if (e.no_statements) {
    not_computed("the output has no sentence (upstream skips the sample)");
  } else if (!e.failed.empty()) {
    not_computed(e.failed);
  } else if (!e.missing.empty()) {
    if (!view->nli_configured)
      not_computed(fmt::format("{} NLI check{} not answered by the stored answers (run the NLI pass: judge.nli, or "
                               "loom_mpi report --nli-model-dir / --nli-url)",
                               e.missing.size(), e.missing.size() == 1 ? "" : "s"));
    else
      not_computed(fmt::format("{} NLI check{} not answered (the NLI pass did not reach this row)", e.missing.size(),
                               e.missing.size() == 1 ? "" : "s"));
  } else {
    computed(*e.scores);
  }
}

}  // namespace loom::metrics::report
