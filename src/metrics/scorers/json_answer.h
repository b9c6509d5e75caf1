// Reading the JSON object a model writes for Counting-Stars style answers.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace loom::metrics {

// Counting-Stars viz.ipynb: with a ``` fence, remove every "```" and "json" and parse leniently (json_repair);
// otherwise parse strictly (the EN notebook) or leniently (ZH). Lenient = strict parse, else the text from the
// first '{' to the last '}', else the `"key": [numbers]` list found by pattern. nullopt when nothing parses or
// `key` is absent (the notebook would raise).
std::optional<nlohmann::json> counting_stars_value(const std::string& answer, const std::string& key, bool lenient);

// Python `x in list` for JSON numbers (5 == 5.0; a string never equals a number).
bool json_list_contains(const nlohmann::json& list, const nlohmann::json& value);

}  // namespace loom::metrics
