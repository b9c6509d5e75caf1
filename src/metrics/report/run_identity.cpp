#include "metrics/report/run_identity.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <ctime>

namespace loom::metrics::report {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// A scalar at a YAML path ("" when the job text does not parse or lacks it: the identity is informative only).
std::string yaml_scalar(const std::string& text, const std::vector<std::string>& path) {
  try {
    YAML::Node node = YAML::Load(text);
    for (const auto& key : path) {
      if (!node.IsMap() || !node[key]) return "";
      node = node[key];
    }
    return node.IsScalar() ? node.as<std::string>() : "";
  } catch (const YAML::Exception&) {
    return "";
  }
}

std::string utc_date(double unix_seconds) {
  if (unix_seconds <= 0) return "";
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&time, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

}  // namespace

RunIdentity run_identity(const std::filesystem::path& results_file, const results::JobAttributes& attributes,
                         const std::vector<results::ResultRow>& rows) {
  RunIdentity id;
  id.file = results_file.string();
  id.job = yaml_scalar(attributes.job_yaml, {"name"});
  id.model = yaml_scalar(attributes.job_yaml, {"model", "path"});
  const nlohmann::json config = nlohmann::json::parse(attributes.model_config, nullptr, false);
  if (config.is_object() && config.contains("model_type") && config["model_type"].is_string())
    id.model += (id.model.empty() ? "" : " ") + ("(" + config["model_type"].get<std::string>() + ")");
  id.commit = attributes.git_commit;
  double last = 0;
  for (const auto& row : rows) last = std::max(last, row.finished_unix);
  id.date = utc_date(last);
  id.machine = join(attributes.hostnames);
  if (!attributes.devices.empty()) id.machine += (id.machine.empty() ? "" : "; ") + join(attributes.devices);
  auto world = attributes.extra.find("world_size");
  if (world != attributes.extra.end()) id.machine += fmt::format("; {} MPI ranks", world->second);
  auto version = attributes.extra.find("loom_mpi_version");
  if (version != attributes.extra.end()) id.version = version->second;
  return id;
}

nlohmann::json identity_to_json(const RunIdentity& id) {
  return {{"file", id.file},     {"job", id.job},         {"model", id.model},    {"commit", id.commit},
          {"date", id.date},     {"machine", id.machine}, {"version", id.version}};
}

}  // namespace loom::metrics::report
