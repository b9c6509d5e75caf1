// Sub-commands end with a non-zero exit code (after printing their own message) by throwing ExitStatus.
#pragma once

namespace loom::cli {

struct ExitStatus {
  int code = 1;
};

}  // namespace loom::cli
