#include "metrics/text/wordnet.h"

#include "metrics/text/unicode_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

namespace loom::metrics::text {

namespace {

// nltk's POS_LIST order and its _FILEMAP suffixes.
constexpr std::array<const char*, 4> kPos = {"n", "v", "a", "r"};
constexpr std::array<const char*, 4> kSuffix = {"noun", "verb", "adj", "adv"};
const std::array<std::vector<std::pair<std::string, std::string>>, 4>& substitutions() {
  static const std::array<std::vector<std::pair<std::string, std::string>>, 4> rules = {{
      {{"s", ""}, {"ses", "s"}, {"ves", "f"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"},
       {"men", "man"}, {"ies", "y"}},
      {{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""}},
      {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}},
      {},
  }};
  return rules;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("WordNet file {} cannot be read", path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> split_ascii(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string token;
  while (in >> token) out.push_back(token);
  return out;
}

// Lemma name without an adjective's syntactic marker: nltk's re.match(r"(.*?)(\(.*\))?$", name).group(1).
std::string without_marker(const std::string& name) {
  if (name.size() < 2 || name.back() != ')') return name;
  const size_t open = name.find('(');
  return open == std::string::npos || open + 1 >= name.size() ? name : name.substr(0, open);
}

}  // namespace

struct WordNet::Data {
  std::unordered_map<std::string, std::array<std::vector<uint64_t>, 4>> index;   // lemma -> offsets per pos
  std::unordered_map<std::string, std::array<bool, 4>> listed;                   // lemma -> pos listed
  std::array<std::unordered_map<std::string, std::vector<std::string>>, 4> exceptions;
  std::array<std::string, 4> data;                                               // data.<pos> contents
  std::filesystem::path dir;
  mutable std::mutex cache_mutex;
  mutable std::map<std::pair<int, uint64_t>, std::vector<std::string>> synset_words;

  bool has(const std::string& form, int pos) const {
    auto it = listed.find(form);
    return it != listed.end() && it->second[static_cast<size_t>(pos)];
  }

  // nltk's _morphy(form, pos, check_exceptions=True).
  std::vector<std::string> morphy(const std::string& form, int pos) const {
    auto filter = [&](const std::vector<std::string>& forms) {
      std::vector<std::string> result;
      for (const std::string& f : forms)
        if (has(f, pos) && std::find(result.begin(), result.end(), f) == result.end()) result.push_back(f);
      return result;
    };
    auto apply = [&](const std::vector<std::string>& forms) {
      std::vector<std::string> out;
      for (const std::string& f : forms)
        for (const auto& [old_suffix, replacement] : substitutions()[static_cast<size_t>(pos)])
          if (ends_with(f, old_suffix)) out.push_back(f.substr(0, f.size() - old_suffix.size()) + replacement);
      return out;
    };
    const auto& exc = exceptions[static_cast<size_t>(pos)];
    if (auto it = exc.find(form); it != exc.end()) {
      std::vector<std::string> forms = {form};
      forms.insert(forms.end(), it->second.begin(), it->second.end());
      return filter(forms);
    }
    std::vector<std::string> forms = apply({form});
    std::vector<std::string> first = {form};
    first.insert(first.end(), forms.begin(), forms.end());
    std::vector<std::string> results = filter(first);
    if (!results.empty()) return results;
    while (!forms.empty()) {
      forms = apply(forms);
      results = filter(forms);
      if (!results.empty()) return results;
    }
    return {};
  }

  const std::vector<std::string>& words_at(int pos, uint64_t offset) const {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto key = std::make_pair(pos, offset);
    if (auto it = synset_words.find(key); it != synset_words.end()) return it->second;
    const std::string& file = data[static_cast<size_t>(pos)];
    const std::string where = fmt::format("data.{} offset {}", kSuffix[static_cast<size_t>(pos)], offset);
    if (offset >= file.size()) throw std::runtime_error("WordNet " + where + " is past the end of the file");
    const size_t end = file.find('\n', offset);
    const std::vector<std::string> tokens =
        split_ascii(file.substr(offset, end == std::string::npos ? std::string::npos : end - offset));
    if (tokens.size() < 4 || tokens[0] != fmt::format("{:08d}", offset))
      throw std::runtime_error("WordNet " + where + " does not start a synset line");
    const size_t count = std::stoul(tokens[3], nullptr, 16);
    std::vector<std::string> words;
    for (size_t k = 0; k < count; ++k) {
      const size_t at = 4 + 2 * k;
      if (at >= tokens.size()) throw std::runtime_error("WordNet " + where + " lists fewer words than it counts");
      words.push_back(without_marker(tokens[at]));
    }
    return synset_words.emplace(key, std::move(words)).first->second;
  }
};

WordNet::WordNet(std::unique_ptr<Data> data) : data_(std::move(data)) {}
WordNet::~WordNet() = default;

std::string WordNet::unavailable_reason(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    return fmt::format("WordNet database directory {} not found (Debian/Ubuntu: apt-get install wordnet-base)",
                       dir.string());
  for (size_t p = 0; p < kPos.size(); ++p)
    for (const std::string& name : {std::string("index.") + kSuffix[p], std::string("data.") + kSuffix[p],
                                    std::string(kSuffix[p]) + ".exc"})
      if (!std::filesystem::is_regular_file(dir / name))
        return fmt::format("WordNet file {} not found (Debian/Ubuntu: apt-get install wordnet-base)",
                           (dir / name).string());
  return "";
}

std::shared_ptr<const WordNet> WordNet::open(const std::filesystem::path& dir) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const WordNet>> opened;
  std::lock_guard<std::mutex> lock(mutex);
  const std::string key = dir.lexically_normal().string();
  if (auto it = opened.find(key); it != opened.end()) return it->second;
  if (const std::string reason = unavailable_reason(dir); !reason.empty()) throw std::runtime_error(reason);
  auto data = std::make_unique<Data>();
  data->dir = dir;
  for (size_t p = 0; p < kPos.size(); ++p) {
    // _load_lemma_pos_offset_map: lines starting with a space are the licence header.
    const std::filesystem::path index_file = dir / (std::string("index.") + kSuffix[p]);
    std::istringstream index(read_file(index_file));
    std::string line;
    int number = 0;
    while (std::getline(index, line)) {
      ++number;
      if (line.empty() || line[0] == ' ') continue;
      const std::vector<std::string> t = split_ascii(line);
      auto bad = [&](const char* what) {
        return std::runtime_error(fmt::format("WordNet file {}, line {}: {}", index_file.string(), number, what));
      };
      try {
        if (t.size() < 4) throw bad("too few fields");
        const size_t synsets = std::stoul(t[2]);
        const size_t pointers = std::stoul(t[3]);
        const size_t offsets_at = 4 + pointers + 2;
        if (synsets == 0 || t.size() < offsets_at + synsets) throw bad("fewer synset offsets than counted");
        if (std::stoul(t[4 + pointers]) != synsets) throw bad("sense count differs from synset count");
        std::vector<uint64_t> offsets;
        for (size_t k = 0; k < synsets; ++k) offsets.push_back(std::stoull(t[offsets_at + k]));
        const int pos = t[1] == "n" ? 0 : t[1] == "v" ? 1 : t[1] == "a" ? 2 : t[1] == "r" ? 3 : -1;
        if (pos < 0) throw bad("unknown part of speech");
        data->index[t[0]][static_cast<size_t>(pos)] = std::move(offsets);
        data->listed[t[0]][static_cast<size_t>(pos)] = true;
      } catch (const std::invalid_argument&) {
        throw bad("a field that is not a number");
      }
    }
    std::istringstream exc(read_file(dir / (std::string(kSuffix[p]) + ".exc")));
    while (std::getline(exc, line)) {
      std::vector<std::string> t = split_ascii(line);
      if (t.empty()) continue;
      const std::string inflected = t[0];
      data->exceptions[p][inflected] = std::vector<std::string>(t.begin() + 1, t.end());
    }
    data->data[p] = read_file(dir / (std::string("data.") + kSuffix[p]));
  }
  auto wordnet = std::make_shared<const WordNet>(std::move(data));
  opened.emplace(key, wordnet);
  return wordnet;
}

std::set<std::string> WordNet::synonyms(const std::string& word) const {
  const std::string lemma = py_lower(std::string_view(word));
  std::set<std::string> out;
  for (int pos = 0; pos < static_cast<int>(kPos.size()); ++pos) {
    for (const std::string& form : data_->morphy(lemma, pos)) {
      const auto it = data_->index.find(form);
      if (it == data_->index.end()) continue;
      for (uint64_t offset : it->second[static_cast<size_t>(pos)])
        for (const std::string& name : data_->words_at(pos, offset))
          if (name.find('_') == std::string::npos) out.insert(name);
    }
  }
  return out;
}

}  // namespace loom::metrics::text
