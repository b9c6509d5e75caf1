// Method registry: parses each method's parameters with its reference defaults and builds its policy factory.
#include "rank/accel/registry.h"

#include "common/error.h"
#include "rank/accel/cake_policy.h"
#include "rank/accel/eviction_policy.h"
#include "rank/accel/kivi_policy.h"
#include "rank/accel/method_params.h"
#include "rank/accel/sparse_prefill_policy.h"
#include "rank/accel/think_policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (fmt >= 11 declares it here)

#include <functional>
#include <limits>
#include <map>

namespace loom::accel {

namespace {

constexpr int64_t kMaxTokens = std::numeric_limits<int32_t>::max();

class FullCacheFactory final : public model::AttentionPolicyFactory {
 public:
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<model::FullCachePolicy>(context);
  }
  std::string name() const override { return "full"; }
};

TokenBudget ratio_budget(double ratio) {
  TokenBudget b;
  b.compression_ratio = ratio;
  return b;
}

TokenBudget capacity_budget(int64_t capacity) {
  TokenBudget b;
  b.max_capacity_prompt = capacity;
  return b;
}

using Maker = std::function<std::shared_ptr<const model::AttentionPolicyFactory>(MethodParams&)>;

std::shared_ptr<const model::AttentionPolicyFactory> make_eviction(MethodParams& p, ScorerKind kind,
                                                                   const TokenBudget& default_budget,
                                                                   int64_t default_window,
                                                                   std::vector<int64_t> default_skip = {}) {
  EvictionSettings s;
  s.name = p.method();
  s.budget = read_token_budget(p, default_budget);
  s.scorer = read_scorer_settings(kind, p, default_window);
  s.skip_layers = p.get_int_list("skip_layers", default_skip);
  return std::make_shared<EvictionPolicyFactory>(s);
}

const std::map<std::string, std::pair<MethodInfo, Maker>>& table() {
  static const std::map<std::string, std::pair<MethodInfo, Maker>> methods = {
      {"full", {{"full", "none", "dense full cache (baseline)"}, [](MethodParams&) {
                  return std::shared_ptr<const model::AttentionPolicyFactory>(std::make_shared<FullCacheFactory>());
                }}},
      {"streaming_llm", {{"streaming_llm", "token eviction", "attention sinks + most recent tokens"},
                         [](MethodParams& p) { return make_eviction(p, ScorerKind::kStreaming, ratio_budget(0.5), 0); }}},
      {"snapkv", {{"snapkv", "token eviction", "observation-window attention with pooling"},
                  [](MethodParams& p) { return make_eviction(p, ScorerKind::kSnapKV, ratio_budget(0.5), 64); }}},
      {"h2o", {{"h2o", "token eviction", "accumulated window attention (LOOM-Scope chunked softmax)"},
               [](MethodParams& p) { return make_eviction(p, ScorerKind::kH2O, capacity_budget(2048), 32); }}},
      {"knorm", {{"knorm", "token eviction", "keep the smallest-norm keys"},
                 [](MethodParams& p) { return make_eviction(p, ScorerKind::kKnorm, ratio_budget(0.5), 0); }}},
      {"l2compress", {{"l2compress", "token eviction", "LOOM-Scope L2Compress: smallest key norms, skip_layers"},
                      [](MethodParams& p) {
                        return make_eviction(p, ScorerKind::kKnorm, capacity_budget(4096), 0, {0, 1});
                      }}},
      {"tova", {{"tova", "token eviction", "last query's head-averaged attention"},
                [](MethodParams& p) { return make_eviction(p, ScorerKind::kTOVA, ratio_budget(0.5), 1); }}},
      {"observed_attention", {{"observed_attention", "token eviction", "attention received from all prompt queries"},
                              [](MethodParams& p) {
                                return make_eviction(p, ScorerKind::kObserved, ratio_budget(0.5), 0);
                              }}},
      {"keydiff", {{"keydiff", "token eviction", "keys least similar to the mean key"},
                   [](MethodParams& p) { return make_eviction(p, ScorerKind::kKeyDiff, ratio_budget(0.5), 0); }}},
      {"expected_attention", {{"expected_attention", "token eviction", "expected attention of future queries"},
                              [](MethodParams& p) {
                                return make_eviction(p, ScorerKind::kExpected, ratio_budget(0.5), 0);
                              }}},
      {"pyramidkv", {{"pyramidkv", "layer/head budgets", "SnapKV scores, budgets falling linearly over layers"},
                     [](MethodParams& p) {
                       EvictionSettings s;
                       s.name = p.method();
                       s.budget = read_token_budget(p, ratio_budget(0.5));
                       s.scorer = read_scorer_settings(ScorerKind::kSnapKV, p, 64);
                       s.layout = BudgetLayout::kPyramid;
                       s.beta = p.get_double("beta", 20.0, 1.0, 1e6);
                       s.skip_layers = p.get_int_list("skip_layers", {});
                       return std::shared_ptr<const model::AttentionPolicyFactory>(
                           std::make_shared<EvictionPolicyFactory>(s));
                     }}},
      {"adakv", {{"adakv", "layer/head budgets", "head-adaptive budgets over any scorer (real varlen cache)"},
                 [](MethodParams& p) {
                   EvictionSettings s;
                   s.name = p.method();
                   s.budget = read_token_budget(p, ratio_budget(0.5));
                   const std::string scorer = p.get_choice("scorer", "snapkv", scorer_names());
                   s.scorer = read_scorer_settings(scorer_kind(scorer), p, scorer == "h2o" ? 32 : 64);
                   s.layout = BudgetLayout::kAdaKV;
                   s.alpha_safeguard = p.get_double("alpha_safeguard", 0.2, 0.0, 1.0);
                   s.skip_layers = p.get_int_list("skip_layers", {});
                   return std::shared_ptr<const model::AttentionPolicyFactory>(
                       std::make_shared<EvictionPolicyFactory>(s));
                 }}},
      {"cakekv", {{"cakekv", "layer/head budgets", "CAKE: layer budgets from attention preferences, cascading"},
                  [](MethodParams& p) {
                    CakeSettings s;
                    s.name = p.method();
                    s.budget = read_token_budget(p, capacity_budget(1024));
                    s.scorer = read_scorer_settings(ScorerKind::kCake, p, 32);
                    s.tau1 = p.get_double("tau1", 1.0, 1e-6, 1e6);
                    s.tau2 = p.get_double("tau2", 1.0, 1e-6, 1e6);
                    return std::shared_ptr<const model::AttentionPolicyFactory>(std::make_shared<CakePolicyFactory>(s));
                  }}},
      {"cam", {{"cam", "hybrid/merge", "CaM: merge evicted values into neighbours, then evict"},
               [](MethodParams& p) {
                 EvictionSettings s;
                 s.name = p.method();
                 s.budget = read_token_budget(p, capacity_budget(2048));
                 s.scorer = read_scorer_settings(ScorerKind::kH2O, p, 32);
                 s.scorer.softmax_chunk = 0;
                 s.cam_merge = true;
                 s.start_budget_ratio = p.get_double("start_budget_ratio", 0.1, 0.0, 1.0);
                 s.seed = static_cast<uint64_t>(p.get_int("seed", 0, 0, std::numeric_limits<int64_t>::max()));
                 return std::shared_ptr<const model::AttentionPolicyFactory>(std::make_shared<EvictionPolicyFactory>(s));
               }}},
      {"think", {{"think", "hybrid/merge", "ThinK: prune key channels (real pruned-key cache), optional SnapKV"},
                 [](MethodParams& p) {
                   ThinkSettings s;
                   s.name = p.method();
                   TokenBudget none;
                   TokenBudget budget = read_token_budget(p, none);
                   if (budget.compression_ratio || budget.max_capacity_prompt) s.budget = budget;
                   s.snapkv = read_scorer_settings(ScorerKind::kSnapKV, p, 32);
                   s.key_channel_compression_ratio = p.get_double("key_channel_compression_ratio", 0.4, 0.0, 0.99);
                   s.recent_size = p.get_int("recent_size", 32, 0, kMaxTokens);
                   return std::shared_ptr<const model::AttentionPolicyFactory>(std::make_shared<ThinkPolicyFactory>(s));
                 }}},
      {"kivi", {{"kivi", "quantization", "KIVI 2/4-bit KV (keys per channel, values per token) + fp residual"},
                [](MethodParams& p) {
                  KiviSettings s;
                  s.k_bits = static_cast<int>(p.get_int("k_bits", 2, 2, 8));
                  s.v_bits = static_cast<int>(p.get_int("v_bits", 2, 2, 8));
                  if (s.k_bits != 2 && s.k_bits != 4 && s.k_bits != 8) p.fail("k_bits", "2, 4 or 8");
                  if (s.v_bits != 2 && s.v_bits != 4 && s.v_bits != 8) p.fail("v_bits", "2, 4 or 8");
                  s.group_size = p.get_int("group_size", 32, 4, 4096);
                  s.residual_length = p.get_int("residual_length", 128, 0, kMaxTokens);
                  if (s.residual_length % s.group_size != 0) {
                    p.fail("residual_length", "a multiple of group_size");
                  }
                  return std::shared_ptr<const model::AttentionPolicyFactory>(
                      std::make_shared<KiviPolicyFactory>(p.method(), s));
                }}},
      {"flexprefill", {{"flexprefill", "sparse prefill", "query-aware / vertical-slash block-sparse prefill"},
                       [](MethodParams& p) {
                         SparsePrefillSettings s;
                         s.name = p.method();
                         s.kind = SparsePrefillKind::kFlexPrefill;
                         s.flex.block_size = p.get_int("block_size", 128, 16, 128);
                         s.flex.gamma = p.get_double("gamma", 0.9, 0.0, 1.0);
                         s.flex.tau = p.get_double("tau", 0.1, 0.0, 1.0);
                         s.flex.min_budget = p.get_int("min_budget", 512, 1, kMaxTokens);
                         s.flex.max_budget = p.get_int("max_budget", 32768, 1, kMaxTokens);
                         return std::shared_ptr<const model::AttentionPolicyFactory>(
                             std::make_shared<SparsePrefillPolicyFactory>(s));
                       }}},
      {"xattention", {{"xattention", "sparse prefill", "antidiagonal block scoring, threshold selection"},
                      [](MethodParams& p) {
                        SparsePrefillSettings s;
                        s.name = p.method();
                        s.kind = SparsePrefillKind::kXAttention;
                        s.xattn.block_size = p.get_int("block_size", 128, 16, 128);
                        s.xattn.stride = p.get_int("stride", 16, 1, 128);
                        if (s.xattn.block_size % s.xattn.stride != 0) p.fail("stride", "a divisor of block_size");
                        s.xattn.threshold = p.get_double("threshold", 0.9, 0.0, 1.0);
                        s.xattn.keep_sink = p.get_bool("keep_sink", false);
                        s.xattn.keep_recent = p.get_bool("keep_recent", false);
                        return std::shared_ptr<const model::AttentionPolicyFactory>(
                            std::make_shared<SparsePrefillPolicyFactory>(s));
                      }}},
  };
  return methods;
}

}  // namespace

const std::vector<MethodInfo>& known_methods() {
  static const std::vector<MethodInfo> infos = [] {
    std::vector<MethodInfo> out;
    for (const auto& [name, entry] : table()) out.push_back(entry.first);
    return out;
  }();
  return infos;
}

std::shared_ptr<const model::AttentionPolicyFactory> resolve_policy(const MethodSpec& spec) {
  const std::string name = spec.name.empty() ? "full" : spec.name;
  auto it = table().find(name);
  if (it == table().end()) {
    std::vector<std::string> names;
    for (const auto& [known, entry] : table()) names.push_back(known);
    throw InputError("acceleration methods", 0, "method", fmt::format("one of {} (got '{}')", fmt::join(names, ", "), name));
  }
  MethodSpec named = spec;
  named.name = name;
  MethodParams params(named);
  auto factory = it->second.second(params);
  params.finish();
  return factory;
}

}  // namespace loom::accel
