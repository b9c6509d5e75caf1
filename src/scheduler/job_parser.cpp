#include "scheduler/job_parser.h"

#include "common/did_you_mean.h"
#include "common/error.h"
#include "methods/method_catalogue.h"
#include "metrics/judged/judged_metrics.h"
#include "benchmarks/benchmark_options.h"
#include "model_card/model_card.h"
#include "scheduler/job_reader.h"
#include "scheduler/job_schema.h"
#include "scheduler/job_service_sections.h"
#include "scheduler/method_presets.h"
#include "scheduler/yaml_json.h"
#include "scheduler/yaml_limits.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>

namespace loom::scheduler {

namespace fs = std::filesystem;

int64_t parse_length(const std::string& text) {
  std::size_t used = 0;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) throw std::invalid_argument("not a number");
  const long long value = std::stoll(text, &used);  // std::out_of_range past int64
  int64_t multiplier = 1;
  if (used + 1 == text.size()) {
    const char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(text[used])));
    if (unit == 'k') multiplier = 1024;
    else if (unit == 'm') multiplier = 1024 * 1024;
    else throw std::invalid_argument("unknown unit");
  } else if (used != text.size()) {
    throw std::invalid_argument("trailing characters");
  }
  if (value < 0) throw std::invalid_argument("negative");
  if (value > kMaxLength / multiplier) throw std::out_of_range("longer than kMaxLength");
  return value * multiplier;
}

namespace {

using job_reader::Reader;
using job_reader::describe;
using job_reader::is_plain_name;
using job_reader::line_of;
using job_reader::require_positive;
using job_reader::read_api_backend;
using job_reader::read_rag;
using job_reader::read_judge;

std::string default_label(const std::string& name, const nlohmann::json& params) {
  if (params.empty()) return name;
  std::string label = name + "@";
  bool first = true;
  for (const auto& [key, value] : params.items()) {
    label += (first ? "" : ",") + (value.is_string() ? value.get<std::string>() : value.dump());
    first = false;
  }
  return label;
}

// One `acceleration` entry after the catalogue check: the spec workers get (a preset is expanded into its
// catalogue method and merged params), the parameter values with defaults (for the model rules), where it is.
struct CheckedMethod {
  MethodSpec spec;
  nlohmann::json resolved;
  YAML::Node entry;
  std::string display;
};

// The node a catalogue error points at: params.<key> when the job gives it, else the entry.
YAML::Node node_of_key(const YAML::Node& entry, const std::string& key) {
  if (!entry.IsMap()) return entry;
  if (key == "name") return entry["name"];
  const std::string leaf = key.rfind("params.", 0) == 0 ? key.substr(7) : "";
  const YAML::Node params = entry["params"];
  if (!leaf.empty() && params && params.IsMap() && params[leaf]) return params[leaf];
  return params ? params : entry;
}

std::vector<CheckedMethod> read_methods(const Reader& reader, const YAML::Node& node, const ParseOptions& options,
                                        bool job_query_aware) {
  std::vector<CheckedMethod> methods;
  std::vector<YAML::Node> entries;
  if (!node) {
    methods.push_back({MethodSpec{"full", "{}", "full"}, nlohmann::json::object(), node, "acceleration"});
    methods.back().spec.query_aware = job_query_aware;
    if (!job_query_aware) methods.back().spec.label += "+agnostic";
    return methods;
  }
  if (node.IsSequence()) {
    for (const auto& entry : node) entries.push_back(entry);
  } else {
    entries.push_back(node);
  }
  std::set<std::string> labels;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const YAML::Node& entry = entries[i];
    const std::string display = node.IsSequence() ? "acceleration[" + std::to_string(i) + "]" : "acceleration";
    const YAML::Node name_node = entry.IsScalar() ? entry : entry["name"];
    const std::string name_display = display + (entry.IsScalar() ? "" : ".name");
    const std::string name = name_node.Scalar();
    std::vector<std::string> known = methods::method_names();
    const std::vector<std::string> presets = preset_names(options.configs_dir);
    known.insert(known.end(), presets.begin(), presets.end());
    if (!is_plain_name(name)) {
      reader.fail(name_node, name_display,
                  "a method name (letters, digits, '_' and '-', at most 64): a catalogue method (`loom_mpi list "
                  "methods`) or a preset in configs/acceleration; got " + describe(name_node));
    }
    const nlohmann::json job_params = entry.IsMap() && entry["params"] && entry["params"].IsMap()
                                          ? yaml_to_json(entry["params"])
                                          : nlohmann::json::object();
    CheckedMethod checked;
    checked.entry = entry;
    checked.display = display;
    checked.spec.name = name;
    nlohmann::json params = job_params;
    if (methods::find_method(name) == nullptr) {
      const std::optional<MethodPreset> preset = load_method_preset(options.configs_dir, name);
      if (!preset) {
        reader.fail(name_node, name_display,
                    "a method of the catalogue or a preset of configs/acceleration: " + join_names(known) +
                        "; got '" + name + "'" + did_you_mean(name, known));
      }
      checked.spec.name = preset->method;
      params = preset->params;
      for (const auto& [key, value] : job_params.items()) params[key] = value;
    }
    try {
      checked.resolved = methods::resolve_method_params(checked.spec.name, params);
    } catch (const methods::MethodError& e) {
      reader.fail(node_of_key(entry, e.key()), display + "." + e.key(), "expected " + e.expected());
    }
    checked.spec.params_json = params.dump();
    checked.spec.query_aware = entry.IsMap() && entry["query_aware"]
                                   ? reader.convert<bool>(entry["query_aware"], display + ".query_aware")
                                   : job_query_aware;
    checked.spec.label = entry.IsMap() && entry["label"] ? entry["label"].Scalar() : default_label(name, job_params);
    if (!(entry.IsMap() && entry["label"]) && !checked.spec.query_aware) checked.spec.label += "+agnostic";
    if (!labels.insert(checked.spec.label).second) {
      reader.fail(entry, display, "a unique method label; '" + checked.spec.label + "' is used twice (set `label`)");
    }
    methods.push_back(checked);
  }
  return methods;
}

