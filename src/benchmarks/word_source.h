// English words for RULER's keys and common-word lists. RULER draws from the `wonderwords` noun/adjective/verb
// lists; offline we read a plain word list (default /usr/share/dict/words from Debian's `wamerican`, or the
// `word_list` option), keep lowercase ASCII words of 3–10 letters, deduplicated and sorted, so the draws are
// reproducible wherever the same list is installed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace loom::benchmarks {

// Loaded once per path and cached; InputError naming the file and the option `word_list` when it is missing.
const std::vector<std::string>& load_word_list(const std::filesystem::path& path, const std::string& source_file);

inline constexpr const char* kDefaultWordList = "/usr/share/dict/words";

}  // namespace loom::benchmarks
