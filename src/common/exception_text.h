// An exception's message in words for users. std::bad_alloc and std::length_error (whose what() is library text
// such as "std::bad_alloc" or "vector::_M_default_append") say which limit was hit; nlohmann::json exceptions lose
// their "[json.exception...]" tag; anything else is what(). `during` names what was being done ("loading the
// model"); empty when not known.
#pragma once

#include <exception>
#include <string>

namespace loom {

std::string describe_exception(const std::exception& error, const std::string& during = "");

}  // namespace loom
