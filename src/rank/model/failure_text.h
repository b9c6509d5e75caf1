// The reason stored with a failed row or printed for a failed engine, in words: a libtorch error (c10::Error) keeps
// its message without the C++ stack trace and source places libtorch appends; other exceptions go through
// loom::describe_exception (common/exception_text.h: out of memory, sizes too large, JSON content).
#pragma once

#include <exception>
#include <string>

namespace loom::model {

std::string failure_text(const std::exception& error, const std::string& during = "");

}  // namespace loom::model