// The catalogue's model rules (KIVI: head_dim a multiple of group_size) against the model card, read on rank 0
// before any weights load. A model card that cannot be read is left to its own error (run and validate read it next).
void check_model_rules(const Reader& reader, const std::vector<CheckedMethod>& methods, const fs::path& model_dir) {
  std::optional<model::ModelCard> card;
  try {
    card = model::read_model_card(model_dir);
  } catch (const InputError&) {
    return;
  }
  const fs::path& config_path = card->config_file;
  const methods::ModelShape shape{card->head_dim, card->num_heads, card->num_kv_heads, card->num_layers};
  for (const CheckedMethod& method : methods) {
    try {
      methods::check_model_compatibility(method.spec.name, method.resolved, shape);
    } catch (const methods::MethodError& e) {
      reader.fail(node_of_key(method.entry, e.key()), method.display + "." + e.key(),
                  "expected " + e.expected() + " (model " + config_path.string() + ")");
    }
  }
}

// Each benchmark entry names a registered benchmark or a readable custom benchmark file, and its `options` are
// options of that benchmark's kind.
void check_benchmark_entries(const Reader& reader, const YAML::Node& entries,
                             const std::vector<benchmarks::BenchmarkSpec>& specs, const fs::path& configs_dir) {
  std::error_code ec;
  if (configs_dir.empty() || !fs::is_directory(configs_dir / "benchmarks", ec)) return;
  const benchmarks::BenchmarkRegistry registry(configs_dir / "benchmarks");
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::string display = "benchmarks[" + std::to_string(i) + "]";
    const YAML::Node entry = entries[i];
    const benchmarks::Benchmark* benchmark = nullptr;
    try {
      benchmark = &registry.get(specs[i].name);
    } catch (const InputError& e) {
      if (e.key() != "benchmarks[].name") throw;  // a custom benchmark file's own error names that file
      reader.fail(entry["name"], display + ".name", e.expected());
    }
    const YAML::Node options = entry["options"];
    try {
      benchmarks::check_option_keys(specs[i].options, benchmark->kind(), reader.file(), 0, display + ".options");
    } catch (const InputError& e) {
      const std::string leaf = e.key().substr(e.key().rfind('.') + 1);
      reader.fail(options && options.IsMap() && options[leaf] ? options[leaf] : options, e.key(), e.expected());
    }
  }
}

