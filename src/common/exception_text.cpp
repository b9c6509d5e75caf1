#include "common/exception_text.h"

#include "common/json_errors.h"

#include <new>
#include <stdexcept>

namespace loom {

std::string describe_exception(const std::exception& error, const std::string& during) {
  const std::string context = during.empty() ? "" : " while " + during;
  if (dynamic_cast<const std::bad_alloc*>(&error) != nullptr)
    return "out of memory" + context + " (a size in the input may be far larger than intended)";
  if (dynamic_cast<const std::length_error*>(&error) != nullptr)
    return "a size far too large to allocate" + context + " (check the sizes and lengths in the input)";
  if (const auto* json = dynamic_cast<const nlohmann::json::exception*>(&error))
    return "unexpected JSON content" + context + ": " + json_problem(*json);
  return error.what();
}

}  // namespace loom
