// Reads the JSON-lines fixtures written by tools/fixtures/make_scorer_fixtures.py.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace loom::metrics::testing {

std::string fixture_dir();  // <source>/tests/fixtures/metrics
std::vector<nlohmann::json> read_jsonl(const std::string& path);

}  // namespace loom::metrics::testing
