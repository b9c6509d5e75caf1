#include "rank/worker/worker_loop.h"

#include "common/exception_text.h"
#include "protocol/prompt_table.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <map>
#include <memory>
#include <optional>

namespace loom::worker {

using protocol::Prompt;
using protocol::WorkAssignment;
using protocol::WorkItem;
using protocol::WorkOutcome;
using protocol::WorkRequest;

namespace {

// Items in the engine and the outcomes being assembled from their requests (an item and its follow-up).
class ItemTracker {
 public:
  ItemTracker(int world_rank, int group_index, TextEncoder encode)
      : world_rank_(world_rank), group_index_(group_index), encode_(std::move(encode)) {}

  void submit(model::InferenceEngine& engine, const WorkAssignment& assignment) {
    const auto prompts = protocol::prompts_by_id(assignment);
    std::vector<model::InferenceRequest> requests;
    for (const WorkItem& item : assignment.items) {
      const Prompt& prompt = *prompts.at(item.prompt_id);
      const int64_t id = next_id_++;
      Pending& p = pending_[id];
      p.outcome.sample_key = item.sample_key;
      p.outcome.cost.input_tokens = static_cast<int64_t>(prompt.input_ids.size());
      p.outcome.rank = world_rank_;
      p.outcome.group = group_index_;
      p.followup_prefix = prompt.followup_prefix;
      p.followup_suffix = prompt.followup_suffix;
      p.has_followup = !prompt.followup_ids.empty();
      p.parts = p.has_followup ? 2 : 1;
      if (prompt.has_chain()) {
        p.chain = std::make_unique<ChainedRequest>();
        p.chain->before = prompt.chain_before;
        p.chain->after = prompt.chain_after;
        p.chain->add_special_tokens = prompt.chain_add_special_tokens;
        p.chain->generation = item.generation;
        p.chain->generation.max_new_tokens = prompt.chain_max_new_tokens;
        p.chain->method = item.method;
        ++p.parts;
      }
      requests.push_back(model::InferenceRequest{2 * id, item.sample_key, prompt.input_ids,
                                                 engine_prompt_id(prompt.id, false), item.generation, item.method,
                                                 prompt.question_tokens});
      if (p.has_followup) {
        requests.push_back(model::InferenceRequest{2 * id + 1, item.sample_key + "#followup", prompt.followup_ids,
                                                   engine_prompt_id(prompt.id, true), item.generation, item.method});
      }
    }
    engine.submit(std::move(requests));
  }

  // Outcomes of the items the results complete. A finished first generation whose item chains a second submits
  // that one to the engine.
  std::vector<WorkOutcome> collect(model::InferenceEngine& engine, std::vector<model::InferenceResult> results) {
    std::vector<WorkOutcome> done;
    std::vector<model::InferenceRequest> chained;
    for (model::InferenceResult& result : results) {
      auto it = pending_.find(result.tag / 2);
      if (it == pending_.end()) {
        spdlog::error("the engine returned a result for unknown request {} ({})", result.tag, result.sample_key);
        continue;
      }
      Pending& p = it->second;
      if (result.tag % 2 == 0) {
        p.main = std::move(result);
        if (p.chain) {
          if (p.main.ok) {
            std::optional<model::InferenceRequest> request = chained_request(it->first, p);
            if (request) {
              chained.push_back(std::move(*request));
              --p.parts;  // the chained request now counts as the item's second part
              continue;
            }
          }
          p.parts = 1;  // no chained generation: the item is done
        }
      } else if (p.chain) {
        p.chain->result = std::move(result);
      } else {
        p.followup = std::move(result);
      }
      if (--p.parts == 0) {
        done.push_back(assemble(p));
        pending_.erase(it);
      }
    }
    if (!chained.empty()) engine.submit(std::move(chained));
    return done;
  }

  std::vector<WorkOutcome> fail_all(const std::string& reason) {
    std::vector<WorkOutcome> done;
    for (auto& [id, p] : pending_) {
      p.outcome.ok = false;
      p.outcome.error = reason;
      done.push_back(p.outcome);
    }
    pending_.clear();
    return done;
  }

  bool empty() const { return pending_.empty(); }

 private:
  // A chained second generation: what its input is made of, its settings, then its result.
  struct ChainedRequest {
    std::string before, after;
    bool add_special_tokens = false;
    GenerationSettings generation;
    MethodSpec method;
    model::InferenceResult result;
    std::string error;  // its input could not be made
  };

