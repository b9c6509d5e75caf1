#include "scheduler/job_overrides.h"

#include "common/error.h"

#include <sstream>

namespace loom::scheduler {

namespace fs = std::filesystem;

std::string JobOverrides::describe() const {
  std::string out;
  auto add = [&](const std::string& text) { out += (out.empty() ? "" : " ") + text; };
  if (!model_path.empty()) add("--model " + model_path.string());
  if (!data_root.empty()) add("--data-root " + data_root.string());
  if (limit >= 0) add("--limit " + std::to_string(limit));
  for (const std::string& setting : settings) add("--set " + setting);
  return out;
}

// data_dir moved under `root`: root/<the data_dir's last component> (--data-root).
fs::path rerooted(const fs::path& data_dir, const fs::path& root) {
  fs::path normal = data_dir.lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  return (fs::absolute(root) / normal.filename()).lexically_normal();
}

// --set KEY=VALUE on the parsed YAML: KEY walks (and creates) mappings; VALUE is parsed as YAML.
void apply_settings(YAML::Node& root, const std::vector<std::string>& settings) {
  for (const std::string& setting : settings) {
    const std::size_t eq = setting.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw InputError("--set", 0, setting, "KEY=VALUE with KEY a dotted job key such as model.device");
    }
    const std::string key = setting.substr(0, eq);
    YAML::Node value;
    try {
      value = YAML::Load(setting.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      throw InputError("--set", 0, key, "a YAML value: " + e.msg);
    }
    std::vector<std::string> parts;
    std::stringstream path(key);
    for (std::string part; std::getline(path, part, '.');) parts.push_back(part);
    std::vector<YAML::Node> chain{root};
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      YAML::Node child = chain.back()[parts[i]];
      if (child.IsDefined() && !child.IsNull() && !child.IsMap()) {
        throw InputError("--set", 0, key, "a path through mappings; " + parts[i] + " is not a mapping");
      }
      if (!child.IsDefined() || child.IsNull()) {
        chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
        child = chain.back()[parts[i]];
      }
      chain.push_back(child);
    }
    chain.back()[parts.back()] = value;
  }
}

}  // namespace loom::scheduler
