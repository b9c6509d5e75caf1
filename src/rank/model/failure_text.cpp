#include "rank/model/failure_text.h"

#include "common/error.h"
#include "common/exception_text.h"

#include <c10/util/Exception.h>

namespace loom::model {

std::string failure_text(const std::exception& error, const std::string& during) {
  if (const auto* torch = dynamic_cast<const c10::Error*>(&error)) {
    std::string text = torch->msg();
    // c10 appends "Exception raised from <function> at <file>:<line> (most recent call first)" and frames.
    const std::size_t raised = text.find("\nException raised from");
    if (raised != std::string::npos) text.resize(raised);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return during.empty() ? "libtorch: " + text : "libtorch, while " + during + ": " + text;
  }
  return describe_exception(error, during);
}

}  // namespace loom::model
