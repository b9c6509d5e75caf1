// The method catalogue: one entry per method with typed, ranged, described parameters; defaults filled in; every
// bad parameter, conflicting budget, broken rule and model incompatibility is a MethodError naming the key.
#include "methods/method_catalogue.h"

#include <gtest/gtest.h>

#include <set>

namespace loom::methods {
namespace {

using nlohmann::json;

// The key a MethodError names, or "<no error>".
std::string error_key(const std::string& method, const json& params) {
  try {
    resolve_method_params(method, params);
  } catch (const MethodError& e) {
    return e.key();
  }
  return "<no error>";
}

std::string error_text(const std::string& method, const json& params) {
  try {
    resolve_method_params(method, params);
  } catch (const MethodError& e) {
    return e.expected();
  }
  return "<no error>";
}

TEST(MethodCatalogue, EveryMethodIsDescribedAndResolvesWithItsDefaults) {
  ASSERT_EQ(method_catalogue().size(), 34u);
  std::set<std::string> names;
  for (const MethodDef& m : method_catalogue()) {
    SCOPED_TRACE(m.name);
    EXPECT_TRUE(names.insert(m.name).second);
    EXPECT_FALSE(m.family.empty());
    EXPECT_FALSE(m.summary.empty());
    EXPECT_FALSE(m.reference.empty());
    std::set<std::string> params;
    for (const ParamDef& p : m.params) {
      SCOPED_TRACE(p.name);
      EXPECT_TRUE(params.insert(p.name).second);
      EXPECT_FALSE(p.description.empty());
      EXPECT_FALSE(describe_type(p).empty());
    }
    json required = json::object();  // paths have no default (qfilter's filters, duo_attention's pattern)
    for (const ParamDef& p : m.params) {
      if (p.type == ParamType::kPath) required[p.name] = "some/path";
    }
    const json resolved = resolve_method_params(m.name, required);
    for (const ParamDef& p : m.params) {
      if (!p.default_value.is_null()) {
        EXPECT_EQ(resolved.at(p.name), p.default_value);
      }
    }
  }
  EXPECT_EQ(find_method("")->name, "full");
  EXPECT_EQ(find_method("nope"), nullptr);
}

TEST(MethodCatalogue, DefaultsAreTheReferenceValues) {
  EXPECT_EQ(resolve_method_params("snapkv", {}),
            json::parse(R"({"compression_ratio": 0.5, "window_size": 64, "kernel_size": 5, "pooling": "avgpool",
                            "skip_layers": []})"));
  EXPECT_EQ(resolve_method_params("h2o", {}),
            json::parse(R"({"max_capacity_prompt": 2048, "window_size": 32, "softmax_chunk": 512,
                            "skip_layers": []})"));
  EXPECT_EQ(resolve_method_params("l2compress", {})["skip_layers"], json::parse("[0, 1]"));
  EXPECT_EQ(resolve_method_params("kivi", {}),
            json::parse(R"({"k_bits": 2, "v_bits": 2, "group_size": 32, "residual_length": 128})"));
  EXPECT_EQ(resolve_method_params("cur", {}),
            json::parse(R"({"compression_ratio": 0.5, "n_sink": 4, "leverage": "kv_product",
                            "local_approximation": true, "local_window_size": 16, "skip_layers": []})"));
  EXPECT_EQ(resolve_method_params("random", {}),
            json::parse(R"({"compression_ratio": 0.5, "seed": 42, "skip_layers": []})"));
  EXPECT_EQ(resolve_method_params("lagkv", {}),
            json::parse(R"({"compression_ratio": 0.5, "n_sink": 4, "lag_size": 128, "skip_layers": []})"));
  EXPECT_EQ(resolve_method_params("block_keydiff", {}),
            json::parse(R"({"compression_ratio": 0.5, "block_size": 128, "skip_layers": []})"));
  EXPECT_EQ(resolve_method_params("chunkkv", {}),
            json::parse(R"({"compression_ratio": 0.5, "scorer": "snapkv", "chunk_length": 20, "window_size": 64,
                            "kernel_size": 5, "pooling": "avgpool", "skip_layers": []})"));
  EXPECT_EQ(resolve_method_params("chunkkv", {{"scorer", "knorm"}, {"chunk_length", 8}}),
            json::parse(R"({"compression_ratio": 0.5, "scorer": "knorm", "chunk_length": 8, "skip_layers": []})"));
  EXPECT_EQ(resolve_method_params("criticalkv", {{"scorer", "knorm"}}),
            json::parse(R"({"compression_ratio": 0.5, "scorer": "knorm", "epsilon": 0.0001, "first_stage_ratio": 0.5,
                            "skip_layers": []})"));
  EXPECT_EQ(resolve_method_params("decoding", {}),
            json::parse(R"({"scorer": "knorm", "compression_interval": 512, "target_size": 2048,
                            "hidden_states_buffer_size": 256})"));
  EXPECT_EQ(resolve_method_params("decoding", {{"scorer", "snapkv"}}),
            json::parse(R"({"scorer": "snapkv", "compression_interval": 512, "target_size": 2048,
                            "hidden_states_buffer_size": 256, "window_size": 64, "kernel_size": 5,
                            "pooling": "avgpool"})"));
  // compactor's blending is optional (none: the compression ratio); kvpress's defaults otherwise.
  EXPECT_EQ(resolve_method_params("compactor", {}),
            json::parse(R"({"compression_ratio": 0.5, "sink_size_start": 8, "sink_size_end": 4, "chunk_size": 256,
                            "sketch_dimension": 48, "seed": 42})"));
  EXPECT_EQ(resolve_method_params("kvzip", {}),
            json::parse(R"({"compression_ratio": 0.5, "layerwise": false, "n_sink": 4, "chunk_size": 2048})"));
  // ThinK has no token budget unless one is given.
  EXPECT_FALSE(resolve_method_params("think", {}).contains("compression_ratio"));
  EXPECT_FALSE(resolve_method_params("think", {}).contains("max_capacity_prompt"));
}

TEST(MethodCatalogue, OneBudgetReplacesTheDefaultBudget) {
  const json capacity = resolve_method_params("snapkv", {{"max_capacity_prompt", 1024}});
  EXPECT_EQ(capacity["max_capacity_prompt"], 1024);
  EXPECT_FALSE(capacity.contains("compression_ratio"));
  EXPECT_EQ(error_key("snapkv", {{"compression_ratio", 0.5}, {"max_capacity_prompt", 64}}),
            "params.max_capacity_prompt");
  EXPECT_NE(error_text("snapkv", {{"compression_ratio", 0.5}, {"max_capacity_prompt", 64}}).find("not both"),
            std::string::npos);
}

TEST(MethodCatalogue, BadParametersNameTheKey) {
  EXPECT_EQ(error_key("snapkvv", {}), "name");
  EXPECT_NE(error_text("lagkvv", {}).find("did you mean 'lagkv'?"), std::string::npos);
  EXPECT_EQ(error_key("cur", {{"leverage", "kv_sum"}}), "params.leverage");
  EXPECT_NE(error_text("lagkv", {{"lag_sise", 64}}).find("did you mean 'lag_size'?"), std::string::npos);
  EXPECT_EQ(error_key("lagkv", {{"lag_size", 1}}), "params.lag_size");
  EXPECT_NE(error_text("snapkvv", {}).find("did you mean 'snapkv'?"), std::string::npos);
  EXPECT_EQ(error_key("snapkv", {{"compresion_ratio", 0.5}}), "params.compresion_ratio");
  EXPECT_NE(error_text("snapkv", {{"compresion_ratio", 0.5}}).find("did you mean 'compression_ratio'?"),
            std::string::npos);
  EXPECT_EQ(error_key("snapkv", {{"compression_ratio", 1.5}}), "params.compression_ratio");
  EXPECT_NE(error_text("snapkv", {{"compression_ratio", 1.5}}).find("a number in [0, 0.999999], got 1.5"),
            std::string::npos);
  EXPECT_EQ(error_key("snapkv", {{"compression_ratio", "half"}}), "params.compression_ratio");
  EXPECT_EQ(error_key("snapkv", {{"pooling", "median"}}), "params.pooling");
  EXPECT_EQ(error_key("snapkv", {{"window_size", 2.5}}), "params.window_size");
  EXPECT_EQ(error_key("snapkv", {{"skip_layers", {1, "x"}}}), "params.skip_layers");
  EXPECT_EQ(error_key("kivi", {{"k_bits", 3}}), "params.k_bits");
  EXPECT_EQ(error_key("kivi", {{"group_size", 32}, {"residual_length", 48}}), "params.residual_length");
  EXPECT_EQ(error_key("kivi", {{"group_size", 6}, {"residual_length", 12}}), "params.group_size");  // 6 x 2 bits
  EXPECT_EQ(error_key("xattention", {{"stride", 5}}), "params.stride");
  EXPECT_EQ(error_key("adakv", {{"scorer", "random"}}), "params.scorer");
  EXPECT_EQ(error_key("knorm", json::array({1, 2})), "params");
  EXPECT_EQ(error_key("full", {{"compression_ratio", 0.5}}), "params.compression_ratio");
  // cam scores with one softmax: softmax_chunk is not one of its parameters
  EXPECT_EQ(error_key("cam", {{"softmax_chunk", 512}}), "params.softmax_chunk");
}

TEST(MethodCatalogue, AdaKVTakesItsScorersParametersWithThatScorersDefaults) {
  EXPECT_EQ(resolve_method_params("adakv", {})["window_size"], 64);
  const json h2o = resolve_method_params("adakv", {{"scorer", "h2o"}});
  EXPECT_EQ(h2o["window_size"], 32);
  EXPECT_EQ(h2o["softmax_chunk"], 512);
  EXPECT_FALSE(h2o.contains("kernel_size"));
  const json expected = resolve_method_params("adakv", {{"scorer", "expected_attention"}, {"epsilon", 0.01}});
  EXPECT_EQ(expected["epsilon"], 0.01);
  EXPECT_EQ(expected["n_sink"], 4);
  EXPECT_EQ(error_key("adakv", {{"scorer", "knorm"}, {"window_size", 8}}), "params.window_size");
}

TEST(MethodCatalogue, ModelRules) {
  ModelShape shape;
  shape.head_dim = 80;
  shape.num_heads = 32;
  shape.num_kv_heads = 8;
  shape.num_layers = 4;
  const json kivi = resolve_method_params("kivi", {});
  try {
    check_model_compatibility("kivi", kivi, shape);
    FAIL() << "head_dim 80 with group_size 32 passed";
  } catch (const MethodError& e) {
    EXPECT_EQ(e.key(), "params.group_size");
    EXPECT_NE(e.expected().find("head_dim 80"), std::string::npos) << e.expected();
  }
  shape.head_dim = 128;
  EXPECT_NO_THROW(check_model_compatibility("kivi", kivi, shape));
  const json kivi16 = resolve_method_params("kivi", {{"group_size", 16}});
  shape.head_dim = 80;
  EXPECT_NO_THROW(check_model_compatibility("kivi", kivi16, shape));
  // skip_layers must name layers of the model
  EXPECT_THROW(check_model_compatibility("l2compress", resolve_method_params("l2compress", {{"skip_layers", {4}}}),
                                         shape),
               MethodError);
  EXPECT_NO_THROW(check_model_compatibility("l2compress", resolve_method_params("l2compress", {}), shape));
  // unknown fields skip their rules
  EXPECT_NO_THROW(check_model_compatibility("kivi", kivi, ModelShape{}));
}

// decoding: kvpress's SnapKV asserts more buffered queries than its window; each rule names its key.
TEST(MethodCatalogue, DecodingRules) {
  EXPECT_EQ(error_key("decoding", {{"scorer", "snapkv"}, {"window_size", 8}, {"compression_interval", 8},
                                   {"hidden_states_buffer_size", 16}}),
            "params.compression_interval");
  EXPECT_EQ(error_key("decoding", {{"scorer", "snapkv"}, {"window_size", 8}, {"compression_interval", 9},
                                   {"hidden_states_buffer_size", 7}}),
            "params.hidden_states_buffer_size");
  EXPECT_EQ(error_key("decoding", {{"scorer", "snapkv"}, {"window_size", 8}, {"compression_interval", 9},
                                   {"hidden_states_buffer_size", 8}}),
            "<no error>");
  EXPECT_EQ(error_key("decoding", {{"scorer", "knorm"}, {"compression_interval", 1},
                                   {"hidden_states_buffer_size", 0}}),
            "<no error>");
  EXPECT_EQ(error_key("decoding", {{"target_size", 0}}), "params.target_size");
  EXPECT_EQ(error_key("decoding", {{"compression_interval", 0}}), "params.compression_interval");
  EXPECT_EQ(error_key("decoding", {{"scorer", "h2o"}}), "params.scorer");
  EXPECT_EQ(error_key("decoding", {{"compression_ratio", 0.5}}), "params.compression_ratio");
  EXPECT_EQ(error_key("decoding", {{"scorer", "knorm"}, {"window_size", 8}}), "params.window_size");
}

// Issue 20's presses: required paths, kvpress's assertions and ranges name their key.
TEST(MethodCatalogue, KvpressExtraRules) {
  EXPECT_EQ(error_key("qfilter", {}), "params.filters_path");
  EXPECT_EQ(error_key("qfilter", {{"filters_path", ""}}), "params.filters_path");
  EXPECT_EQ(error_key("qfilter", {{"filters_path", 3}}), "params.filters_path");
  EXPECT_EQ(error_key("qfilter", {{"filters_path", "q"}}), "<no error>");
  EXPECT_EQ(error_key("duo_attention", {}), "params.pattern_path");
  EXPECT_EQ(error_key("duo_attention", {{"pattern_path", "p"}, {"head_compression_ratio", -0.1}}),
            "params.head_compression_ratio");
  EXPECT_EQ(error_key("duo_attention", {{"pattern_path", "p"}, {"compression_ratio", 0.5}}),
            "params.compression_ratio");
  // kvpress asserts chunk_length > window_size / (1 - compression_ratio): 16 / 0.5 = 32
  EXPECT_EQ(error_key("finch", {{"window_size", 16}, {"chunk_length", 32}}), "params.chunk_length");
  EXPECT_EQ(error_key("finch", {{"window_size", 16}, {"chunk_length", 33}}), "<no error>");
  EXPECT_EQ(error_key("finch", {{"max_capacity_prompt", 64}}), "params.max_capacity_prompt");
  EXPECT_EQ(error_key("compression_ratio_decoding", {{"target_compression_ratio", 1.0}}),
            "params.target_compression_ratio");
  EXPECT_EQ(error_key("compression_ratio_decoding", {{"target_size", 64}}), "params.target_size");
  EXPECT_EQ(error_key("compression_ratio_decoding", {{"scorer", "snapkv"}, {"window_size", 8},
                                                     {"compression_interval", 8}}),
            "params.compression_interval");
  EXPECT_EQ(error_key("prefill_decoding", {{"scorer", "snapkv"}}), "params.scorer");
  EXPECT_EQ(error_key("prefill_decoding", {{"max_capacity_prompt", 64}}), "params.max_capacity_prompt");
  // Rank 0 reads the side files against the model card (llama3_tiny: 2 layers, 2 KV heads, head_dim 16).
  const std::string files = std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/accel/method_files/";
  const ModelShape tiny{16, 4, 2, 2};
  const auto model_error = [&](const std::string& method, const json& params) -> std::string {
    try {
      check_model_compatibility(method, resolve_method_params(method, params), tiny);
    } catch (const MethodError& e) {
      return e.key() + ": " + e.expected();
    }
    return "<no error>";
  };
  EXPECT_EQ(model_error("qfilter", {{"filters_path", files + "qfilter_tiny"}}), "<no error>");
  EXPECT_EQ(model_error("qfilter", {{"filters_path", files + "qfilter_tiny/model.safetensors"}}), "<no error>");
  EXPECT_NE(model_error("qfilter", {{"filters_path", files + "qfilter_3x4"}}).find("params.filters_path: Q-filters"),
            std::string::npos);
  EXPECT_NE(model_error("qfilter", {{"filters_path", files + "nothing"}}).find("not readable"), std::string::npos);
  EXPECT_NE(model_error("qfilter", {{"filters_path", files + "duo_pattern_tiny/config.json"}})
                .find("not a safetensors file"),
            std::string::npos);
  EXPECT_EQ(model_error("duo_attention", {{"pattern_path", files + "duo_pattern_tiny"}}), "<no error>");
  EXPECT_NE(model_error("duo_attention", {{"pattern_path", files + "duo_pattern_4x4"}}).find("has 4 x 4"),
            std::string::npos);
  EXPECT_NE(model_error("duo_attention", {{"pattern_path", files + "qfilter_tiny"}}).find("params.pattern_path"),
            std::string::npos);
  EXPECT_EQ(resolve_method_params("prefill_decoding", {}),
            (json{{"compression_ratio", 0.5}, {"scorer", "knorm"}, {"compression_interval", 512},
                  {"target_size", 2048}, {"hidden_states_buffer_size", 256}}));
}

}  // namespace
}  // namespace loom::methods
