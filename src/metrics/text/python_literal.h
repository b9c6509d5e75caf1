// Python literals as eval() reads them, for data and predictions that official scripts pass through eval():
// LooGLE's qa_pairs fields (the str() of a list of dicts) and its cloze predictions (a dict written by the model).
// Accepts what Python accepts for a literal expression: dicts, lists, tuples and sets (-> JSON arrays), strings
// ('...', "...", triple-quoted, r/u/b prefixes, adjacent literals concatenated, every escape except \N{...}),
// integers (decimal, 0x/0o/0b, '_' separators), floats, unary +/-, True, False, None; comments, and the leading
// spaces and tabs eval() strips. Dict keys that are not strings are dropped (no JSON form; a string key never
// equals them). Anything else (names, calls, operators) is what eval() would reject or compute: nullopt.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace loom::metrics::text {

// nullopt when `source` is not a Python literal expression (with `error` set to why, when given).
std::optional<nlohmann::json> parse_python_literal(std::string_view source, std::string* error = nullptr);

}  // namespace loom::metrics::text
