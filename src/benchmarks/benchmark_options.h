// The `options` each benchmark kind reads, declared in one table: at a benchmark config's top level, in a task's
// settings (any key that is not a task setting) and in a job's `benchmarks[].options`. A key the kind does not
// read is an InputError naming it, with a "did you mean" suggestion, instead of a silent default.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace loom::benchmarks {

// Option keys of `kind` (ruler, niah, nthread, nolima, longhealth, jsonl, counting_stars, leval, lciteeval); empty
// for an unknown kind.
const std::vector<std::string>& option_keys(const std::string& kind);

// Every key of `options` (a JSON object) must be an option of `kind` or one of `also_allowed`. Throws InputError
// (file, line, "<key_prefix>.<key>") naming what is accepted.
void check_option_keys(const nlohmann::json& options, const std::string& kind, const std::string& file, int line,
                       const std::string& key_prefix, const std::vector<std::string>& also_allowed = {});

}  // namespace loom::benchmarks
