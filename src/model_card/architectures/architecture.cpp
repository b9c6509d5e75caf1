#include "model_card/architectures/architecture.h"

#include "common/error.h"

namespace loom::model {

const std::vector<Architecture>& supported_architectures() {
  static const std::vector<Architecture> table = {describe_llama(), describe_mistral(), describe_qwen2(),
                                                  describe_qwen3()};
  return table;
}

const Architecture& find_architecture(const std::string& model_type, const std::string& file) {
  std::string known;
  for (const Architecture& arch : supported_architectures()) {
    if (arch.model_type == model_type) return arch;
    known += (known.empty() ? "" : ", ") + arch.model_type;
  }
  throw InputError(file, 0, "model_type", fmt::format("unsupported architecture '{}' (supported: {})", model_type,
                                                      known));
}

}  // namespace loom::model
