#include "benchmarks/benchmark_config.h"

#include "common/did_you_mean.h"
#include "common/error.h"
#include "metrics/judged/judged_metrics.h"
#include "metrics/scorer.h"
#include "benchmarks/benchmark_options.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string_view>

namespace loom::benchmarks {
namespace {

// [-+]?[0-9]+ and [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? as linear scans (std::regex recurses once
// per character and overflows the stack on long scalars).
bool is_yaml_int(std::string_view text) {
  size_t pos = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  return pos < text.size() && std::all_of(text.begin() + static_cast<std::ptrdiff_t>(pos), text.end(),
                                          [](char c) { return c >= '0' && c <= '9'; });
}

bool is_yaml_float(std::string_view text) {
  size_t pos = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  auto digits = [&] {
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    return pos - start;
  };
  const size_t whole = digits();
  size_t fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    fraction = digits();
  }
  if (whole == 0 && fraction == 0) return false;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) ++pos;
    if (digits() == 0) return false;
  }
  return pos == text.size();
}

nlohmann::json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
  if (is_yaml_int(text)) {
    try {
      return static_cast<int64_t>(std::stoll(text));
    } catch (const std::out_of_range&) {
      return text;
    }
  }
  if (is_yaml_float(text)) {
    const double value = std::strtod(text.c_str(), nullptr);  // out of range: +-HUGE_VAL, then refused by its reader
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(text);
  }
  return text;
}

nlohmann::json node_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : node) arr.push_back(node_to_json(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = node_to_json(kv.second);
      return obj;
    }
  }
  return nullptr;
}

YAML::Node load_yaml(const std::filesystem::path& file) {
  try {
    return YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw InputError(file.string(), 0, "", "a readable YAML file");
  } catch (const YAML::Exception& e) {
    throw InputError(file.string(), e.mark.line + 1, "", fmt::format("valid YAML ({})", e.msg));
  }
}

int line_of(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  return node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
}

struct Reader {
  const std::filesystem::path& file;

  std::string string_at(const YAML::Node& map, const std::string& key, const std::string& path,
                        const std::string& fallback, bool required) const {
    const YAML::Node v = map[key];
    if (!v) {
      if (required) throw InputError(file.string(), line_of(map), path, "a string");
      return fallback;
    }
    if (!v.IsScalar()) throw InputError(file.string(), line_of(v), path, "a string");
    return v.Scalar();
  }
  int64_t int_at(const YAML::Node& map, const std::string& key, const std::string& path, int64_t fallback) const {
    const YAML::Node v = map[key];
    if (!v) return fallback;
    nlohmann::json j = v.IsScalar() ? scalar_to_json(v) : nlohmann::json();
    if (!j.is_number_integer()) throw InputError(file.string(), line_of(v), path, "an integer");
    return j.get<int64_t>();
  }
  double float_at(const YAML::Node& map, const std::string& key, const std::string& path, double fallback) const {
    const YAML::Node v = map[key];
    if (!v) return fallback;
    nlohmann::json j = v.IsScalar() ? scalar_to_json(v) : nlohmann::json();
    if (!j.is_number()) throw InputError(file.string(), line_of(v), path, "a number");
    return j.get<double>();
  }
  bool bool_at(const YAML::Node& map, const std::string& key, const std::string& path, bool fallback) const {
    const YAML::Node v = map[key];
    if (!v) return fallback;
    nlohmann::json j = v.IsScalar() ? scalar_to_json(v) : nlohmann::json();
    if (!j.is_boolean()) throw InputError(file.string(), line_of(v), path, "true or false");
    return j.get<bool>();
  }
  std::vector<std::string> strings_at(const YAML::Node& map, const std::string& key, const std::string& path,
                                      std::vector<std::string> fallback) const {
    const YAML::Node v = map[key];
    if (!v) return fallback;
    if (v.IsScalar()) return {v.Scalar()};
    if (!v.IsSequence()) throw InputError(file.string(), line_of(v), path, "a list of strings");
    std::vector<std::string> out;
    for (const auto& item : v) {
      if (!item.IsScalar()) throw InputError(file.string(), line_of(item), path, "a list of strings");
      out.push_back(item.Scalar());
    }
    return out;
  }
};