benchmarks::BenchmarkSpec read_benchmark(const Reader& reader, const YAML::Node& entry, std::size_t index,
                                         const ParseOptions& options) {
  const std::string display = "benchmarks[" + std::to_string(index) + "]";
  benchmarks::BenchmarkSpec spec;
  spec.name = entry["name"].Scalar();
  const bool is_file = spec.name.find('/') != std::string::npos ||
                       (spec.name.size() > 5 && spec.name.substr(spec.name.size() - 5) == ".yaml");
  if (is_file) {
    spec.name = reader.input_path(spec.name).string();  // a custom benchmark file
  }
  spec.tasks = reader.strings(entry["tasks"]);
  spec.lengths = reader.lengths(entry["lengths"]);
  spec.num_samples = reader.get<int64_t>(entry, "benchmarks[].num_samples", display + ".num_samples");
  if (spec.num_samples == 0 || spec.num_samples < -1) {
    reader.fail(entry["num_samples"], display + ".num_samples", "expected a positive count or -1 (all)");
  }
  spec.shuffle = reader.get<bool>(entry, "benchmarks[].shuffle", display + ".shuffle");
  spec.limit = options.overrides.limit;
  if (entry["data_dir"]) {
    spec.data_dir = reader.input_path(entry["data_dir"].Scalar());
    if (!options.overrides.data_root.empty()) spec.data_dir = rerooted(spec.data_dir, options.overrides.data_root);
    if (options.check_files && !fs::is_directory(spec.data_dir)) {
      reader.fail(entry["data_dir"], display + ".data_dir",
                  "an existing directory; " + spec.data_dir.string() + " does not exist" +
                      (options.overrides.data_root.empty() ? "" : " (--data-root)"));
    }
  }
  spec.seed = reader.get<uint64_t>(entry, "benchmarks[].seed", display + ".seed");
  if (entry["options"]) spec.options = yaml_to_json(entry["options"]);
  spec.source_file = reader.file();
  spec.source_line = line_of(entry);
  return spec;
}

}  // namespace

GenerationSettings GenerationOverrides::apply(GenerationSettings settings) const {
  if (max_new_tokens) settings.max_new_tokens = *max_new_tokens;
  if (do_sample) settings.do_sample = *do_sample;
  if (temperature) settings.temperature = *temperature;
  if (top_p) settings.top_p = *top_p;
  if (top_k) settings.top_k = *top_k;
  if (seed) settings.seed = *seed;
  if (stop_strings) settings.stop_strings = *stop_strings;
  if (prefill_chunk_size) settings.prefill_chunk_size = *prefill_chunk_size;
  if (ignore_eos) settings.ignore_eos = *ignore_eos;
  return settings;
}

