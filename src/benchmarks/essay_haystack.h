// The Paul Graham essay haystack shared by RULER (essay haystacks) and NIAH. Looked up, in order: option
// `essay_json` (RULER's PaulGrahamEssays.json, {"text": ...}), <data_dir>/PaulGrahamEssays.json, and
// <data_dir>/PaulGrahamEssays/*.txt (the NIAH repo's folder; files concatenated in name order).
// holds_essays(dir) says whether a directory has either of the two.
#pragma once

#include "benchmarks/registry.h"

#include <string>

namespace loom::benchmarks {

std::string load_essay_haystack(const BenchmarkSpec& spec, const nlohmann::json& essay_json_option);
bool holds_essays(const std::filesystem::path& dir);

}  // namespace loom::benchmarks
