#include "metrics/judge/judge_pass.h"

#include "metrics/judged/judged_metrics.h"
#include "net/http_client.h"
#include "net/retry_policy.h"
#include "results/result_store.h"
#include "results/verdicts.h"
#include "results/writer_lock.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>

namespace loom::metrics::judge {
namespace {

using Clock = std::chrono::steady_clock;

// A fan-out row (JudgedMetric::render_parts) in flight: its parts are Items of their own; the verdict is recorded
// when the last one is done.
struct FanOut {
  std::vector<judged::JudgePart> parts;
  std::vector<std::string> answers;
  size_t pending = 0;
  int requests = 0;
  std::string unparsed;  // why a part was given up on (the row is unparsed)
  std::string failed;    // why a part got no answer (the row is failed: asked again by the next pass)
};

struct Item {
  const results::ResultRow* row = nullptr;
  const judged::JudgedMetric* metric = nullptr;
  judged::JudgeRequest request;
  std::string hash;
  int step = 0;                      // a chain's step in flight (judged_metrics.h `steps`)
  std::vector<std::string> answers;  // a chain's earlier answers
  std::vector<std::string> references;
  nlohmann::json metadata;
  int network_tries = 0;  // requests for the current answer
  int parse_tries = 0;    // upstream's counter of rejected answers
  int requests = 0;
  Clock::time_point due;
  std::shared_ptr<FanOut> fan;  // set for a fan-out's part
  size_t part = 0;
};

std::string excerpt(const std::string& body) { return body.size() <= 300 ? body : body.substr(0, 300) + "..."; }

std::vector<std::string> parse_references(const std::string& text) {
  std::vector<std::string> out;
  const nlohmann::json parsed = nlohmann::json::parse(text.empty() ? "[]" : text, nullptr, false);
  if (parsed.is_string()) out.push_back(parsed.get<std::string>());
  if (parsed.is_array())
    for (const auto& item : parsed) out.push_back(item.is_string() ? item.get<std::string>() : item.dump());
  return out;
}

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void print_summary(std::ostream& out, const JudgeConfig& config, const JudgePassResult& result) {
  out << fmt::format("judge {} at {}: {} (row, metric) pairs, {} verdicts reused, {} asked ({} requests): {} ok, "
                     "{} unparsed, {} failed{}\n",
                     config.model, config.base_url, result.applicable, result.reused, result.asked, result.requests,
                     result.ok, result.unparsed, result.failed,
                     result.failed > 0 ? " (asked again by the next run or `loom_mpi report --judge-url`)" : "");
}

}  // namespace

JudgePassResult run_judge_pass(const std::filesystem::path& results_path, const JudgeConfig& config,
                               std::ostream& out) {
  JudgePassResult result;
  std::unique_ptr<results::WriterLock> lock;
  try {
    lock = std::make_unique<results::WriterLock>(results_path);
  } catch (const results::OutputConflict& e) {
    result.skipped = true;
    result.note = e.what();
    out << "judge: not run (" << e.what() << ")\n";
    return result;
  }
  const std::vector<results::ResultRow> rows = results::read_rows(results_path);
  std::map<std::tuple<std::string, std::string, std::string>, results::Verdict> stored;
  for (results::Verdict& v : results::latest_verdicts(results::read_verdicts(results_path))) stored[v.key()] = v;

  const std::set<std::string> wanted(config.metrics.begin(), config.metrics.end());
  std::deque<Item> queue;
  std::vector<std::pair<Item, std::shared_ptr<FanOut>>> fan_done;  // fan-outs with nothing to ask
  for (const results::ResultRow& row : rows) {
    if (row.status != "ok") continue;
    for (const judged::JudgedMetric& metric : judged::judged_metrics()) {
      if (metric.benchmark != row.benchmark || (!wanted.empty() && !wanted.count(metric.name))) continue;
      ++result.applicable;
      Item item;
      item.row = &row;
      item.metric = &metric;
      try {
        item.metadata = nlohmann::json::parse(row.metadata_json.empty() ? "{}" : row.metadata_json, nullptr, false);
        item.references = parse_references(row.references_json);
        item.request = metric.render(row.prediction, item.references, item.metadata);
        item.hash = judged::verdict_hash(metric, row.prediction, item.references, item.metadata);
      } catch (const judged::JudgeInputError&) {
        ++result.unrenderable;  // the metrics pass reports the reason
        continue;
      }
      auto it = stored.find({row.sample_key, metric.name, config.model});
      if (it != stored.end() && it->second.request_hash == item.hash &&
          (it->second.status == "ok" || it->second.status == "unparsed")) {
        ++result.reused;
        continue;
      }
      if (metric.render_parts != nullptr) {
        auto fan = std::make_shared<FanOut>();
        fan->parts = metric.render_parts(row.prediction, item.references, item.metadata);
        fan->answers.assign(fan->parts.size(), std::string());
        for (size_t k = 0; k < fan->parts.size(); ++k)
          if (fan->parts[k].asked) ++fan->pending;
        ++result.asked;
        if (fan->pending == 0) {
          fan_done.push_back({std::move(item), fan});
          continue;
        }
        for (size_t k = 0; k < fan->parts.size(); ++k) {
          if (!fan->parts[k].asked) continue;
          Item part = item;
          part.fan = fan;
          part.part = k;
          part.request = fan->parts[k].request;
          queue.push_back(std::move(part));
        }
        continue;
      }
      ++result.asked;
      queue.push_back(std::move(item));
    }
  }
  if (queue.empty() && fan_done.empty()) {
    print_summary(out, config, result);
    return result;
  }

  std::string api_key;
  if (!config.api_key_env.empty())
    if (const char* key = std::getenv(config.api_key_env.c_str())) api_key = key;
  std::string base = config.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + "/chat/completions";
  net::RetryPolicy policy;
  policy.max_retries = config.max_retries;
  unsigned long long jitter_state = 0x9E3779B97F4A7C15ull;

  results::VerdictJournal journal(results::verdict_journal_path_for(results_path));
  const auto record = [&](const Item& item, const std::string& status, const std::string& response,
                          const std::string& error, double score) {
    results::Verdict v;
    v.sample_key = item.row->sample_key;
    v.metric = item.metric->name;
    v.judge_model = config.model;
    v.status = status;
    v.request_hash = item.hash;
    v.response = response;
    v.error = error;
    v.score = score;
    v.tries = item.requests;
    v.finished_unix = now_unix();
    journal.append(v);
    if (status == "ok") ++result.ok;
    else if (status == "unparsed") ++result.unparsed;
    else ++result.failed;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // A fan-out's verdict once its last part is done: every answer as a JSON array, scored as the metrics pass will.
  const auto record_fan = [&](Item item, const FanOut& fan) {
    item.requests = fan.requests;
    nlohmann::json answers = fan.answers;
    const std::string response = answers.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (!fan.failed.empty()) return record(item, "failed", "", fan.failed, nan);
    if (!fan.unparsed.empty()) return record(item, "unparsed", response, fan.unparsed, nan);
    const judged::FanOutScores scores = judged::score_fan_out(*item.metric, fan.parts, fan.answers);
    if (!scores.ok) return record(item, "unparsed", response, scores.error, nan);
    record(item, "ok", response, "", scores.scores.empty() ? nan : 100 * scores.scores.front().second);
  };
  for (auto& [item, fan] : fan_done) record_fan(std::move(item), *fan);
  const auto part_done = [&](Item& item, const std::string& answer, const std::string& unparsed,
                             const std::string& failed) {
    FanOut& fan = *item.fan;
    fan.answers[item.part] = answer;
    fan.requests += item.requests;
    if (!unparsed.empty() && fan.unparsed.empty()) fan.unparsed = unparsed;
    if (!failed.empty() && fan.failed.empty()) fan.failed = failed;
    if (--fan.pending == 0) record_fan(std::move(item), fan);
  };

  net::HttpClient http;
  std::map<int64_t, Item> in_flight;
  const auto start = [&](Item item) {
    nlohmann::json body = {{"model", config.model}, {"messages", nlohmann::json::array()}};
    for (const auto& message : item.request.messages)
      body["messages"].push_back({{"role", message.role}, {"content", message.content}});
    if (item.request.temperature) body["temperature"] = *item.request.temperature;
    if (item.request.max_tokens) body["max_tokens"] = *item.request.max_tokens;
    if (!item.request.stop.empty()) body["stop"] = item.request.stop;
    net::HttpRequest request;
    request.url = url;
    request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    request.headers = {"Content-Type: application/json"};
    if (!api_key.empty()) request.headers.push_back("Authorization: Bearer " + api_key);
    request.timeout_s = config.timeout_s;
    ++item.network_tries;
    ++item.requests;
    ++result.requests;
    in_flight.emplace(http.start(std::move(request)), std::move(item));
  };
  std::deque<Item> waiting;  // retries not yet due
  while (!queue.empty() || !in_flight.empty() || !waiting.empty()) {
    const auto now = Clock::now();
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (it->due <= now && static_cast<int>(in_flight.size()) < config.max_concurrency) {
        start(std::move(*it));
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    while (!queue.empty() && static_cast<int>(in_flight.size()) < config.max_concurrency) {
      start(std::move(queue.front()));
      queue.pop_front();
    }
    for (net::HttpResponse& response : http.poll(50)) {
      auto it = in_flight.find(response.id);
      if (it == in_flight.end()) continue;
      Item item = std::move(it->second);
      in_flight.erase(it);
      if (response.status == 200) {
        std::string content;
        try {
          const nlohmann::json answer = nlohmann::json::parse(response.body);
          const nlohmann::json& text = answer.at("choices").at(0).at("message").at("content");
          content = text.is_string() ? text.get<std::string>() : std::string();
        } catch (const nlohmann::json::exception&) {
          const std::string why = fmt::format("the judge at {} answered with something other than an OpenAI chat "
                                              "completion (choices[0].message.content): {}",
                                              url, excerpt(response.body));
          if (item.fan) part_done(item, "", "", why);
          else record(item, "failed", "", why, nan);
          continue;
        }
        if (item.fan) {
          const judged::JudgePart& part = item.fan->parts[item.part];
          const judged::JudgeParse parse = item.metric->parse_part(part.kind, content);
          if (parse.ok) {
            part_done(item, content, "", "");
            continue;
          }
          item.parse_tries += parse.tries_used;
          if (parse.retry && item.parse_tries < part.max_tries) {
            item.network_tries = 0;
            if (part.retry_temperature) item.request.temperature = part.retry_temperature;
            queue.push_back(std::move(item));
            continue;
          }
          const bool exhausted = parse.retry && part.exhausted_score.has_value();
          part_done(item, content,
                    exhausted ? std::string()
                              : fmt::format("upstream's parser rejects the judge's answer to request {} of {} ({}) "
                                            "after {} answer{}",
                                            item.part + 1, item.fan->parts.size(), parse.error, item.requests,
                                            item.requests == 1 ? "" : "s"),
                    "");
          continue;
        }
        if (item.step + 1 < item.metric->steps && item.metric->render_step != nullptr) {
          // A chain's earlier step: its answer feeds the next request, which is queued like a new one.
          item.answers.push_back(content);
          ++item.step;
          item.request = item.metric->render_step(item.step, item.row->prediction, item.references, item.metadata,
                                                  item.answers);
          item.network_tries = 0;
          queue.push_back(std::move(item));
          continue;
        }
        const judged::JudgeParse parse = item.metric->parse(content);
        if (parse.ok) {
          record(item, "ok", content, "", 100 * parse.score);
          continue;
        }
        item.parse_tries += parse.tries_used;
        if (parse.retry && item.parse_tries < item.metric->max_tries) {
          item.network_tries = 0;
          queue.push_back(std::move(item));
          continue;
        }
        record(item, "unparsed", content,
               fmt::format("upstream's parser rejects the judge's answer ({}) after {} answer{}", parse.error,
                           item.requests, item.requests == 1 ? "" : "s"),
               nan);
        continue;
      }
      if (net::RetryPolicy::retryable(response) && item.network_tries <= policy.max_retries) {
        jitter_state = jitter_state * 6364136223846793005ull + 1442695040888963407ull;
        const double jitter = static_cast<double>(jitter_state >> 11) / static_cast<double>(1ull << 53);
        item.due = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                      policy.delay_s(item.network_tries, response, jitter)));
        waiting.push_back(std::move(item));
        continue;
      }
      const std::string what = response.status == 0
                                   ? response.transport_error
                                   : fmt::format("HTTP {}: {}", response.status, excerpt(response.body));
      const std::string why = fmt::format("the judge at {} gave no answer after {} tr{}: {}", url, item.network_tries,
                                          item.network_tries == 1 ? "y" : "ies", what);
      if (item.fan) part_done(item, "", "", why);
      else record(item, "failed", "", why, nan);
    }
  }
  print_summary(out, config, result);
  return result;
}

}  // namespace loom::metrics::judge