JobConfig parse_job_text(const std::string& text, const fs::path& source_file, const ParseOptions& options) {
  const std::string file = source_file.empty() ? "<job text>" : source_file.string();
  if (text.size() > kMaxJobBytes) {
    throw InputError(file, 0, "", fmt::format("a job file of at most {} bytes; this one has {}", kMaxJobBytes,
                                              text.size()));
  }
  YAML::Node loaded;
  try {
    loaded = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(file, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "valid YAML: " + e.msg);
  }
  check_yaml_structure(loaded, file);
  if (!options.overrides.settings.empty() && loaded.IsMap()) apply_settings(loaded, options.overrides.settings);
  const YAML::Node root = loaded;  // const: operator[] never inserts
  if (!root.IsMap()) throw InputError(file, line_of(root), "", "a YAML mapping of job keys (see docs/job-file.md)");

  const fs::path base_dir = source_file.empty() ? fs::current_path() : fs::absolute(source_file).parent_path();
  Reader reader(file, base_dir, options.overrides.settings);
  reader.validate_section(root, "", "");

  JobConfig job;
  job.source_file = source_file;
  job.text = text;
  job.name = root["name"] ? root["name"].Scalar() : source_file.stem().string();

  const YAML::Node model = root["model"];
  job.model.path = reader.input_path(model["path"].Scalar());
  if (!options.overrides.model_path.empty()) job.model.path = fs::absolute(options.overrides.model_path).lexically_normal();
  if (options.check_files && !fs::is_regular_file(model::config_path(job.model.path))) {
    reader.fail(model["path"], options.overrides.model_path.empty() ? "model.path" : "model.path (--model)",
                "a Hugging Face model directory with config.json; " +
                    (fs::exists(job.model.path) ? model::config_path(job.model.path).string() + " is missing"
                                                : job.model.path.string() + " does not exist"));
  }
  job.model.dtype = reader.get<std::string>(model, "model.dtype");
  job.model.device = reader.get<std::string>(model, "model.device");
  job.model.max_context = reader.get<int64_t>(model, "model.max_context");
  require_positive(reader, model, "max_context", "model.max_context", static_cast<double>(job.model.max_context), true);
  if (model["chat_template"]) job.model.chat_template = model["chat_template"].Scalar();
  job.model.enable_thinking = reader.get<bool>(model, "model.enable_thinking");
  job.model.max_batch_size = reader.get<int32_t>(model, "model.max_batch_size");
  require_positive(reader, model, "max_batch_size", "model.max_batch_size", job.model.max_batch_size);
  job.model.cpu_threads = reader.get<int32_t>(model, "model.cpu_threads");
  require_positive(reader, model, "cpu_threads", "model.cpu_threads", job.model.cpu_threads, true);
  job.model.kv_cache_memory = reader.get<double>(model, "model.kv_cache_memory");
  require_positive(reader, model, "kv_cache_memory", "model.kv_cache_memory", job.model.kv_cache_memory, true);
  job.model.kv_page_size = reader.get<int64_t>(model, "model.kv_page_size");
  require_positive(reader, model, "kv_page_size", "model.kv_page_size", static_cast<double>(job.model.kv_page_size));
  job.model.cuda_graphs = reader.get<bool>(model, "model.cuda_graphs");
  job.model.prefill_attention = reader.get<std::string>(model, "model.prefill_attention");

  const YAML::Node parallel = root["parallel"];
  job.tensor_parallel = reader.get<int32_t>(parallel, "parallel.tensor_parallel");
  require_positive(reader, parallel, "tensor_parallel", "parallel.tensor_parallel", job.tensor_parallel);
  read_api_backend(reader, model, job.tensor_parallel, options.check_files, job.model);
  job.cost_profile = reader.get<std::string>(parallel, "parallel.cost_profile");

  const YAML::Node benchmarks = root["benchmarks"];
  for (std::size_t i = 0; i < benchmarks.size(); ++i) {
    job.benchmarks.push_back(read_benchmark(reader, benchmarks[i], i, options));
  }
  if (options.check_files) check_benchmark_entries(reader, benchmarks, job.benchmarks, options.configs_dir);
  const bool query_aware = root["query_aware"] ? reader.convert<bool>(root["query_aware"], "query_aware") : true;
  const std::vector<CheckedMethod> methods = read_methods(reader, root["acceleration"], options, query_aware);
  for (const CheckedMethod& method : methods) {
    job.methods.push_back(method.spec);
    if (!method.spec.query_aware && job.model.backend != "local") {
      reader.fail(method.entry ? method.entry : root["query_aware"], method.display + ".query_aware",
                  "query_aware true with model.backend " + job.model.backend +
                      " (question-agnostic compression runs in the local engine only)");
    }
  }
  if (options.check_files) check_model_rules(reader, methods, job.model.path);

  const YAML::Node generation = root["generation"];
  job.generation.max_new_tokens = reader.get_optional<int32_t>(generation, "max_new_tokens", "generation");
  job.generation.do_sample = reader.get_optional<bool>(generation, "do_sample", "generation");
  job.generation.temperature = reader.get_optional<float>(generation, "temperature", "generation");
  job.generation.top_p = reader.get_optional<float>(generation, "top_p", "generation");
  job.generation.top_k = reader.get_optional<int32_t>(generation, "top_k", "generation");
  job.generation.seed = reader.get_optional<uint64_t>(generation, "seed", "generation");
  if (generation && generation.IsMap() && generation["stop_strings"]) job.generation.stop_strings = reader.strings(generation["stop_strings"]);
  job.generation.prefill_chunk_size = reader.get_optional<int32_t>(generation, "prefill_chunk_size", "generation");
  job.generation.ignore_eos = reader.get_optional<bool>(generation, "ignore_eos", "generation");
  if (job.generation.max_new_tokens) {
    require_positive(reader, generation, "max_new_tokens", "generation.max_new_tokens", *job.generation.max_new_tokens);
  }
  if (job.generation.prefill_chunk_size) {
    require_positive(reader, generation, "prefill_chunk_size", "generation.prefill_chunk_size",
                     *job.generation.prefill_chunk_size);
  }

  read_rag(reader, root["rag"], options.check_files, job.rag);
  read_judge(reader, root["judge"], options.check_files, job.judge);

  const YAML::Node output = root["output"];
  if (output && output.IsMap() && output["path"]) {
    job.output_path = fs::path(output["path"].Scalar());
  } else {
    // The model's directory name is part of the default, so jobs that differ only by model never share a file.
    std::string model_name = job.model.path.lexically_normal().filename().string();
    if (model_name.empty()) model_name = job.model.path.lexically_normal().parent_path().filename().string();
    job.output_path =
        fs::path("results") / (model_name.empty() ? job.name + ".h5" : job.name + "-" + model_name + ".h5");
  }
  job.progress_interval_s = reader.get<double>(output, "output.progress_interval_s");
  require_positive(reader, output, "progress_interval_s", "output.progress_interval_s", job.progress_interval_s);
  job.resume = root["resume"] ? reader.convert<bool>(root["resume"], "resume")
                              : YAML::Load(find_key("resume")->default_value).as<bool>();
  job.max_attempts = reader.get<int32_t>(root, "max_attempts");
  require_positive(reader, root, "max_attempts", "max_attempts", job.max_attempts);
  const YAML::Node logging = root["logging"];
  job.log_level = reader.get<std::string>(logging, "logging.level");
  job.log_first_rank_only = reader.get<bool>(logging, "logging.first_rank_only");
  return job;
}

JobConfig parse_job_file(const fs::path& path, const ParseOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "an existing, readable job file (YAML)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_job_text(text.str(), path, options);
}

}  // namespace loom::scheduler
