// The method catalogue (see method_catalogue.h): the table of methods and their parameters. Parameter
// resolution and checks against it: method_params_resolution.cpp.
#include "methods/method_catalogue.h"

#include "common/did_you_mean.h"
#include "methods/method_file_shapes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace loom::methods {

namespace {

constexpr double kMaxTokens = 2147483647.0;  // int32 max: prompt lengths and budgets
constexpr double kMaxSeed = 9007199254740991.0;  // 2^53 - 1: exact in a double

using nlohmann::json;

ParamDef integer(std::string name, json fallback, double min, double max, std::string description,
                 ParamRole role = ParamRole::kMethod) {
  return {std::move(name), ParamType::kInt, std::move(fallback), min, max, {}, std::move(description), role};
}
ParamDef number(std::string name, json fallback, double min, double max, std::string description,
                ParamRole role = ParamRole::kMethod) {
  return {std::move(name), ParamType::kNumber, std::move(fallback), min, max, {}, std::move(description), role};
}
ParamDef boolean(std::string name, bool fallback, std::string description, ParamRole role = ParamRole::kMethod) {
  return {std::move(name), ParamType::kBool, fallback, 0, 0, {}, std::move(description), role};
}
ParamDef choice(std::string name, std::string fallback, std::vector<std::string> choices, std::string description,
                ParamRole role = ParamRole::kMethod) {
  return {std::move(name), ParamType::kChoice, std::move(fallback), 0, 0, std::move(choices), std::move(description),
          role};
}
ParamDef path(std::string name, std::string description) {
  return {std::move(name), ParamType::kPath, nullptr, 0, 0, {}, std::move(description), ParamRole::kMethod};
}
// A parameter without a default that the method cannot run without.
void require(const json& resolved, const std::string& key, const std::string& what) {
  if (!resolved.contains(key)) throw MethodError("params." + key, what + " (required)");
}
ParamDef bits(std::string name, std::string description) {
  ParamDef p = integer(std::move(name), 2, 2, 8, std::move(description));
  p.choices = {"2", "4", "8"};
  return p;
}

// Budget alternatives: `ratio_default` or `capacity_default` (or neither) applies when a job gives none.
std::vector<ParamDef> budget(json ratio_default, json capacity_default) {
  return {number("compression_ratio", std::move(ratio_default), 0.0, 0.999999,
                 "Fraction of the prompt's KV entries evicted per head (kvpress); keeps max(1, int(T * (1 - r))), "
                 "window included. Alternative to max_capacity_prompt.",
                 ParamRole::kBudget),
          integer("max_capacity_prompt", std::move(capacity_default), 1, kMaxTokens,
                  "KV entries kept per head after prefill, window included (LOOM-Scope / KVCache-Factory). "
                  "Alternative to compression_ratio.",
                  ParamRole::kBudget)};
}
ParamDef skip_layers(std::vector<int64_t> fallback = {}) {
  return {"skip_layers", ParamType::kIntList, fallback, 0, 1e6, {}, "Layers that keep their full cache."};
}
std::vector<ParamDef> snapkv_scorer(int64_t window) {
  return {integer("window_size", window, 1, 1 << 20, "Observation window: the last window_size prompt queries.",
                  ParamRole::kScorer),
          integer("kernel_size", 5, 1, 1025, "1-D pooling kernel over the window attention.", ParamRole::kScorer),
          choice("pooling", "avgpool", {"avgpool", "maxpool"}, "Pooling of the window attention.",
                 ParamRole::kScorer)};
}
std::vector<ParamDef> h2o_scorer(int64_t window) {
  return {integer("window_size", window, 1, 1 << 20, "Observation window: the last window_size prompt queries.",
                  ParamRole::kScorer),
          integer("softmax_chunk", 512, 0, 1 << 30,
                  "Keys per softmax (LOOM-Scope's chunked softmax quirk); 0 = one softmax over all keys.",
                  ParamRole::kScorer)};
}

std::vector<ParamDef> concat(std::initializer_list<std::vector<ParamDef>> parts) {
  std::vector<ParamDef> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

int64_t int_of(const json& resolved, const std::string& key) { return resolved.at(key).get<int64_t>(); }

MethodDef eviction(std::string name, std::string summary, std::string reference, std::vector<ParamDef> params) {
  MethodDef m;
  m.name = std::move(name);
  m.family = "token eviction";
  m.summary = std::move(summary);
  m.reference = std::move(reference);
  m.params = std::move(params);
  return m;
}

std::vector<MethodDef> build_catalogue() {
  std::vector<MethodDef> all;
  MethodDef full;
  full.name = "full";
  full.family = "none";
  full.summary = "dense full cache (baseline)";
  full.reference = "-";
  all.push_back(full);

  all.push_back(eviction(
      "streaming_llm", "attention sinks + most recent tokens",
      "kvpress StreamingLLMPress (n_sink=4); LOOM-Scope streaming_llm keeps C-w sinks + w recent (set n_sink = "
      "max_capacity_prompt - window).",
      concat({budget(0.5, nullptr),
              {integer("n_sink", 4, 0, 1 << 20, "Attention-sink tokens kept at the start.", ParamRole::kScorer),
               skip_layers()}})));
  all.push_back(eviction("snapkv", "observation-window attention with pooling",
                         "kvpress SnapKVPress (window_size=64, kernel_size=5); LOOM-Scope/KVCache-Factory: window "
                         "32, capacity 4096, avgpool|maxpool.",
                         concat({budget(0.5, nullptr), snapkv_scorer(64), {skip_layers()}})));
  all.push_back(eviction("h2o", "accumulated window attention (LOOM-Scope chunked softmax)",
                         "LOOM-Scope H2O/h2o_utils/h2o_util.py (window_size 32, max_capacity_prompt 2048, 512-key "
                         "chunks); softmax_chunk 0 is KVCache-Factory's single softmax.",
                         concat({budget(nullptr, 2048), h2o_scorer(32), {skip_layers()}})));
  all.push_back(eviction("knorm", "keep the smallest-norm keys", "kvpress KnormPress.",
                         concat({budget(0.5, nullptr), {skip_layers()}})));
  all.push_back(eviction("l2compress", "LOOM-Scope L2Compress: smallest key norms, skip_layers",
                         "LOOM-Scope L2Compress_util.py (max_capacity_prompt 4096, skip_layers [0, 1]).",
                         concat({budget(nullptr, 4096), {skip_layers({0, 1})}})));
  all.push_back(eviction("tova", "last query's head-averaged attention", "kvpress TOVAPress.",
                         concat({budget(0.5, nullptr), {skip_layers()}})));
  all.push_back(eviction("observed_attention", "attention received from all prompt queries",
                         "kvpress ObservedAttentionPress (needs all prompt queries: the engine keeps them).",
                         concat({budget(0.5, nullptr), {skip_layers()}})));
  all.push_back(eviction("keydiff", "keys least similar to the mean key", "kvpress KeyDiffPress.",
                         concat({budget(0.5, nullptr), {skip_layers()}})));
  all.push_back(eviction(
      "block_keydiff", "KeyDiff re-scored block by block (the KeyDiff paper's block-wise eviction)",
      "kvpress BlockPress(KeyDiffPress) (block_size 128): keep the first n_kept, then score kept + next block alone "
      "and keep its top n_kept.",
      concat({budget(0.5, nullptr),
              {integer("block_size", 128, 1, 1 << 20, "Prompt tokens added per re-scoring step.", ParamRole::kScorer),
               skip_layers()}})));
  all.push_back(eviction(
      "expected_attention", "expected attention of future queries",
      "kvpress ExpectedAttentionPress (n_future_positions 512, n_sink 4, use_covariance, use_vnorm, epsilon 0); "
      "kvpress's registry entry is adakv with scorer expected_attention and epsilon 0.01.",
      concat({budget(0.5, nullptr),
              {integer("n_future_positions", 512, 1, 1 << 24, "Future positions the query statistics cover.",
                       ParamRole::kScorer),
               integer("n_sink", 4, 0, 1 << 20, "Sink tokens always kept.", ParamRole::kScorer),
               boolean("use_covariance", true, "Use the query covariance, not only the mean.", ParamRole::kScorer),
               boolean("use_vnorm", true, "Weight scores by value norms.", ParamRole::kScorer),
               number("epsilon", 0.0, 0.0, 1e6, "Added to every score.", ParamRole::kScorer), skip_layers()}})));

  all.push_back(eviction(
      "cur", "CurDKV leverage: window-normalised key and value norms",
      "kvpress CURPress (num_sinks 4, kv_product, local window 16); use_random_leverage is not offered.",
      concat({budget(0.5, nullptr),
              {integer("n_sink", 4, 0, 1 << 20, "Sink tokens always kept (kvpress num_sinks).", ParamRole::kScorer),
               choice("leverage", "kv_product", {"kv_product", "kv_avg", "key", "value"},
                      "How key and value leverages combine (kvpress leverage_type).", ParamRole::kScorer),
               boolean("local_approximation", true, "Normalise the leverages within local windows.",
                       ParamRole::kScorer),
               integer("local_window_size", 16, 1, 1 << 20, "Tokens per normalisation window.", ParamRole::kScorer),
               skip_layers()}})));
  all.push_back(eviction("random", "uniform random scores (baseline)",
                         "kvpress RandomPress with a seed (torch CPU generator; the evaluation's seed is 42).",
                         concat({budget(0.5, nullptr),
                                 {integer("seed", 42, 0, kMaxSeed, "Seed of torch's CPU generator, reset per layer.",
                                          ParamRole::kScorer),
                                  skip_layers()}})));
  all.push_back(eviction(
      "lagkv", "lag-relative key/value spread inside partitions",
      "kvpress LagKVPress (n_sink 4, lag_size 128); sinks and the last partition always kept; prompts shorter "
      "than n_sink + 2 * lag_size fall back to StreamingLLM.",
      concat({budget(0.5, nullptr),
              {integer("n_sink", 4, 0, 1 << 20, "Sink tokens always kept.", ParamRole::kScorer),
               integer("lag_size", 128, 2, 1 << 20, "Tokens per partition.", ParamRole::kScorer), skip_layers()}})));

  all.push_back(eviction(
      "compactor", "blended key leverage and non-causal chunked attention (query-agnostic)",
      "kvpress CompactorPress (sink_size_start 8, sink_size_end 4, chunk_size 256, sketch_dimension 48, blending = "
      "compression_ratio); kvpress draws the Gaussian sketch from torch's unseeded global generator, here a CPU "
      "generator seeded with `seed` per layer.",
      concat({budget(0.5, nullptr),
              {integer("sink_size_start", 8, 0, 1 << 20, "First tokens always kept.", ParamRole::kScorer),
               integer("sink_size_end", 4, 0, 1 << 20, "Last tokens always kept.", ParamRole::kScorer),
               integer("chunk_size", 256, 1, 1 << 16, "Tokens per non-causal attention chunk.", ParamRole::kScorer),
               integer("sketch_dimension", 48, 1, 4096, "Columns of the Gaussian sketch of the pre-RoPE keys.",
                       ParamRole::kScorer),
               number("blending", nullptr, 0.0, 1e6,
                      "Weight of the leverage scores added to the attention scores; default: the compression "
                      "ratio (with max_capacity_prompt C: 1 - min(T, C) / T).",
                      ParamRole::kScorer),
               integer("seed", 42, 0, kMaxSeed, "Seed of torch's CPU generator for the sketch, reset per layer.",
                       ParamRole::kScorer)}})));

  std::vector<ParamDef> kvzip_budget = budget(0.5, nullptr);
  kvzip_budget[0].description =
      "Fraction of the prompt's KV entries evicted: the lowest int(L * H * T * r) reconstruction scores over all "
      "layers and heads (layerwise: int(H * T * r) per layer), so heads and layers keep different counts.";
  kvzip_budget[1].description =
      "Alternative to compression_ratio: the ratio 1 - min(T, C) / T with the same shared budgets.";
  all.push_back(eviction(
      "kvzip", "context reconstruction: attention each KV pair receives when the model re-reads the context",
      "kvpress KVzipPress (n_sink 4, chunk_size 2048, budgets shared across layers unless layerwise; "
      "kvzip_plus_normalization not offered). Costs an extra forward over the context (about 2-3x the prefill).",
      concat({kvzip_budget,
              {boolean("layerwise", false,
                       "Evict the same share in every layer (default: one budget over all layers and heads).",
                       ParamRole::kScorer),
               integer("n_sink", 4, 0, 1 << 20, "First tokens never evicted.", ParamRole::kScorer),
               integer("chunk_size", 2048, 1, 1 << 24, "Context tokens re-read per replay forward.",
                       ParamRole::kScorer)}})));

  MethodDef pyramid = eviction("pyramidkv", "SnapKV scores, budgets falling linearly over layers",
                               "kvpress PyramidKVPress (window 64, kernel 5, beta 20; ratio formula); with "
                               "max_capacity_prompt the KVCache-Factory integer formula.",
                               concat({budget(0.5, nullptr), snapkv_scorer(64),
                                       {number("beta", 20, 1.0, 1e6, "Pyramid steepness (kvpress beta)."),
                                        skip_layers()}}));
  pyramid.family = "layer/head budgets";
  all.push_back(pyramid);

  MethodDef chunkkv = eviction(
      "chunkkv", "whole chunks ranked by a scorer's mean score (same positions for every head)",
      "kvpress ChunkKVPress (chunk_length 20) over scorer (default snapkv); the scorer's own parameters (with that "
      "method's defaults) are accepted too.",
      concat({budget(0.5, nullptr),
              {choice("scorer", "snapkv",
                      {"streaming_llm", "snapkv", "knorm", "tova", "keydiff", "expected_attention"},
                      "Token scorer whose scores, summed over heads, rank the chunks; its parameters are accepted "
                      "too."),
               integer("chunk_length", 20, 1, 1 << 20, "Tokens per chunk (the trailing partial chunk is one more)."),
               skip_layers()}}));
  chunkkv.scorer_param = "scorer";
  all.push_back(chunkkv);
  MethodDef criticalkv = eviction(
      "criticalkv", "a scorer's scores re-weighted by the projected value norm |V W_o| (two-stage selection)",
      "kvpress CriticalKVPress (epsilon 1e-4, first_stage_ratio 0.5) over scorer (default snapkv); the scorer's "
      "own parameters (with that method's defaults) are accepted too. CriticalAdaKVPress is critical_adakv.",
      concat({budget(0.5, nullptr),
              {choice("scorer", "snapkv", {"streaming_llm", "snapkv", "knorm", "tova", "keydiff"},
                      "Token scorer of the first stage; its parameters are accepted too."),
               number("epsilon", 1e-4, 0.0, 1e6, "Added to the scores before weighting by |V W_o|."),
               number("first_stage_ratio", 0.5, 0.0, 1.0,
                      "Share of the budget kept by the scorer alone, before the |V W_o| weighting."),
               skip_layers()}}));
  criticalkv.scorer_param = "scorer";
  all.push_back(criticalkv);
  MethodDef critical_adakv = eviction(
      "critical_adakv", "CriticalKV's |V W_o| two-stage selection inside AdaKV's head-adaptive budgets",
      "kvpress CriticalAdaKVPress (alpha_safeguard 0.2, epsilon 1e-4, first_stage_ratio 0.5) over scorer (default "
      "snapkv); the scorer's own parameters (with that method's defaults) are accepted too. kvpress masks, we store "
      "only the kept rows.",
      concat({budget(0.5, nullptr),
              {choice("scorer", "snapkv", {"streaming_llm", "snapkv", "knorm", "tova", "keydiff"},
                      "Token scorer of the budgets and the first stage; its parameters are accepted too."),
               number("alpha_safeguard", 0.2, 0.0, 1.0, "Share of each head's budget kept by its own top scores."),
               number("epsilon", 1e-4, 0.0, 1e6, "Added to the scores before weighting by |V W_o|."),
               number("first_stage_ratio", 0.5, 0.0, 1.0,
                      "Share of each head's budget kept by the scorer alone, before the |V W_o| weighting."),
               skip_layers()}}));
  critical_adakv.family = "layer/head budgets";
  critical_adakv.scorer_param = "scorer";
  all.push_back(critical_adakv);
  MethodDef rerotation = eviction(
      "key_rerotation", "a scorer's kept keys re-rotated to contiguous positions; decoding continues from their count",
      "kvpress KeyRerotationPress over scorer (default streaming_llm, the SinkCache case); the scorer's own "
      "parameters (with that method's defaults) are accepted too.",
      concat({budget(0.5, nullptr),
              {choice("scorer", "streaming_llm",
                      {"streaming_llm", "snapkv", "knorm", "tova", "keydiff", "expected_attention"},
                      "Token scorer choosing the kept tokens; its parameters are accepted too.")}}));
  rerotation.scorer_param = "scorer";
  all.push_back(rerotation);
  MethodDef decoding = eviction(
      "decoding", "decode-time compression: every compression_interval steps the cache is cut to target_size",
      "kvpress DecodingPress (compression_interval 512, target_size 2048, hidden_states_buffer_size 256) over "
      "scorer (default knorm); the prefill is not compressed. The scorer's own parameters (with that method's "
      "defaults) are accepted too.",
      {choice("scorer", "knorm", {"knorm", "keydiff", "snapkv", "tova"},
              "Token scorer that ranks the whole cache (prompt and generated tokens) at each compression; its "
              "parameters are accepted too."),
       integer("compression_interval", 512, 1, kMaxTokens, "Decode steps between compressions."),
       integer("target_size", 2048, 1, kMaxTokens,
               "Tokens each KV head keeps after a compression (a cache no longer than this is left alone)."),
       integer("hidden_states_buffer_size", 256, 0, kMaxTokens,
               "Decode steps whose queries stay buffered for the scorer (kvpress keeps this many plus the current "
               "one).")});
  decoding.scorer_param = "scorer";
  decoding.check = [](const json& p) {
    if (p.at("scorer") != "snapkv") return;
    const int64_t window = int_of(p, "window_size");
    // kvpress's SnapKV asserts more buffered queries than its window: min(interval, buffer + 1) > window_size.
    if (int_of(p, "compression_interval") <= window) {
      throw MethodError("params.compression_interval",
                        fmt::format("more than window_size ({}) with scorer snapkv: a compression scores with the "
                                    "queries of the steps since the last one",
                                    window));
    }
    if (int_of(p, "hidden_states_buffer_size") < window) {
      throw MethodError("params.hidden_states_buffer_size",
                        fmt::format("at least window_size ({}) with scorer snapkv: the buffer holds the window's "
                                    "queries",
                                    window));
    }
  };
  all.push_back(decoding);
  MethodDef ratio_decoding = eviction(
      "compression_ratio_decoding",
      "decode-time compression: every compression_interval steps the cache is cut to a share of the tokens seen",
      "kvpress CompressionRatioDecodingPress (target_compression_ratio 0.5, compression_interval 512, "
      "hidden_states_buffer_size 256) over scorer (default knorm): DecodingPress whose target is max(1, int(S * "
      "(1 - target_compression_ratio))) with S the tokens seen so far (the current position + 1).",
      {choice("scorer", "knorm", {"knorm", "keydiff", "snapkv", "tova"},
              "Token scorer that ranks the whole cache at each compression; its parameters are accepted too."),
       number("target_compression_ratio", 0.5, 0.0, 0.999999,
              "Share of the tokens seen so far (prompt and generated) removed at each compression."),
       integer("compression_interval", 512, 1, kMaxTokens, "Decode steps between compressions."),
       integer("hidden_states_buffer_size", 256, 0, kMaxTokens,
               "Decode steps whose queries stay buffered for the scorer (kvpress keeps this many plus the current "
               "one).")});
  ratio_decoding.scorer_param = "scorer";
  ratio_decoding.check = decoding.check;
  all.push_back(ratio_decoding);
  MethodDef prefill_decoding = eviction(
      "prefill_decoding", "a scorer compresses the prompt after the prefill and again every compression_interval "
      "decode steps",
      "kvpress PrefillDecodingPress(prefilling_press=<scorer>Press(compression_ratio), decoding_press="
      "DecodingPress(<scorer>Press, compression_interval, target_size, hidden_states_buffer_size)); one scorer "
      "(default knorm) for both phases, whose parameters are accepted too.",
      concat({{number("compression_ratio", 0.5, 0.0, 0.999999,
                      "Fraction of the prompt's KV entries evicted per head after the prefill (kvpress); keeps "
                      "max(1, int(T * (1 - r))).",
                      ParamRole::kBudget)},
              {choice("scorer", "knorm", {"knorm", "keydiff", "tova"},
                      "Token scorer of the prefill press and of the decoding press (scorers that read the rows' "
                      "order, SnapKV's pooling, are not offered: kvpress keeps the prefill's rows in topk order)."),
               integer("compression_interval", 512, 1, kMaxTokens, "Decode steps between compressions."),
               integer("target_size", 2048, 1, kMaxTokens,
                       "Tokens each KV head keeps after a decode-time compression (a cache no longer than this is "
                       "left alone)."),
               integer("hidden_states_buffer_size", 256, 0, kMaxTokens,
                       "Decode steps whose queries stay buffered for the scorer.")}}));
  prefill_decoding.scorer_param = "scorer";
  all.push_back(prefill_decoding);
  MethodDef finch = eviction(
      "finch", "question-window attention, normalised by position, optionally per chunk; kept keys re-rotated",
      "kvpress FinchPress (normalize_scores, rerotate_keys, no chunks): SnapKV's window attention without pooling; "
      "kvpress's window is the question after a delimiter token, here the prompt's last window_size tokens.",
      {number("compression_ratio", 0.5, 0.0, 0.999999,
              "Fraction of the prompt's KV entries evicted per head (per chunk with chunk_length); keeps max(1, "
              "int(T * (1 - r))), window included.",
              ParamRole::kBudget),
       integer("window_size", 64, 1, 1 << 20,
               "Question window: the prompt's last window_size queries score the rest and are always kept (kvpress "
               "sets it to the question's length).",
               ParamRole::kScorer),
       boolean("normalize_scores", true,
               "Weight each window query's attention by its position p (kvpress: arange(T - window, T)).",
               ParamRole::kScorer),
       integer("chunk_length", nullptr, 1, kMaxTokens,
               "Keep the top share of every chunk of chunk_length tokens separately (kvpress chunk_length); absent: "
               "the whole prompt at once."),
       boolean("rerotate_keys", true,
               "Re-rotate the kept keys to positions 0 .. n-1; decoding continues from n (kvpress rerotate_keys).")});
  finch.check = [](const json& p) {
    if (!p.contains("chunk_length")) return;
    const double ratio = p.at("compression_ratio").get<double>();
    const double bound = static_cast<double>(int_of(p, "window_size")) / (1.0 - ratio);
    if (static_cast<double>(int_of(p, "chunk_length")) <= bound) {
      throw MethodError("params.chunk_length",
                        fmt::format("more than window_size / (1 - compression_ratio) = {} (kvpress asserts it)", bound));
    }
  };
  all.push_back(finch);
  MethodDef qfilter = eviction(
      "qfilter", "keys scored against trained per-head query filters: -(filter . k)",
      "kvpress QFilterPress; the filters (trained per model, hub repos nthngdy/<model>_qfilt) are read from "
      "filters_path: a safetensors file holding q_filters [num_layers, num_kv_heads, head_dim] as kvpress's QFilters "
      "save_pretrained writes it (a directory means its model.safetensors).",
      concat({budget(0.5, nullptr),
              {path("filters_path", "The Q-filters file (safetensors, tensor q_filters) or the directory holding its "
                                    "model.safetensors."),
               skip_layers()}}));
  qfilter.check = [](const json& p) {
    require(p, "filters_path", "the Q-filters of the model: a safetensors file or directory");
  };
  qfilter.check_model = [](const json& p, const ModelShape& model) {
    const std::string wrong = check_q_filters_file(p.at("filters_path").get<std::string>(), model.num_layers,
                                                   model.num_kv_heads, model.head_dim);
    if (!wrong.empty()) throw MethodError("params.filters_path", wrong);
  };
  qfilter.model_rules = "q_filters is [num_layers, num_kv_heads, head_dim] (the file is read on rank 0)";
  all.push_back(qfilter);
  MethodDef duo;
  duo.name = "duo_attention";
  duo.family = "layer/head budgets";
  duo.summary = "DuoAttention: streaming (KV) heads keep sink + recent tokens, retrieval heads keep everything";
  duo.reference =
      "kvpress DuoAttentionPress with a published attention pattern read from pattern_path (mit-han-lab/duo-attention "
      "attn_patterns/<model>/...: config.json with sink_size and recent_size, full_attention_heads.tsv with one row "
      "per layer and one column per KV head, clipped to [0, 1]); kvpress masks, we store only the kept rows. "
      "kvpress's on-the-fly estimation (BookSum samples) is not offered.";
  duo.params = {path("pattern_path", "Directory of the attention pattern (config.json, full_attention_heads.tsv)."),
                number("head_compression_ratio", 0.5, 0.0, 1.0,
                       "Fraction of the (layer, KV head) pairs made streaming heads: those of the lowest pattern "
                       "scores, round(n * ratio) of them (kvpress).")};
  duo.check = [](const json& p) {
    require(p, "pattern_path", "the DuoAttention pattern directory of the model");
  };
  duo.check_model = [](const json& p, const ModelShape& model) {
    const std::string wrong =
        check_duo_pattern_dir(p.at("pattern_path").get<std::string>(), model.num_layers, model.num_kv_heads);
    if (!wrong.empty()) throw MethodError("params.pattern_path", wrong);
  };
  duo.model_rules = "full_attention_heads.tsv has num_layers lines of num_kv_heads scores (read on rank 0)";
  all.push_back(duo);
  MethodDef adakv = eviction(
      "adakv", "head-adaptive budgets over any scorer (real varlen cache)",
      "kvpress AdaKVPress (alpha_safeguard 0.2) over scorer (default snapkv); the scorer's own parameters (with "
      "that method's defaults) are accepted too.",
      concat({budget(0.5, nullptr),
              {choice("scorer", "snapkv",
                      {"streaming_llm", "snapkv", "h2o", "knorm", "tova", "observed_attention", "keydiff",
                       "expected_attention"},
                      "Token scorer; its parameters are accepted too."),
               number("alpha_safeguard", 0.2, 0.0, 1.0, "Share of each head's budget kept by its own top scores."),
               skip_layers()}}));
  adakv.family = "layer/head budgets";
  adakv.scorer_param = "scorer";
  all.push_back(adakv);

  MethodDef cake = eviction(
      "cakekv", "CAKE: layer budgets from attention preferences, cascading",
      "CAKE official code (cake/): cache_size -> max_capacity_prompt, window_size 32, gamma 200, tau1 = tau2 = 1.0 "
      "(model2tau.json fallback).",
      concat({budget(nullptr, 1024),
              {integer("window_size", 32, 1, 1 << 20, "Observation window.", ParamRole::kScorer),
               number("gamma", 200.0, 0.0, 1e12, "Eviction indicator mean + gamma * variance.", ParamRole::kScorer),
               number("tau1", 1.0, 1e-6, 1e6, "Temperature of the entropy preference."),
               number("tau2", 1.0, 1e-6, 1e6, "Temperature of the variance preference.")}}));
  cake.family = "layer/head budgets";
  all.push_back(cake);

  MethodDef cam = eviction(
      "cam", "CaM: merge evicted values into neighbours, then evict",
      "LOOM-Scope CAM_util.py (window 32, max_capacity_prompt 2048, start_budget_ratio 0.1); Bernoulli draws from "
      "SplitMix64(seed).",
      concat({budget(nullptr, 2048),
              {integer("window_size", 32, 1, 1 << 20, "Observation window (H2O scores, one softmax).",
                       ParamRole::kScorer),
               number("start_budget_ratio", 0.1, 0.0, 1.0, "Share of the budget kept at the start."),
               integer("seed", 0, 0, kMaxSeed, "Seed of the merge draws.")}}));
  cam.family = "hybrid/merge";
  all.push_back(cam);

  MethodDef think = eviction(
      "think", "ThinK: prune key channels (real pruned-key cache), optional SnapKV",
      "LOOM-Scope think_util.py / KVCache-Factory key_pruner_query_driven (ratio 0.4, recent_size 32); kvpress "
      "ThinKPress scoring (window_size 32). A budget adds SnapKV token selection first (LOOM-Scope: capacity 4096).",
      concat({budget(nullptr, nullptr), snapkv_scorer(32),
              {number("key_channel_compression_ratio", 0.4, 0.0, 0.99, "Fraction of key channels pruned."),
               integer("recent_size", 32, 0, kMaxTokens, "Most recent tokens whose keys stay unpruned.")}}));
  think.family = "hybrid/merge";
  all.push_back(think);

  MethodDef kivi;
  kivi.name = "kivi";
  kivi.family = "quantization";
  kivi.summary = "KIVI 2/4-bit KV (keys per channel, values per token) + fp residual";
  kivi.reference = "KIVI (jy-yuan/KIVI) / LOOM-Scope KIVI.py: k_bits, v_bits, group_size 32, residual_length 128; "
                   "8-bit is accepted too.";
  kivi.params = {bits("k_bits", "Bits per quantized key."), bits("v_bits", "Bits per quantized value."),
                 integer("group_size", 32, 4, 4096,
                         "Entries per quantization group: group_size tokens of a key channel, group_size channels "
                         "of a value token (so head_dim must be a multiple of it)."),
                 integer("residual_length", 128, 0, kMaxTokens,
                         "Most recent tokens kept in full precision; a multiple of group_size.")};
  kivi.check = [](const json& p) {
    const int64_t group = int_of(p, "group_size");
    if (int_of(p, "residual_length") % group != 0) {
      throw MethodError("params.residual_length", fmt::format("a multiple of group_size ({})", group));
    }
    for (const char* key : {"k_bits", "v_bits"}) {
      if (group * int_of(p, key) % 8 != 0) {
        throw MethodError("params.group_size", fmt::format("a group_size whose groups fill whole bytes at {} {} "
                                                           "(group_size x bits a multiple of 8)",
                                                           key, int_of(p, key)));
      }
    }
  };
  kivi.check_model = [](const json& p, const ModelShape& model) {
    const int64_t group = int_of(p, "group_size");
    if (model.head_dim > 0 && model.head_dim % group != 0) {
      throw MethodError("params.group_size",
                        fmt::format("a group_size dividing the model's head_dim {} (KIVI quantizes each value token "
                                    "in groups of group_size channels); {} does not",
                                    model.head_dim, group));
    }
  };
  kivi.model_rules = "head_dim a multiple of group_size";
  all.push_back(kivi);

  MethodDef flex;
  flex.name = "flexprefill";
  flex.family = "sparse prefill";
  flex.summary = "query-aware / vertical-slash block-sparse prefill";
  flex.reference = "FlexPrefill official ops (block_size 128, gamma 0.9, tau 0.1, min_budget 512, max_budget 32768 "
                   "as LOOM-Scope's example config).";
  flex.params = {integer("block_size", 128, 16, 128, "Query and key block size."),
                 number("gamma", 0.9, 0.0, 1.0, "Attention mass each head's blocks cover."),
                 number("tau", 0.1, 0.0, 1.0, "Threshold between query-aware and vertical-slash patterns."),
                 integer("min_budget", 512, 1, kMaxTokens, "Fewest tokens a head attends to."),
                 integer("max_budget", 32768, 1, kMaxTokens, "Most tokens a head attends to.")};
  flex.one_chunk_prefill = "FlexPrefill searches its pattern once per prefill chunk, and in several chunks it measured "
                           "slower than dense prefill (H100, 131,008 tokens: 1.35x dense in 32,768-token chunks, "
                           "0.84x in one)";
  all.push_back(flex);

  MethodDef xattn;
  xattn.name = "xattention";
  xattn.family = "sparse prefill";
  xattn.summary = "antidiagonal block scoring, threshold selection";
  xattn.reference = "x-attention official Xattention.py (block_size 128, LOOM-Scope FastPrefillConfig stride 16, "
                    "threshold 0.9); one threshold where LOOM-Scope may use tuned per-head tables.";
  xattn.params = {integer("block_size", 128, 16, 128, "Query and key block size."),
                  integer("stride", 16, 1, 128, "Antidiagonal stride; a divisor of block_size."),
                  number("threshold", 0.9, 0.0, 1.0, "Share of each row's attention mass the kept blocks cover."),
                  boolean("keep_sink", false, "Always keep the first key block."),
                  boolean("keep_recent", false, "Always keep the diagonal block.")};
  xattn.check = [](const json& p) {
    if (int_of(p, "block_size") % int_of(p, "stride") != 0) {
      throw MethodError("params.stride", fmt::format("a divisor of block_size ({})", int_of(p, "block_size")));
    }
  };
  all.push_back(xattn);
  return all;
}

}  // namespace

const std::vector<MethodDef>& method_catalogue() {
  static const std::vector<MethodDef> catalogue = build_catalogue();
  return catalogue;
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const MethodDef& m : method_catalogue()) names.push_back(m.name);
  return names;
}

const MethodDef* find_method(const std::string& name) {
  const std::string wanted = name.empty() ? "full" : name;
  for (const MethodDef& m : method_catalogue()) {
    if (m.name == wanted) return &m;
  }
  return nullptr;
}

}  // namespace loom::methods
