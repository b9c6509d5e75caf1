// Registry: every known method resolves with its defaults; unknown methods, unknown parameters and bad values are
// InputErrors naming the key; a full-cache policy is the dense baseline.
#include "common/error.h"
#include "rank/accel/registry.h"

#include <gtest/gtest.h>

namespace loom::accel {
namespace {

MethodSpec spec(const std::string& name, const std::string& params = "{}") {
  MethodSpec s;
  s.name = name;
  s.params_json = params;
  return s;
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
  ASSERT_EQ(known_methods().size(), 18u);
  for (const MethodInfo& m : known_methods()) {
    SCOPED_TRACE(m.name);
    auto factory = resolve_policy(spec(m.name));
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

}  // namespace
}  // namespace loom::accel

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <filesystem>

namespace loom::accel {
namespace {

nlohmann::json yaml_to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : node) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
    return out;
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  const std::string text = node.Scalar();
  if (text == "true" || text == "false") return text == "true";
  try {
    size_t used = 0;
    const long long integer = std::stoll(text, &used);
    if (used == text.size()) return integer;
    const double number = std::stod(text, &used);
    if (used == text.size()) return number;
  } catch (const std::exception&) {
  }
  return text;
}

TEST(AccelRegistry, EveryConfigFileMatchesTheRegistry) {
  const std::filesystem::path dir = std::filesystem::path(LOOM_SOURCE_DIR) / "configs" / "acceleration";
  for (const MethodInfo& m : known_methods()) {
    SCOPED_TRACE(m.name);
    const auto path = dir / (m.name + ".yaml");
    ASSERT_TRUE(std::filesystem::exists(path));
    YAML::Node config = YAML::LoadFile(path.string());
    EXPECT_EQ(config["name"].as<std::string>(), m.name);
    EXPECT_EQ(config["family"].as<std::string>(), m.family);
    MethodSpec s;
    s.name = m.name;
    s.params_json = yaml_to_json(config["params"]).dump();
    EXPECT_NO_THROW(resolve_policy(s)) << s.params_json;
  }
}

}  // namespace
}  // namespace loom::accel