// Keys of a task entry (or of `defaults:`) that this file understands; everything else goes to options.
const std::set<std::string>& task_keys() {
  static const std::set<std::string> keys = {"template", "system_prompt", "answer_prefix", "metric",
                                             "use_chat_template", "max_new_tokens", "do_sample", "temperature",
                                             "top_p", "top_k", "stop"};
  return keys;
}

// Every name of a task's `metric` (comma-separated) must be a scorer of loom::metrics.
void check_metric(const Reader& r, const YAML::Node& node, const TaskConfig& t, const std::string& path) {
  const std::vector<std::string> known = metrics::known_metrics();
  std::size_t start = 0;
  while (start <= t.metric.size()) {
    const std::size_t comma = std::min(t.metric.find(',', start), t.metric.size());
    const std::string name = t.metric.substr(start, comma - start);
    // A judged metric (docs/judge.md) may be a task's metric: the row's score is its verdict (LongSafety).
    if (std::find(known.begin(), known.end(), name) == known.end() && !metrics::judged::find_judged_score(name)) {
      const YAML::Node at = node && node.IsMap() && node["metric"] ? node["metric"] : node;
      throw InputError(r.file.string(), at ? line_of(at) : t.line, path + ".metric",
                       fmt::format("metric names (comma-separated) of `loom_mpi score`: {}; got '{}'{}",
                                   join_names(known), name, did_you_mean(name, known)));
    }
    start = comma + 1;
  }
}

TaskConfig read_task(const Reader& r, const YAML::Node& node, const TaskConfig& base, const std::string& path,
                     const std::string& kind) {
  TaskConfig t = base;
  if (!node || node.IsNull()) return t;
  t.line = line_of(node);
  if (!node.IsMap()) throw InputError(r.file.string(), line_of(node), path, "a mapping of task settings");
  t.template_text = r.string_at(node, "template", path + ".template", t.template_text, false);
  t.system_prompt = r.string_at(node, "system_prompt", path + ".system_prompt", t.system_prompt, false);
  t.answer_prefix = r.string_at(node, "answer_prefix", path + ".answer_prefix", t.answer_prefix, false);
  t.metric = r.string_at(node, "metric", path + ".metric", t.metric, false);
  t.use_chat_template = r.bool_at(node, "use_chat_template", path + ".use_chat_template", t.use_chat_template);
  auto& g = t.generation;
  g.max_new_tokens = static_cast<int32_t>(r.int_at(node, "max_new_tokens", path + ".max_new_tokens", g.max_new_tokens));
  if (g.max_new_tokens <= 0) throw InputError(r.file.string(), t.line, path + ".max_new_tokens", "a positive integer");
  g.do_sample = r.bool_at(node, "do_sample", path + ".do_sample", g.do_sample);
  g.temperature = static_cast<float>(r.float_at(node, "temperature", path + ".temperature", g.temperature));
  g.top_p = static_cast<float>(r.float_at(node, "top_p", path + ".top_p", g.top_p));
  g.top_k = static_cast<int32_t>(r.int_at(node, "top_k", path + ".top_k", g.top_k));
  g.stop_strings = r.strings_at(node, "stop", path + ".stop", g.stop_strings);
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (task_keys().count(key)) continue;
    const nlohmann::json option = {{key, node_to_json(kv.second)}};
    check_option_keys(option, kind, r.file.string(), line_of(kv.first), path,
                      std::vector<std::string>(task_keys().begin(), task_keys().end()));
    t.options[key] = option[key];
  }
  if (node["metric"] && !t.metric.empty()) check_metric(r, node, t, path);
  return t;
}

}  // namespace

