// Shared helpers of the text tests: fixture paths, JSON loading, and one cached tokenizer per directory (the large
// tokenizer.json files take a moment to parse, so each is loaded once per test binary).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"

namespace loom::text::testing {

inline std::filesystem::path fixture_dir() { return std::filesystem::path(LOOM_SOURCE_DIR) / "tests/fixtures/text"; }
// Large real-model tokenizers (llama3_1, qwen3, ...): the folder given to CMake as LOOM_TOKENIZER_FIXTURES, or
// empty (tests that need them skip). The repository's own essays are under data/niah.
// The environment variable LOOM_TOKENIZER_FIXTURES, when set, wins over the CMake value (CI sets it for ctest).
inline std::filesystem::path tokenizer_fixtures_dir() {
  if (const char* env = std::getenv("LOOM_TOKENIZER_FIXTURES")) return std::filesystem::path(env);
  return std::filesystem::path(LOOM_TOKENIZER_FIXTURES);
}
inline std::filesystem::path essays_dir() { return std::filesystem::path(LOOM_SOURCE_DIR) / "data/niah/PaulGrahamEssays"; }

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline nlohmann::json read_json(const std::filesystem::path& path) { return nlohmann::json::parse(read_file(path)); }

// "tokenizers:<name>" → LOOM_TOKENIZER_FIXTURES/<name> (a path that does not exist when none is configured);
// "repo:<relative>" → LOOM_SOURCE_DIR/<relative>.
inline std::filesystem::path resolve_fixture_dir(const std::string& spec) {
  if (spec.rfind("tokenizers:", 0) == 0) {
    const std::filesystem::path root = tokenizer_fixtures_dir();
    return root.empty() ? std::filesystem::path("/nonexistent/LOOM_TOKENIZER_FIXTURES") / spec.substr(11)
                        : root / spec.substr(11);
  }
  return std::filesystem::path(LOOM_SOURCE_DIR) / spec.substr(5);
}

inline const Tokenizer& cached_tokenizer(const std::filesystem::path& dir) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[dir.string()];
  if (!slot) slot = load_tokenizer(dir);
  return *slot;
}

// FNV-1a over the little-endian bytes of each id (the fixture script's fnv1a).
inline std::string fnv1a_hex(const std::vector<int32_t>& ids) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (const int32_t id : ids) {
    const auto u = static_cast<uint32_t>(id);
    for (int b = 0; b < 4; ++b) {
      h ^= (u >> (8 * b)) & 0xFF;
      h *= 0x100000001B3ULL;
    }
  }
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(h));
  return buffer;
}

// FNV-1a over the bytes of a string (the fixture script's fnv1a_bytes).
inline std::string fnv1a_bytes_hex(const std::string& data) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (const char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(h));
  return buffer;
}

// Expected ids: the full list, or {count, fnv1a, head} for long ones.
inline void expect_ids(const std::vector<int32_t>& ids, const nlohmann::json& expected_ids) {
  if (expected_ids.is_array()) {
    EXPECT_EQ(ids, expected_ids.get<std::vector<int32_t>>());
    return;
  }
  ASSERT_EQ(static_cast<int64_t>(ids.size()), expected_ids.at("count").get<int64_t>());
  const auto head = expected_ids.at("head").get<std::vector<int32_t>>();
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + static_cast<long>(head.size())), head);
  EXPECT_EQ(fnv1a_hex(ids), expected_ids.at("fnv1a").get<std::string>());
}

}  // namespace loom::text::testing
