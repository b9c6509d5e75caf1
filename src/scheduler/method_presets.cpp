#include "scheduler/method_presets.h"

#include "common/did_you_mean.h"
#include "common/error.h"
#include "methods/method_catalogue.h"
#include "scheduler/yaml_json.h"
#include "scheduler/yaml_limits.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace loom::scheduler {

namespace fs = std::filesystem;

namespace {

int line_of(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

}  // namespace

std::vector<std::string> preset_names(const fs::path& configs_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  const fs::path dir = configs_dir / "acceleration";
  if (configs_dir.empty() || !fs::is_directory(dir, ec)) return names;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<MethodPreset> load_method_preset(const fs::path& configs_dir, const std::string& name) {
  if (configs_dir.empty()) return std::nullopt;
  const fs::path path = configs_dir / "acceleration" / (name + ".yaml");
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || text.str().size() > kMaxJobBytes) throw InputError(file, 0, "", "a readable method preset (YAML)");
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw InputError(file, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "valid YAML: " + e.msg);
  }
  if (!root.IsMap()) throw InputError(file, 0, "", "a method preset: a mapping with name, method and params");
  check_yaml_structure(root, file);
  const std::vector<std::string> keys = {"name", "method", "params", "description"};
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      throw InputError(file, line_of(entry.first), key,
                       "a preset key: " + join_names(keys) + did_you_mean(key, keys));
    }
  }
  MethodPreset preset;
  preset.file = path;
  preset.name = root["name"] && root["name"].IsScalar() ? root["name"].Scalar() : "";
  if (preset.name != name) {
    throw InputError(file, root["name"] ? line_of(root["name"]) : 0, "name",
                     "the preset's name, which must equal its file name '" + name + "'");
  }
  if (methods::find_method(name) != nullptr) {
    throw InputError(file, line_of(root["name"]), "name",
                     "a name that is not a catalogue method ('" + name + "' is one; a job sets its params directly)");
  }
  const YAML::Node method = root["method"];
  if (!method || !method.IsScalar() || methods::find_method(method.Scalar()) == nullptr) {
    const std::string got = method && method.IsScalar() ? method.Scalar() : "";
    throw InputError(file, method ? line_of(method) : line_of(root), "method",
                     "a method of the catalogue: " + join_names(methods::method_names()) + "; got '" + got + "'" +
                         did_you_mean(got, methods::method_names()));
  }
  preset.method = method.Scalar();
  if (const YAML::Node params = root["params"]) {
    if (!params.IsMap() && !params.IsNull()) throw InputError(file, line_of(params), "params", "a mapping");
    if (params.IsMap()) preset.params = yaml_to_json(params);
  }
  if (root["description"] && root["description"].IsScalar()) preset.description = root["description"].Scalar();
  try {
    methods::resolve_method_params(preset.method, preset.params);
  } catch (const methods::MethodError& e) {
    const std::string leaf = e.key().rfind("params.", 0) == 0 ? e.key().substr(7) : "";
    const YAML::Node params = root["params"];
    const int line = !leaf.empty() && params && params.IsMap() && params[leaf] ? line_of(params[leaf])
                                                                                : line_of(root);
    throw InputError(file, line, e.key(), e.expected());
  }
  return preset;
}

}  // namespace loom::scheduler
