// Registry: every catalogue method resolves with its defaults; unknown methods, unknown parameters and bad values
// are InputErrors naming the key; a full-cache policy is the dense baseline.
#include "common/error.h"
#include "methods/method_catalogue.h"
#include "rank/accel/registry.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace loom::accel {
namespace {

MethodSpec spec(const std::string& name, const std::string& params = "{}") {
  MethodSpec s;
  s.name = name;
  s.params_json = params;
  return s;
}

// The files qfilter and duo_attention cannot run without (no default): the tiny Llama's fixtures.
nlohmann::json required_files(const std::string& method) {
  const std::string files = std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/accel/method_files/";
  if (method == "qfilter") return {{"filters_path", files + "qfilter_tiny"}};
  if (method == "duo_attention") return {{"pattern_path", files + "duo_pattern_tiny"}};
  return nlohmann::json::object();
}

std::string key_of(const MethodSpec& s) {
  try {
    resolve_policy(s);
  } catch (const InputError& e) {
    return e.key();
  }
  return "<no error>";
}

TEST(AccelRegistry, EveryKnownMethodResolvesWithDefaults) {
  ASSERT_EQ(known_methods().size(), 34u);
  for (const MethodInfo& m : known_methods()) {
    SCOPED_TRACE(m.name);
    auto factory = resolve_policy(spec(m.name, required_files(m.name).dump()));
    ASSERT_NE(factory, nullptr);
    EXPECT_EQ(factory->name(), m.name);
    EXPECT_FALSE(m.family.empty());
  }
  EXPECT_EQ(resolve_policy(spec(""))->name(), "full");
}

TEST(AccelRegistry, BadInputNamesTheKey) {
  EXPECT_EQ(key_of(spec("snapkvv")), "method");
  EXPECT_EQ(key_of(spec("snapkv", R"({"compresion_ratio": 0.5})")), "params.compresion_ratio");
  EXPECT_EQ(key_of(spec("snapkv", R"({"compression_ratio": 1.5})")), "params.compression_ratio");
  EXPECT_EQ(key_of(spec("snapkv", R"({"compression_ratio": 0.5, "max_capacity_prompt": 64})")),
            "params.max_capacity_prompt");
  EXPECT_EQ(key_of(spec("snapkv", R"({"pooling": "median"})")), "params.pooling");
  EXPECT_EQ(key_of(spec("kivi", R"({"k_bits": 3})")), "params.k_bits");
  EXPECT_EQ(key_of(spec("kivi", R"({"group_size": 32, "residual_length": 48})")), "params.residual_length");
  EXPECT_EQ(key_of(spec("xattention", R"({"stride": 5})")), "params.stride");
  EXPECT_EQ(key_of(spec("adakv", R"({"scorer": "random"})")), "params.scorer");
  EXPECT_EQ(key_of(spec("knorm", "[1, 2]")), "params");
  EXPECT_EQ(key_of(spec("knorm", "{not json")), "params");
  EXPECT_EQ(key_of(spec("adakv", R"({"scorer": "knorm", "window_size": 8})")), "params.window_size");
}

// The engine reads every value from the catalogue: each method (and AdaKV over each scorer) builds its policy from
// the catalogue's defaults alone, and with every parameter given explicitly at its default.
TEST(AccelRegistry, EveryMethodBuildsFromTheCatalogue) {
  ASSERT_EQ(known_methods().size(), methods::method_catalogue().size());
  for (const methods::MethodDef& m : methods::method_catalogue()) {
    SCOPED_TRACE(m.name);
    const nlohmann::json defaults = methods::resolve_method_params(m.name, required_files(m.name));
    EXPECT_NO_THROW(resolve_policy(spec(m.name, defaults.dump()))) << defaults.dump();
  }
  std::vector<std::string> scorers;
  for (const methods::ParamDef& p : methods::find_method("adakv")->params) {
    if (p.name == "scorer") scorers = p.choices;
  }
  ASSERT_EQ(scorers.size(), 8u);
  for (const std::string& scorer : scorers) {
    SCOPED_TRACE(scorer);
    const nlohmann::json params = methods::resolve_method_params("adakv", {{"scorer", scorer}});
    EXPECT_NO_THROW(resolve_policy(spec("adakv", params.dump()))) << params.dump();
  }
}

}  // namespace
}  // namespace loom::accel
