// nlohmann::json exceptions in words. Their what() text ("[json.exception.parse_error.101] parse error at line 1,
// column 5: syntax error while parsing value - invalid literal; last read: 'x'") must never reach a user as is:
// json_problem() keeps the explanation and the place; json_syntax_error() is the InputError for a document that does
// not parse, naming the file and the line.
#pragma once

#include "common/error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace loom {

// The library's explanation without its "[json.exception.<kind>.<id>] " tag and "parse error at line L, column C: "
// prefix, e.g. "syntax error while parsing value - invalid literal; last read: 'x'".
std::string json_problem(const nlohmann::json::exception& error);

// The 1-based line of byte offset `byte` in `text` (the line of a parse error).
int line_of_byte(std::string_view text, std::size_t byte);

// InputError(file, line of the error, "", "valid JSON (<problem>)"); `text` is the document that failed to parse
// (may be empty when not at hand: then the library's line is used when it gives one).
InputError json_syntax_error(const std::string& file, const nlohmann::json::exception& error,
                             std::string_view text = {});

}  // namespace loom