const std::vector<std::string>& known_capabilities() {
  static const std::vector<std::string> caps = {"Faithfulness", "General",    "Reasoning",
                                                "Retrieval",    "Generation", "Specialization"};
  return caps;
}

const TaskConfig* BenchmarkConfig::find_task(const std::string& task_name) const {
  for (const auto& t : tasks)
    if (t.name == task_name) return &t;
  return nullptr;
}

nlohmann::json load_yaml_as_json(const std::filesystem::path& file) { return node_to_json(load_yaml(file)); }

BenchmarkConfig load_benchmark_config(const std::filesystem::path& file) {
  const YAML::Node root = load_yaml(file);
  if (!root.IsMap()) throw InputError(file.string(), 1, "", "a mapping with name, kind, capability and tasks");
  static const std::set<std::string> kTopKeys = {"name", "kind", "capability", "description", "published",
                                                 "truncation", "lengths", "defaults", "tasks", "options"};
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    if (!kTopKeys.count(key))
      throw InputError(file.string(), line_of(kv.first), key,
                       "one of name, kind, capability, description, published, truncation, lengths, defaults, tasks, "
                       "options");
  }
  Reader r{file};
  BenchmarkConfig c;
  c.file = file;
  c.name = r.string_at(root, "name", "name", "", true);
  c.kind = r.string_at(root, "kind", "kind", "jsonl", false);
  c.capability = r.string_at(root, "capability", "capability", "", true);
  const auto& caps = known_capabilities();
  if (std::find(caps.begin(), caps.end(), c.capability) == caps.end())
    throw InputError(file.string(), line_of(root["capability"]), "capability",
                     "one of Faithfulness, General, Reasoning, Retrieval, Generation, Specialization");
  c.description = r.string_at(root, "description", "description", "", false);
  c.published = r.string_at(root, "published", "published", "the benchmark's publisher", false);
  const std::string trunc = r.string_at(root, "truncation", "truncation", "middle", false);
  if (trunc == "middle") c.truncation = TruncationRule::kMiddle;
  else if (trunc == "leval_words") c.truncation = TruncationRule::kLEvalWords;
  else if (trunc == "none") c.truncation = TruncationRule::kNone;
  else throw InputError(file.string(), line_of(root["truncation"]), "truncation", "middle, leval_words or none");
  if (const YAML::Node lengths = root["lengths"]) {
    if (!lengths.IsSequence()) throw InputError(file.string(), line_of(lengths), "lengths", "a list of integers");
    for (const auto& item : lengths) {
      nlohmann::json j = item.IsScalar() ? scalar_to_json(item) : nlohmann::json();
      if (!j.is_number_integer() || j.get<int64_t>() < 0)
        throw InputError(file.string(), line_of(item), "lengths", "a list of non-negative integers");
      c.lengths.push_back(j.get<int64_t>());
    }
  }
  if (const YAML::Node options = root["options"]) {
    if (!options.IsMap()) throw InputError(file.string(), line_of(options), "options", "a mapping");
    c.options = node_to_json(options);
    check_option_keys(c.options, c.kind, file.string(), line_of(options), "options");
  }
  TaskConfig defaults;
  defaults.metric = "";
  defaults = read_task(r, root["defaults"], defaults, "defaults", c.kind);
  const YAML::Node tasks = root["tasks"];
  if (!tasks || !tasks.IsMap() || tasks.size() == 0)
    throw InputError(file.string(), tasks ? line_of(tasks) : 0, "tasks", "a non-empty mapping of task name → settings");
  for (const auto& kv : tasks) {
    const std::string task_name = kv.first.as<std::string>();
    TaskConfig t = read_task(r, kv.second, defaults, "tasks." + task_name, c.kind);
    t.name = task_name;
    t.line = line_of(kv.first);
    if (t.metric.empty()) throw InputError(file.string(), t.line, "tasks." + task_name + ".metric", "a scorer name");
    c.tasks.push_back(std::move(t));
  }
  return c;
}

}  // namespace loom::benchmarks
