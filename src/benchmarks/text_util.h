// Small string helpers shared by the benchmark loaders and generators: {field} template rendering, whitespace
// splitting/joining in Python's sense, a sentence splitter for haystack insertion, and file reading.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loom::benchmarks {

// Replaces every `{name}` whose name is an identifier ([A-Za-z_][A-Za-z0-9_]*) by lookup(name). Braces around
// anything else (JSON examples in a prompt) are left untouched. Names lookup() does not know are collected in
// *unknown (when given) and left in place.
std::string render_template(std::string_view tmpl,
                            const std::function<std::optional<std::string>(std::string_view)>& lookup,
                            std::vector<std::string>* unknown = nullptr);

std::string replace_all(std::string text, std::string_view from, std::string_view to);
// Python's str.split() (runs of ASCII whitespace, no empty pieces).
std::vector<std::string> split_whitespace(std::string_view text);
// Python's str.split(sep) for a non-empty separator (keeps empty pieces).
std::vector<std::string> split_on(std::string_view text, std::string_view sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string strip(std::string_view text);
// A JSON value as the official Python scripts print it into prompts: strings as is, integers without ".0".
std::string json_to_text(const nlohmann::json& value);

// Sentence split for inserting needles between sentences (stands in for NLTK's sent_tokenize): a sentence ends
// after '.', '!' or '?' (plus closing quotes/brackets) followed by whitespace; pieces are stripped, empty ones
// dropped. Single-letter and common title abbreviations ("Mr.", "Dr.", "e.g.") do not end a sentence.
std::vector<std::string> split_sentences(std::string_view text);

std::string read_text_file(const std::filesystem::path& path);
// Regular files directly in dir whose name ends with suffix, sorted by name.
std::vector<std::filesystem::path> list_files(const std::filesystem::path& dir, std::string_view suffix);

}  // namespace loom::benchmarks
