// A GoogleTest fixture for the job parser: parse() reads a job file's text as `loom_mpi` reads a file at `path_`
// (configs from the repository's configs/), parse_error() returns the InputError a bad text raises (a test failure
// when it raises none). LOOM_SOURCE_DIR is the repository root (cmake/LoomHelpers.cmake defines it).
#pragma once

#include "common/error.h"
#include "scheduler/job_parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace loom::test_support {

class JobTextTest : public ::testing::Test {
 protected:
  explicit JobTextTest(std::filesystem::path path) : path_(std::move(path)) {
    options_.configs_dir = std::filesystem::path(LOOM_SOURCE_DIR) / "configs";
  }
  scheduler::JobConfig parse(const std::string& text) { return scheduler::parse_job_text(text, path_, options_); }
  InputError parse_error(const std::string& text) {
    try {
      parse(text);
    } catch (const InputError& e) {
      return e;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return InputError("", 0, "", "");
  }
  std::filesystem::path path_;
  scheduler::ParseOptions options_;
};

}  // namespace loom::test_support
