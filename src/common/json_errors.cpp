#include "common/json_errors.h"

#include <fmt/format.h>

#include <cstdlib>

namespace loom {

std::string json_problem(const nlohmann::json::exception& error) {
  std::string text = error.what();
  if (text.rfind("[json.exception.", 0) == 0) {
    const std::size_t close = text.find("] ");
    if (close != std::string::npos) text = text.substr(close + 2);
  }
  if (text.rfind("parse error", 0) == 0) {
    const std::size_t colon = text.find(": ");
    if (colon != std::string::npos) text = text.substr(colon + 2);
  }
  return text;
}

int line_of_byte(std::string_view text, std::size_t byte) {
  int line = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i)
    if (text[i] == '\n') ++line;
  return line;
}

InputError json_syntax_error(const std::string& file, const nlohmann::json::exception& error, std::string_view text) {
  int line = 0;
  if (const auto* parse = dynamic_cast<const nlohmann::json::parse_error*>(&error)) {
    if (!text.empty()) {
      line = line_of_byte(text, parse->byte > 0 ? parse->byte - 1 : 0);
    } else {
      // "parse error at line L, column C: ..."
      const std::string what = parse->what();
      const std::size_t at = what.find("at line ");
      if (at != std::string::npos) line = std::atoi(what.c_str() + at + 8);
    }
  }
  return InputError(file, line, "", fmt::format("valid JSON ({})", json_problem(error)));
}

}  // namespace loom
