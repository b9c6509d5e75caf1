#include "benchmarks/word_source.h"

#include "common/error.h"
#include "benchmarks/text_util.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace loom::benchmarks {

const std::vector<std::string>& load_word_list(const std::filesystem::path& path, const std::string& source_file) {
  static std::mutex mutex;
  static std::map<std::string, std::vector<std::string>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(path.string());
  if (it != cache.end()) return it->second;
  if (!std::filesystem::is_regular_file(path))
    throw InputError(source_file, 0, "options.word_list",
                     "a word list file at " + path.string() +
                         " (install Debian's `wamerican` for /usr/share/dict/words, or set options.word_list)");
  std::vector<std::string> words;
  for (const auto& w : split_whitespace(read_text_file(path))) {
    if (w.size() < 3 || w.size() > 10) continue;
    if (!std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; })) continue;
    words.push_back(w);
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  if (words.size() < 1000) throw InputError(path.string(), 0, "options.word_list", "at least 1000 lowercase words");
  return cache.emplace(path.string(), std::move(words)).first->second;
}

}  // namespace loom::benchmarks
