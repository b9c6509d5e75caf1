// fuzzywuzzy `fuzz.ratio(a, b)` with python-Levenshtein installed (the setup LongBench's code_sim_score runs):
// a == b -> 100; either empty -> 0; else int(round(100 * Levenshtein.ratio(a, b))) with Python's round-half-even.
// Levenshtein.ratio = 1 - indel_distance / (len(a) + len(b)) over code points (insertions and deletions only).
#pragma once

#include <string_view>

namespace loom::metrics::text {

double levenshtein_ratio(std::u32string_view a, std::u32string_view b);
int fuzz_ratio(std::string_view a, std::string_view b);

}  // namespace loom::metrics::text
