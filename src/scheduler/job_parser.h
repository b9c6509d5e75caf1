// Job file → JobConfig. Validates against the key table (job_schema.h): an unknown key, a wrong type, a value
// outside its choices, a missing required key or a missing file is one loom::InputError naming the job file, the
// line, the dotted key and what was expected. Input paths (model.path, data_dir, custom benchmark files) are
// resolved against the job file's directory; output.path against the current working directory. Command-line
// overrides (JobOverrides: --model, --limit, --data-root, --set) are applied before validation, so a bad override is
// reported like a bad key.
#pragma once

#include "scheduler/job_config.h"
#include "scheduler/job_overrides.h"

#include <filesystem>
#include <string>

namespace loom::scheduler {

struct ParseOptions {
  std::filesystem::path configs_dir;  // <repo>/configs: acceleration names are checked against acceleration/*.yaml
  bool check_files = true;            // model directory and data_dir must exist
  JobOverrides overrides;
};

JobConfig parse_job_file(const std::filesystem::path& path, const ParseOptions& options);
// `text` is the job file's contents; source_file names it in errors and anchors relative paths.
JobConfig parse_job_text(const std::string& text, const std::filesystem::path& source_file,
                         const ParseOptions& options);

// "4096", "4K", "128k", "1M", "0k" → tokens (K = 1024; 0 is BABILong's 0k split). Throws std::invalid_argument
// otherwise.
int64_t parse_length(const std::string& text);

}  // namespace loom::scheduler
