#include "scheduler/yaml_limits.h"

#include "common/error.h"

#include <fmt/format.h>

#include <map>

namespace loom::scheduler {

namespace {

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

class StructureCheck {
 public:
  explicit StructureCheck(std::string file) : file_(std::move(file)) {}

  void visit(const YAML::Node& node, const std::string& key, int depth) {
    if (++nodes_ > kMaxYamlNodes) {
      throw InputError(file_, line_of(node), key,
                       fmt::format("a job of at most {} YAML nodes with aliases expanded (is an alias repeated "
                                   "inside itself?)",
                                   kMaxYamlNodes));
    }
    if (depth > kMaxYamlDepth) {
      throw InputError(file_, line_of(node), key, fmt::format("nesting at most {} levels deep", kMaxYamlDepth));
    }
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        if (node.Scalar().find('\0') != std::string::npos) {
          throw InputError(file_, line_of(node), key, "text without NUL characters");
        }
        return;
      case YAML::NodeType::Sequence: {
        std::size_t index = 0;
        for (const auto& element : node) visit(element, fmt::format("{}[{}]", key, index++), depth + 1);
        return;
      }
      case YAML::NodeType::Map: {
        std::map<std::string, int> seen;
        for (const auto& entry : node) {
          if (!entry.first.IsScalar()) {
            throw InputError(file_, line_of(entry.first), key, "keys that are plain names, not lists or mappings");
          }
          const std::string name = entry.first.Scalar();
          const std::string child = key.empty() ? name : key + "." + name;
          if (name.find('\0') != std::string::npos) {
            throw InputError(file_, line_of(entry.first), key, "keys without NUL characters");
          }
          const auto [it, fresh] = seen.emplace(name, line_of(entry.first));
          if (!fresh) {
            throw InputError(file_, line_of(entry.first), child,
                             fmt::format("each key once per mapping; '{}' is already given on line {}", name,
                                         it->second));
          }
          visit(entry.second, child, depth + 1);
        }
        return;
      }
      default: return;
    }
  }

 private:
  std::string file_;
  std::size_t nodes_ = 0;
};

}  // namespace

void check_yaml_structure(const YAML::Node& root, const std::string& file) {
  StructureCheck(file).visit(root, "", 0);
}

}  // namespace loom::scheduler
