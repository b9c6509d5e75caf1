#include "benchmarks/text_util.h"

#include "common/error.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>

namespace loom::benchmarks {
namespace {

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Length of the `{identifier}` field reference starting at text[pos] == '{', or 0 when it is not one.
size_t field_reference_length(std::string_view text, size_t pos) {
  if (pos + 2 >= text.size() || !is_ident_start(text[pos + 1])) return 0;
  size_t end = pos + 2;
  while (end < text.size() && is_ident_char(text[end])) ++end;
  if (end >= text.size() || text[end] != '}') return 0;
  return end - pos + 1;
}

}  // namespace

std::string render_template(std::string_view tmpl,
                            const std::function<std::optional<std::string>(std::string_view)>& lookup,
                            std::vector<std::string>* unknown) {
  std::string out;
  out.reserve(tmpl.size());
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      size_t len = field_reference_length(tmpl, i);
      if (len > 0) {
        std::string_view name = tmpl.substr(i + 1, len - 2);
        if (auto value = lookup(name)) {
          out += *value;
        } else {
          if (unknown) unknown->emplace_back(name);
          out.append(tmpl.substr(i, len));
        }
        i += len;
        continue;
      }
    }
    out += tmpl[i++];
  }
  return out;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  if (from.empty()) return text;
  size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

std::vector<std::string> split_whitespace(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

std::vector<std::string> split_on(std::string_view text, std::string_view sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      return parts;
    }
    parts.emplace_back(text.substr(start, pos - start));
    start = pos + sep.size();
  }
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  size_t total = 0;
  for (const auto& p : parts) total += p.size() + sep.size();
  out.reserve(total);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.append(sep);
    out += parts[i];
  }
  return out;
}

std::string strip(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && is_space(text[b])) ++b;
  while (e > b && is_space(text[e - 1])) --e;
  return std::string(text.substr(b, e - b));
}

std::string json_to_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "None";
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
  return value.dump();
}

std::vector<std::string> split_sentences(std::string_view text) {
  static const std::array<std::string_view, 12> kAbbreviations = {"mr", "mrs", "ms", "dr", "prof", "st",
                                                                  "vs", "etc", "e.g", "i.e", "jr", "sr"};
  std::vector<std::string> sentences;
  size_t start = 0;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '.' || c == '!' || c == '?') {
      size_t end = i + 1;
      while (end < text.size() && (text[end] == '.' || text[end] == '!' || text[end] == '?')) ++end;
      while (end < text.size() && (text[end] == '"' || text[end] == '\'' || text[end] == ')' || text[end] == ']'))
        ++end;
      if (end < text.size() && is_space(text[end])) {
        bool abbreviation = false;
        if (c == '.') {
          size_t w = i;
          while (w > start && !is_space(text[w - 1])) --w;
          std::string word(text.substr(w, i - w));
          std::transform(word.begin(), word.end(), word.begin(), [](unsigned char ch) { return std::tolower(ch); });
          abbreviation = (word.size() == 1 && std::isalpha(static_cast<unsigned char>(word[0]))) ||
                         std::find(kAbbreviations.begin(), kAbbreviations.end(), word) != kAbbreviations.end();
        }
        if (!abbreviation) {
          std::string s = strip(text.substr(start, end - start));
          if (!s.empty()) sentences.push_back(std::move(s));
          start = end;
        }
      }
      i = end;
      continue;
    }
    ++i;
  }
  std::string tail = strip(text.substr(start));
  if (!tail.empty()) sentences.push_back(std::move(tail));
  return sentences;
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "a readable file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::filesystem::path> list_files(const std::filesystem::path& dir, std::string_view suffix) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(entry.path());
  }
  if (ec) throw InputError(dir.string(), 0, "", "a readable directory");
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace loom::benchmarks
