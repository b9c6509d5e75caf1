// Method registry: each catalogue method's policy factory, built from the parameters the catalogue resolves.
#include "rank/accel/registry.h"

#include "common/error.h"
#include "methods/method_catalogue.h"
#include "rank/accel/cake_policy.h"
#include "rank/accel/compactor_policy.h"
#include "rank/accel/decoding_policy.h"
#include "rank/accel/duo_attention_policy.h"
#include "rank/accel/eviction_policy.h"
#include "rank/accel/kivi_policy.h"
#include "rank/accel/kvzip_policy.h"
#include "rank/accel/method_files.h"
#include "rank/accel/method_params.h"
#include "rank/accel/sparse_prefill_policy.h"
#include "rank/accel/think_policy.h"

#include <functional>
#include <map>

namespace loom::accel {

namespace {

class FullCacheFactory final : public model::AttentionPolicyFactory {
 public:
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<model::FullCachePolicy>(context);
  }
  std::string name() const override { return "full"; }
};

using Maker = std::function<std::shared_ptr<const model::AttentionPolicyFactory>(const MethodParams&)>;
using FactoryPtr = std::shared_ptr<const model::AttentionPolicyFactory>;

FactoryPtr make_eviction(const MethodParams& p, ScorerKind kind) {
  EvictionSettings s;
  s.name = p.method();
  s.budget = read_token_budget(p);
  s.scorer = read_scorer_settings(kind, p);
  s.skip_layers = p.get_int_list("skip_layers");
  return std::make_shared<EvictionPolicyFactory>(s);
}

Maker eviction(ScorerKind kind) {
  return [kind](const MethodParams& p) { return make_eviction(p, kind); };
}

// How each method of the catalogue (methods/method_catalogue.h) becomes a policy factory; the values (defaults
// included) come from the catalogue through MethodParams.
const std::map<std::string, Maker>& makers() {
  static const std::map<std::string, Maker> table = {
      {"full", [](const MethodParams&) -> FactoryPtr { return std::make_shared<FullCacheFactory>(); }},
      {"streaming_llm", eviction(ScorerKind::kStreaming)},
      {"snapkv", eviction(ScorerKind::kSnapKV)},
      {"h2o", eviction(ScorerKind::kH2O)},
      {"knorm", eviction(ScorerKind::kKnorm)},
      {"l2compress", eviction(ScorerKind::kKnorm)},
      {"tova", eviction(ScorerKind::kTOVA)},
      {"observed_attention", eviction(ScorerKind::kObserved)},
      {"keydiff", eviction(ScorerKind::kKeyDiff)},
      {"expected_attention", eviction(ScorerKind::kExpected)},
      {"cur", eviction(ScorerKind::kCur)},
      {"lagkv", eviction(ScorerKind::kLagKV)},
      {"random", eviction(ScorerKind::kRandom)},
      {"kvzip",
       [](const MethodParams& p) -> FactoryPtr {
         KVzipSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.layerwise = p.get_bool("layerwise");
         s.n_sink = p.get_int("n_sink");
         s.chunk_size = p.get_int("chunk_size");
         return std::make_shared<KVzipPolicyFactory>(s);
       }},
      {"compactor",
       [](const MethodParams& p) -> FactoryPtr {
         CompactorPolicySettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scores.sink_size_start = p.get_int("sink_size_start");
         s.scores.sink_size_end = p.get_int("sink_size_end");
         s.scores.chunk_size = p.get_int("chunk_size");
         s.scores.sketch_dimension = p.get_int("sketch_dimension");
         s.scores.seed = static_cast<uint64_t>(p.get_int("seed"));
         s.blending = p.get_optional_double("blending");
         return std::make_shared<CompactorPolicyFactory>(s);
       }},
      {"pyramidkv",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer = read_scorer_settings(ScorerKind::kSnapKV, p);
         s.layout = BudgetLayout::kPyramid;
         s.beta = p.get_double("beta");
         s.skip_layers = p.get_int_list("skip_layers");
         return std::make_shared<EvictionPolicyFactory>(s);
       }},
      {"block_keydiff",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer = read_scorer_settings(ScorerKind::kKeyDiff, p);
         s.layout = BudgetLayout::kBlock;
         s.block_size = p.get_int("block_size");
         s.skip_layers = p.get_int_list("skip_layers");
         return std::make_shared<EvictionPolicyFactory>(s);
       }},
      {"chunkkv",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer = read_scorer_settings(scorer_kind(p.get_string("scorer")), p);
         s.layout = BudgetLayout::kChunk;
         s.chunk_length = p.get_int("chunk_length");
         s.skip_layers = p.get_int_list("skip_layers");
         return std::make_shared<EvictionPolicyFactory>(s);
       }},
      {"criticalkv",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer = read_scorer_settings(scorer_kind(p.get_string("scorer")), p);
         s.critical = true;
         s.critical_epsilon = p.get_double("epsilon");
         s.first_stage_ratio = p.get_double("first_stage_ratio");
         s.skip_layers = p.get_int_list("skip_layers");
         return std::make_shared<EvictionPolicyFactory>(s);
       }},
      {"critical_adakv",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer = read_scorer_settings(scorer_kind(p.get_string("scorer")), p);
         s.layout = BudgetLayout::kAdaKV;
         s.alpha_safeguard = p.get_double("alpha_safeguard");
         s.critical = true;
         s.critical_epsilon = p.get_double("epsilon");
         s.first_stage_ratio = p.get_double("first_stage_ratio");
         s.skip_layers = p.get_int_list("skip_layers");
         return std::make_shared<EvictionPolicyFactory>(s);
       }},
      {"key_rerotation",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer = read_scorer_settings(scorer_kind(p.get_string("scorer")), p);
         s.rerotate = true;
         return std::make_shared<EvictionPolicyFactory>(s);
       }},
      {"decoding",
       [](const MethodParams& p) -> FactoryPtr {
         DecodingSettings s;
         s.name = p.method();
         s.scorer = read_scorer_settings(scorer_kind(p.get_string("scorer")), p);
         s.compression_interval = p.get_int("compression_interval");
         s.target_size = p.get_int("target_size");
         s.hidden_states_buffer_size = p.get_int("hidden_states_buffer_size");
         return std::make_shared<DecodingPolicyFactory>(s);
       }},
      {"compression_ratio_decoding",
       [](const MethodParams& p) -> FactoryPtr {
         DecodingSettings s;
         s.name = p.method();
         s.scorer = read_scorer_settings(scorer_kind(p.get_string("scorer")), p);
         s.compression_interval = p.get_int("compression_interval");
         s.target_compression_ratio = p.get_double("target_compression_ratio");
         s.hidden_states_buffer_size = p.get_int("hidden_states_buffer_size");
         return std::make_shared<DecodingPolicyFactory>(s);
       }},
      {"prefill_decoding",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings prefill;
         prefill.name = p.method();
         prefill.budget = read_token_budget(p);
         prefill.scorer = read_scorer_settings(scorer_kind(p.get_string("scorer")), p);
         DecodingSettings decoding;
         decoding.name = p.method();
         decoding.scorer = prefill.scorer;
         decoding.compression_interval = p.get_int("compression_interval");
         decoding.target_size = p.get_int("target_size");
         decoding.hidden_states_buffer_size = p.get_int("hidden_states_buffer_size");
         return std::make_shared<PrefillDecodingPolicyFactory>(prefill, decoding);
       }},
      {"finch",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer = read_scorer_settings(ScorerKind::kFinch, p);
         if (const auto chunk = p.get_optional_int("chunk_length")) {
           s.layout = BudgetLayout::kPerChunk;
           s.chunk_length = *chunk;
         }
         s.rerotate = p.get_bool("rerotate_keys");
         return std::make_shared<EvictionPolicyFactory>(s);
       }},
      {"qfilter", eviction(ScorerKind::kQFilter)},
      {"duo_attention",
       [](const MethodParams& p) -> FactoryPtr {
         return std::make_shared<DuoAttentionPolicyFactory>(p.method(), load_duo_pattern(p.get_string("pattern_path")),
                                                            p.get_double("head_compression_ratio"));
       }},
      {"adakv",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer = read_scorer_settings(scorer_kind(p.get_string("scorer")), p);
         s.layout = BudgetLayout::kAdaKV;
         s.alpha_safeguard = p.get_double("alpha_safeguard");
         s.skip_layers = p.get_int_list("skip_layers");
         return std::make_shared<EvictionPolicyFactory>(s);
       }},
      {"cakekv",
       [](const MethodParams& p) -> FactoryPtr {
         CakeSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer = read_scorer_settings(ScorerKind::kCake, p);
         s.tau1 = p.get_double("tau1");
         s.tau2 = p.get_double("tau2");
         return std::make_shared<CakePolicyFactory>(s);
       }},
      {"cam",
       [](const MethodParams& p) -> FactoryPtr {
         EvictionSettings s;
         s.name = p.method();
         s.budget = read_token_budget(p);
         s.scorer.kind = ScorerKind::kH2O;
         s.scorer.window_size = p.get_int("window_size");
         s.scorer.softmax_chunk = 0;  // CaM scores with one softmax over all keys
         s.cam_merge = true;
         s.start_budget_ratio = p.get_double("start_budget_ratio");
         s.seed = static_cast<uint64_t>(p.get_int("seed"));
         return std::make_shared<EvictionPolicyFactory>(s);
       }},
      {"think",
       [](const MethodParams& p) -> FactoryPtr {
         ThinkSettings s;
         s.name = p.method();
         const TokenBudget budget = read_token_budget(p);
         if (budget.compression_ratio || budget.max_capacity_prompt) s.budget = budget;
         s.snapkv = read_scorer_settings(ScorerKind::kSnapKV, p);
         s.key_channel_compression_ratio = p.get_double("key_channel_compression_ratio");
         s.recent_size = p.get_int("recent_size");
         return std::make_shared<ThinkPolicyFactory>(s);
       }},
      {"kivi",
       [](const MethodParams& p) -> FactoryPtr {
         KiviSettings s;
         s.k_bits = static_cast<int>(p.get_int("k_bits"));
         s.v_bits = static_cast<int>(p.get_int("v_bits"));
         s.group_size = p.get_int("group_size");
         s.residual_length = p.get_int("residual_length");
         return std::make_shared<KiviPolicyFactory>(p.method(), s);
       }},
      {"flexprefill",
       [](const MethodParams& p) -> FactoryPtr {
         SparsePrefillSettings s;
         s.name = p.method();
         s.kind = SparsePrefillKind::kFlexPrefill;
         s.flex.block_size = p.get_int("block_size");
         s.flex.gamma = p.get_double("gamma");
         s.flex.tau = p.get_double("tau");
         s.flex.min_budget = p.get_int("min_budget");
         s.flex.max_budget = p.get_int("max_budget");
         return std::make_shared<SparsePrefillPolicyFactory>(s);
       }},
      {"xattention",
       [](const MethodParams& p) -> FactoryPtr {
         SparsePrefillSettings s;
         s.name = p.method();
         s.kind = SparsePrefillKind::kXAttention;
         s.xattn.block_size = p.get_int("block_size");
         s.xattn.stride = p.get_int("stride");
         s.xattn.threshold = p.get_double("threshold");
         s.xattn.keep_sink = p.get_bool("keep_sink");
         s.xattn.keep_recent = p.get_bool("keep_recent");
         return std::make_shared<SparsePrefillPolicyFactory>(s);
       }},
  };
  return table;
}

}  // namespace

const std::vector<MethodInfo>& known_methods() {
  static const std::vector<MethodInfo> infos = [] {
    std::vector<MethodInfo> out;
    for (const methods::MethodDef& m : methods::method_catalogue()) out.push_back({m.name, m.family, m.summary});
    return out;
  }();
  return infos;
}

std::shared_ptr<const model::AttentionPolicyFactory> resolve_policy(const MethodSpec& spec) {
  const MethodParams params(spec);  // InputError for an unknown method or a bad parameter
  const auto it = makers().find(params.method());
  LOOM_CHECK(it != makers().end(), "method {} is in the catalogue but has no policy", params.method());
  return it->second(params);
}

}  // namespace loom::accel
