// "Did you mean" suggestions for misspelt names: the closest candidate by edit distance (Levenshtein, case-insensitive),
// offered only when it is close enough to be a likely typo (distance at most max(1, length / 3)).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace loom {

std::size_t edit_distance(const std::string& a, const std::string& b);

// The closest candidate, or "" when none is close.
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'NAME'?)" for the closest candidate, or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// "a, b, c" of the candidates.
std::string join_names(const std::vector<std::string>& names);

}  // namespace loom