  struct Pending {
    WorkOutcome outcome;
    std::string followup_prefix, followup_suffix;
    int parts = 1;
    bool has_followup = false;
    model::InferenceResult main, followup;
    std::unique_ptr<ChainedRequest> chain;  // null: none
  };

  // The chained request of item `id` from its first output, or nullopt (chain->error says why).
  std::optional<model::InferenceRequest> chained_request(int64_t id, Pending& p) const {
    ChainedRequest& chain = *p.chain;
    if (!encode_) {
      chain.error = "this worker has no tokenizer for the chained generation's input";
      return std::nullopt;
    }
    std::vector<int32_t> ids;
    try {
      ids = encode_(chain.before + strip_output(p.main.text) + chain.after, chain.add_special_tokens);
    } catch (const std::exception& e) {
      chain.error = "its input could not be tokenized: " + describe_exception(e);
      return std::nullopt;
    }
    return model::InferenceRequest{2 * id + 1, p.outcome.sample_key + "#chain", std::move(ids), -1,
                                   chain.generation, chain.method};
  }

  static WorkOutcome assemble(Pending& p) {
    WorkOutcome& outcome = p.outcome;
    const model::InferenceResult& result = p.main;
    outcome.ok = result.ok;
    outcome.error = result.error;
    outcome.prediction = result.text;
    const int64_t prompt_tokens = outcome.cost.input_tokens;
    outcome.cost = result.cost;  // the engine's record, carried unchanged to the results row
    if (outcome.cost.input_tokens <= 0) outcome.cost.input_tokens = prompt_tokens;
    if (!result.ok) spdlog::warn("sample {} failed: {}", outcome.sample_key, result.error);
    if (outcome.ok && p.has_followup) {
      const model::InferenceResult& followup = p.followup;
      if (!followup.ok) {
        outcome.ok = false;
        outcome.error = "follow-up generation failed: " + followup.error;
        outcome.prediction.clear();
        spdlog::warn("sample {} failed: {}", outcome.sample_key, outcome.error);
      } else {
        outcome.prediction += p.followup_prefix + followup.text + p.followup_suffix;
        // The follow-up's generation is part of the sample's: its tokens and seconds add.
        outcome.cost.output_tokens += followup.cost.output_tokens;
        outcome.cost.prefill_seconds += followup.cost.prefill_seconds;
        outcome.cost.decode_seconds += followup.cost.decode_seconds;
      }
    }
    if (outcome.ok && p.chain) {
      const ChainedRequest& chain = *p.chain;
      outcome.first_output = std::move(outcome.prediction);
      outcome.prediction.clear();
      if (!chain.error.empty() || !chain.result.ok) {
        outcome.ok = false;
        outcome.error = "the chained generation failed: " + (chain.error.empty() ? chain.result.error : chain.error);
        spdlog::warn("sample {} failed: {}", outcome.sample_key, outcome.error);
      } else {
        outcome.prediction = chain.result.text;
        // The chained generation is part of the sample's: its tokens and seconds add (input_tokens stays the first
        // prompt's, the row's context length).
        outcome.cost.output_tokens += chain.result.cost.output_tokens;
        outcome.cost.prefill_seconds += chain.result.cost.prefill_seconds;
        outcome.cost.decode_seconds += chain.result.cost.decode_seconds;
      }
    }
    return outcome;
  }

