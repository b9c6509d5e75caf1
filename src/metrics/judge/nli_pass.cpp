#include "metrics/judge/nli_pass.h"

#include "metrics/judge/nli_classifier.h"
#include "metrics/judged/lciteeval_citation.h"
#include "net/http_client.h"
#include "net/retry_policy.h"
#include "results/result_store.h"
#include "results/verdicts.h"
#include "results/writer_lock.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>

namespace loom::metrics::judge {
namespace {

using Clock = std::chrono::steady_clock;
using judged::NliLookup;

struct Check {
  std::string hash, premise, hypothesis;
  int tries = 0;
  Clock::time_point due;
};

std::string excerpt(const std::string& body) { return body.size() <= 300 ? body : body.substr(0, 300) + "..."; }

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Row {
  const results::ResultRow* row;
  nlohmann::json docs;
};

}  // namespace

NliPassResult run_nli_pass(const std::filesystem::path& results_path, const JudgeConfig& config, std::ostream& out) {
  NliPassResult result;
  const NliConfig& nli = config.nli;
  std::unique_ptr<results::WriterLock> lock;
  try {
    lock = std::make_unique<results::WriterLock>(results_path);
  } catch (const results::OutputConflict& e) {
    result.skipped = true;
    result.note = e.what();
    out << "nli: not run (" << e.what() << ")\n";
    return result;
  }
  const std::vector<results::ResultRow> rows = results::read_rows(results_path);
  std::vector<Row> targets;
  for (const results::ResultRow& row : rows) {
    if (row.status != "ok" || row.benchmark != judged::kLCiteEvalBenchmark || !judged::lciteeval_nli_task(row.task))
      continue;
    const nlohmann::json metadata =
        nlohmann::json::parse(row.metadata_json.empty() ? "{}" : row.metadata_json, nullptr, false);
    if (!metadata.is_object() || !metadata.contains("docs")) continue;  // the metrics pass reports why
    targets.push_back({&row, metadata["docs"]});
  }
  result.rows = static_cast<int64_t>(targets.size());

  // Answers by query hash: true/false from ok verdicts of this model; failures of this pass by hash.
  std::map<std::string, bool> answers;
  for (const results::Verdict& v : results::latest_verdicts(results::read_verdicts(results_path)))
    if (v.metric == judged::kNliVerdictMetric && v.judge_model == nli.model && v.status == "ok")
      answers[v.request_hash] = judged::nli_answer_entailed(v.response);
  std::map<std::string, std::string> failed_now;
  std::set<std::string> reused;
  const judged::NliOracle oracle = [&](const std::string& premise, const std::string& hypothesis) {
    const std::string hash = judged::nli_query_hash(premise, hypothesis);
    if (auto it = answers.find(hash); it != answers.end()) {
      reused.insert(hash);
      return NliLookup{it->second ? NliLookup::State::entailed : NliLookup::State::not_entailed, ""};
    }
    if (auto it = failed_now.find(hash); it != failed_now.end()) return NliLookup{NliLookup::State::failed, it->second};
    return NliLookup{};
  };

  std::string api_key;
  if (!nli.api_key_env.empty())
    if (const char* key = std::getenv(nli.api_key_env.c_str())) api_key = key;
  std::string base = nli.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + "/completions";
  net::RetryPolicy policy;
  policy.max_retries = config.max_retries;
  unsigned long long jitter_state = 0x9E3779B97F4A7C15ull;
  std::unique_ptr<results::VerdictJournal> journal;
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<NliClassifier> classifier;
  std::set<std::string> asked_now;

  for (;;) {
    std::deque<Check> queue;
    std::set<std::string> queued;
    for (const Row& target : targets) {
      const judged::CitationEvaluation e = judged::evaluate_citations(target.row->prediction, target.docs, oracle);
      for (const judged::NliQuery& q : e.missing) {
        const std::string hash = judged::nli_query_hash(q.premise, q.hypothesis);
        if (queued.insert(hash).second) queue.push_back({hash, q.premise, q.hypothesis});
      }
    }
    if (queue.empty()) break;
    ++result.rounds;
    if (!journal) {
      // A local model is loaded only when something is to be asked; its InputError (a bad directory) propagates.
      if (nli.local())
        classifier = make_local_nli(nli);
      else
        http = std::make_unique<net::HttpClient>();
      journal = std::make_unique<results::VerdictJournal>(results::verdict_journal_path_for(results_path));
    }
    const auto record = [&](const Check& check, bool ok, const std::string& response, const std::string& error) {
      results::Verdict v;
      v.sample_key = "nli:" + check.hash;
      v.metric = judged::kNliVerdictMetric;
      v.judge_model = nli.model;
      v.status = ok ? "ok" : "failed";
      v.request_hash = check.hash;
      v.response = response;
      v.error = error;
      v.score = ok ? (judged::nli_answer_entailed(response) ? 100.0 : 0.0) : std::numeric_limits<double>::quiet_NaN();
      v.tries = check.tries;
      v.finished_unix = now_unix();
      journal->append(v);
      asked_now.insert(check.hash);
      if (ok) {
        answers[check.hash] = judged::nli_answer_entailed(response);
        ++result.ok;
      } else {
        failed_now[check.hash] = error;
        ++result.failed;
      }
    };
    if (classifier) {
      // Upstream's pipeline call, one pair at a time: the label is the answer, stored as a verdict like an
      // endpoint's (its response), and read back by nli_answer_entailed.
      for (Check& check : queue) {
        check.tries = 1;
        ++result.requests;
        std::string label, error;
        bool ok = true;
        try {
          label = classifier->label(check.premise, check.hypothesis);
        } catch (const std::exception& e) {
          ok = false;
          error = fmt::format("the local NLI model {} could not classify this pair: {}", nli.model_dir, e.what());
        }
        record(check, ok, label, error);
      }
      continue;
    }
    const auto start = [&](Check check, std::map<int64_t, Check>& in_flight) {
      const nlohmann::json body = {{"model", nli.model},
                                   {"prompt", judged::true_nli_input(check.premise, check.hypothesis)},
                                   {"max_tokens", 10},  // ALCE: generate(max_new_tokens=10), greedy
                                   {"temperature", 0}};
      net::HttpRequest request;
      request.url = url;
      request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      request.headers = {"Content-Type: application/json"};
      if (!api_key.empty()) request.headers.push_back("Authorization: Bearer " + api_key);
      request.timeout_s = config.timeout_s;
      ++check.tries;
      ++result.requests;
      in_flight.emplace(http->start(std::move(request)), std::move(check));
    };
    std::map<int64_t, Check> in_flight;
    std::deque<Check> waiting;
    while (!queue.empty() || !in_flight.empty() || !waiting.empty()) {
      const auto now = Clock::now();
      for (auto it = waiting.begin(); it != waiting.end();) {
        if (it->due <= now && static_cast<int>(in_flight.size()) < config.max_concurrency) {
          start(std::move(*it), in_flight);
          it = waiting.erase(it);
        } else {
          ++it;
        }
      }
      while (!queue.empty() && static_cast<int>(in_flight.size()) < config.max_concurrency) {
        start(std::move(queue.front()), in_flight);
        queue.pop_front();
      }
      for (net::HttpResponse& response : http->poll(50)) {
        auto it = in_flight.find(response.id);
        if (it == in_flight.end()) continue;
        Check check = std::move(it->second);
        in_flight.erase(it);
        if (response.status == 200) {
          const nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
          const nlohmann::json* text = nullptr;
          if (answer.is_object() && answer.contains("choices") && answer["choices"].is_array() &&
              !answer["choices"].empty() && answer["choices"][0].is_object() && answer["choices"][0].contains("text"))
            text = &answer["choices"][0]["text"];
          if (text && text->is_string())
            record(check, true, text->get<std::string>(), "");
          else
            record(check, false, "",
                   fmt::format("the NLI endpoint at {} answered with something other than an OpenAI completion "
                               "(choices[0].text): {}",
                               url, excerpt(response.body)));
          continue;
        }
        if (net::RetryPolicy::retryable(response) && check.tries <= policy.max_retries) {
          jitter_state = jitter_state * 6364136223846793005ull + 1442695040888963407ull;
          const double jitter = static_cast<double>(jitter_state >> 11) / static_cast<double>(1ull << 53);
          check.due = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(policy.delay_s(check.tries, response, jitter)));
          waiting.push_back(std::move(check));
          continue;
        }
        const std::string what = response.status == 0
                                     ? response.transport_error
                                     : fmt::format("HTTP {}: {}", response.status, excerpt(response.body));
        record(check, false, "",
               fmt::format("the NLI endpoint at {} gave no answer after {} tr{}: {}", url, check.tries,
                           check.tries == 1 ? "y" : "ies", what));
      }
    }
  }
  result.asked = static_cast<int64_t>(asked_now.size());
  for (const std::string& hash : asked_now) reused.erase(hash);
  result.reused = static_cast<int64_t>(reused.size());
  out << fmt::format("nli {} {}: {} L-CiteEval rows, {} checks reused, {} asked in {} round{} ({} {}): {} ok, "
                     "{} failed{}\n",
                     nli.model,
                     nli.local() ? fmt::format("(local classifier {} on {})", nli.model_dir, nli.device)
                                 : "at " + nli.base_url,
                     result.rows, result.reused, result.asked, result.rounds,
                     result.rounds == 1 ? "" : "s", result.requests, nli.local() ? "classifications" : "requests",
                     result.ok, result.failed,
                     result.failed > 0 ? " (asked again by the next run or `loom_mpi report --nli-url/--nli-model-dir`)"
                                       : "");
  return result;
}

}  // namespace loom::metrics::judge
