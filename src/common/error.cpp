#include "common/error.h"

#include <spdlog/spdlog.h>

namespace loom {

namespace {
std::string input_error_message(const std::string& file, int line, const std::string& key,
                                const std::string& expected) {
  // FILE:LINE: key 'KEY': expected — parts that are not known are left out, never printed empty.
  std::string where = file;
  if (!where.empty() && line > 0) where += fmt::format(":{}", line);
  if (!key.empty()) where += fmt::format("{}key '{}'", where.empty() ? "" : ": ", key);
  return where.empty() ? expected : fmt::format("{}: {}", where, expected);
}
}  // namespace

InputError::InputError(std::string file, int line, std::string key, const std::string& expected)
    : Error(input_error_message(file, line, key, expected)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)),
      expected_(expected) {}

SampleError::SampleError(std::string sample_key, const std::string& reason)
    : Error(reason), sample_key_(std::move(sample_key)) {}

void throw_check_failure(const char* file, int line, const char* condition, const std::string& message) {
  // The message is for users (it ends in failed rows and on the console): no source path. The place is logged for
  // whoever debugs it.
  spdlog::debug("internal check `{}` failed at {}:{}", condition, file, line);
  throw Error(fmt::format("{} (internal check failed: {})", message, condition));
}

}  // namespace loom
