// Job file → JobConfig. Validates against the key table (job_schema.h): an unknown key, a wrong type, a value
// outside its choices, a missing required key or a missing file is one loom::InputError naming the job file, the
// line, the dotted key and what was expected. The YAML is bounded first (yaml_limits.h: size, nesting, aliases,
// duplicate keys, NUL). Methods are checked against the method catalogue and configs/acceleration presets
// (method_presets.h); with check_files (rank 0), benchmark names and `options` are checked against the registry
// and the catalogue's model rules against the model card (model_card.h), all before any model loads. Input paths
// (model.path, data_dir, custom benchmark files) are resolved against the job file's directory; output.path against
// the current working directory. Command-line overrides (JobOverrides: --model, --limit, --data-root, --set) are
// applied before validation, so a bad override is reported like a bad key.
#pragma once

#include "scheduler/job_config.h"
#include "scheduler/job_overrides.h"

#include <filesystem>
#include <string>

namespace loom::scheduler {

struct ParseOptions {
  std::filesystem::path configs_dir;  // <repo>/configs: method presets (acceleration/*.yaml) and benchmarks
  bool check_files = true;            // model directory and data_dir must exist
  JobOverrides overrides;
};

JobConfig parse_job_file(const std::filesystem::path& path, const ParseOptions& options);
// `text` is the job file's contents; source_file names it in errors and anchors relative paths.
JobConfig parse_job_text(const std::string& text, const std::filesystem::path& source_file,
                         const ParseOptions& options);

// Longest context length a job may ask for, in tokens.
constexpr int64_t kMaxLength = 2147483647;

// "4096", "4K", "128k", "1M", "0k" → tokens (K = 1024; 0 is BABILong's 0k split). Throws std::out_of_range above
// kMaxLength, std::invalid_argument for anything else that is not a length.
int64_t parse_length(const std::string& text);

}  // namespace loom::scheduler
