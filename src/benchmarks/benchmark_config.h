// A benchmark's description file (configs/benchmarks/<name>.yaml, or a user's custom YAML): identity, capability,
// the family of C++ code that loads/generates it (`kind`), truncation rule, and per-task prompt template,
// generation settings and metric. Task entries inherit the `defaults:` block. Family-specific keys are kept as JSON
// in `options` (benchmark level) and TaskConfig::options (task level).
#pragma once

#include "common/generation_settings.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace loom::benchmarks {

enum class TruncationRule {
  kMiddle,      // keep the first and last halves of the prompt's tokens (LongBench, LOOM-Scope)
  kLEvalWords,  // drop whitespace words from the document in steps of 250 (LEval; code tasks drop from the left)
  kNone,        // never truncate
};

struct TaskConfig {
  std::string name;
  std::string template_text;   // user turn; {field} references are filled from the sample
  std::string system_prompt;   // may be empty
  std::string answer_prefix;   // appended after the chat template's generation prompt (RULER)
  std::string metric;          // scorer name(s), comma separated
  bool use_chat_template = true;
  GenerationSettings generation;
  nlohmann::json options = nlohmann::json::object();  // family-specific keys
  int line = 0;                // line of the task entry in the YAML
};

struct BenchmarkConfig {
  std::string name;
  std::string kind;            // a family of registry.cpp's factories(): ruler | niah | counting_stars | jsonl |
                               // leval | lciteeval | nthread | nolima
  std::string capability;      // Faithfulness | General | Reasoning | Retrieval | Generation | Specialization
  std::string description;
  std::string published;       // where the data files are published (for missing-file errors)
  TruncationRule truncation = TruncationRule::kMiddle;
  std::vector<int64_t> lengths;  // default lengths (synthetic) or length filters
  std::vector<TaskConfig> tasks;
  nlohmann::json options = nlohmann::json::object();
  std::filesystem::path file;

  const TaskConfig* find_task(const std::string& task_name) const;
};

// Parses and validates a description file; errors are InputError(file, line, key, expected).
BenchmarkConfig load_benchmark_config(const std::filesystem::path& file);

// YAML → JSON (plain scalars become bool/int/float/null where YAML 1.2 core would; quoted scalars stay strings).
nlohmann::json load_yaml_as_json(const std::filesystem::path& file);

const std::vector<std::string>& known_capabilities();

}  // namespace loom::benchmarks
