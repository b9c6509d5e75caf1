// Errors at three levels (see docs/architecture.md):
//  * loom::Error           — an internal failure, thrown by LOOM_CHECK (in words; the place is logged at debug).
//  * loom::InputError      — bad user input; names the file, line (0 if unknown), key and what was expected.
//  * loom::SampleError     — one sample failed (to prepare or to run): a `failed` row with its reason; the job goes on.
// Messages are complete sentences a user can act on; never catch and re-throw without adding context.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace loom {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InputError : public Error {
 public:
  // file: the path as the user gave it; line: 1-based, 0 when not known; key: dotted key path or
  // field name ("model.path", "benchmarks[1].lengths"), may be empty; expected: what was expected.
  InputError(std::string file, int line, std::string key, const std::string& expected);

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& key() const { return key_; }
  const std::string& expected() const { return expected_; }

 private:
  std::string file_;
  int line_;
  std::string key_;
  std::string expected_;
};

class SampleError : public Error {
 public:
  SampleError(std::string sample_key, const std::string& reason);
  const std::string& sample_key() const { return sample_key_; }

 private:
  std::string sample_key_;
};

[[noreturn]] void throw_check_failure(const char* file, int line, const char* condition, const std::string& message);

}  // namespace loom

// LOOM_CHECK(cond, "format {}", args...) throws loom::Error("message (internal check failed: cond)").
#define LOOM_CHECK(cond, ...)                                                                  \
  do {                                                                                         \
    if (!(cond)) ::loom::throw_check_failure(__FILE__, __LINE__, #cond, fmt::format(__VA_ARGS__)); \
  } while (0)