  int world_rank_;
  int group_index_;
  TextEncoder encode_;
  int64_t next_id_ = 0;
  std::map<int64_t, Pending> pending_;
};

}  // namespace

int64_t engine_prompt_id(protocol::PromptId prompt, bool follow_up) { return 2 * prompt + (follow_up ? 1 : 0); }

std::string strip_output(const std::string& text) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); };
  size_t begin = 0, end = text.size();
  while (begin < end && space(text[begin])) ++begin;
  while (end > begin && space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::vector<WorkOutcome> run_batch(model::InferenceEngine& engine, const WorkAssignment& batch, int world_rank,
                                   int group_index, const TextEncoder& encode) {
  const std::vector<WorkItem>& items = batch.items;
  ItemTracker tracker(world_rank, group_index, encode);
  std::vector<WorkOutcome> outcomes;
  try {
    tracker.submit(engine, batch);
    while (!tracker.empty()) {
      for (WorkOutcome& outcome : tracker.collect(engine, engine.step())) outcomes.push_back(std::move(outcome));
      if (engine.idle() && !tracker.empty()) throw std::runtime_error("the engine went idle with requests in flight");
    }
  } catch (const std::exception& e) {
    const std::string reason = describe_exception(e);
    spdlog::warn("batch of {} failed: {}", items.size(), reason);
    for (WorkOutcome& outcome : tracker.fail_all(reason)) outcomes.push_back(std::move(outcome));
  }
  // In the items' order.
  std::map<std::string, WorkOutcome> by_key;
  for (WorkOutcome& outcome : outcomes) by_key[outcome.sample_key] = std::move(outcome);
  std::vector<WorkOutcome> ordered;
  for (const WorkItem& item : items) ordered.push_back(std::move(by_key[item.sample_key]));
  return ordered;
}

std::string agree_on_load(const mpi::Comm& group, const std::string& own_error) {
  const int64_t all_loaded = group.all_reduce_min(own_error.empty() ? 1 : 0);
  if (all_loaded) return "";
  if (!own_error.empty()) return own_error;
  return "another rank of this tensor-parallel group failed to load the model (see its log)";
}

WorkerSummary run_worker_loop(const mpi::Comm& world, const mpi::Comm& group, model::InferenceEngine* engine,
                              const std::string& load_error, const WorkerOptions& options) {
  WorkerSummary summary;
  const bool leader = group.rank() == 0;
  const bool usable = engine != nullptr && load_error.empty();
  ItemTracker tracker(world.rank(), options.group_index, options.encode);
  std::vector<WorkOutcome> ready;
  bool first = true;
  bool stopped = false;
  // The room an empty answer was given for: ask again only when the engine has more (no round trip per step).
  int32_t refused_slots = -1;
  int64_t refused_tokens = -1;
  while (true) {
    WorkAssignment assignment;
    if (leader) {
      WorkRequest request;
      request.group = options.group_index;
      bool talk = first || !ready.empty();
      if (!usable) {
        request.fatal_error = load_error.empty() ? "the engine could not be created" : load_error;
        talk = true;
      } else {
        const model::EngineLoad load = engine->load();
        const bool more_room = load.free_slots > refused_slots || load.free_kv_tokens > refused_tokens ||
                               load.running == 0;
        if (!stopped && load.free_slots > 0 && (more_room || talk)) {
          request.capacity = load.free_slots;
          talk = true;
        }
        request.free_kv_tokens = load.free_kv_tokens;
        request.running = load.running;
        if (stopped && tracker.empty() && engine->idle()) {
          request.retiring = true;
          talk = true;
        }
        if (first) request.device = engine->device_description();
      }
      if (talk) {
        request.outcomes = std::move(ready);
        ready.clear();
        world.send(request, options.dispatcher_rank, mpi::MessageTag::kWorkRequest);
        assignment = world.recv<WorkAssignment>(options.dispatcher_rank, mpi::MessageTag::kWorkAssignment, nullptr,
                                                options.wait);
        first = false;
        if (request.capacity > 0 && assignment.items.empty()) {
          refused_slots = request.capacity;
          refused_tokens = request.free_kv_tokens;
        } else if (!assignment.items.empty()) {
          refused_slots = -1;
          refused_tokens = -1;
        }
      }
    }
    if (group.size() > 1) group.broadcast(assignment, 0, options.wait);
    if (assignment.retire) break;
    if (assignment.stop) stopped = true;
    if (!usable) continue;
    if (!assignment.items.empty()) {
      ++summary.assignments;
      summary.items += static_cast<int64_t>(assignment.items.size());
      tracker.submit(*engine, assignment);
    }
    if (engine->idle()) continue;
    std::vector<WorkOutcome> finished;
    try {
      finished = tracker.collect(*engine, engine->step());
      ++summary.steps;
    } catch (const std::exception& e) {
      const std::string reason = describe_exception(e);
      spdlog::error("engine step failed: {}; failing the {} requests it held", reason, engine->load().running);
      finished = tracker.fail_all(fmt::format("engine step failed: {}", reason));
    }
    for (WorkOutcome& outcome : finished) {
      summary.failed += outcome.ok ? 0 : 1;
      if (leader) ready.push_back(std::move(outcome));
    }
  }
  return summary;
}

}  // namespace loom::worker
