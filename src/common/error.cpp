#include "common/error.h"

#include "common/json_errors.h"

#include <spdlog/spdlog.h>

#include <new>
#include <stdexcept>

namespace loom {

namespace {
std::string input_error_message(const std::string& file, int line, const std::string& key,
                                const std::string& expected) {
  std::string where = file;
  if (line > 0) where += fmt::format(":{}", line);
  if (!key.empty()) where += fmt::format(": key '{}'", key);
  return fmt::format("{}: {}", where, expected);
}
}  // namespace

InputError::InputError(std::string file, int line, std::string key, const std::string& expected)
    : Error(input_error_message(file, line, key, expected)), file_(std::move(file)), line_(line), key_(std::move(key)) {}

SampleError::SampleError(std::string sample_key, const std::string& reason)
    : Error(reason), sample_key_(std::move(sample_key)) {}

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

void throw_check_failure(const char* file, int line, const char* condition, const std::string& message) {
  // The message is for users (it ends in failed rows and on the console): no source path. The place is logged for
  // whoever debugs it.
  spdlog::debug("internal check `{}` failed at {}:{}", condition, file, line);
  throw Error(fmt::format("{} (internal check failed: {})", message, condition));
}

}  // namespace loom
