// Limits and hygiene of a job file's YAML, checked before anything reads it: at most kMaxJobBytes of text, nesting
// at most kMaxYamlDepth deep, at most kMaxYamlNodes nodes with aliases expanded (an alias bomb stops here instead of
// exhausting memory), no key given twice in one mapping (yaml-cpp would keep the first silently), keys that are
// plain scalars, and no NUL character in any value. Each failure is an InputError naming the file and line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>

namespace loom::scheduler {

constexpr std::size_t kMaxJobBytes = 1 << 20;
constexpr int kMaxYamlDepth = 32;
constexpr std::size_t kMaxYamlNodes = 100000;
constexpr std::size_t kMaxListEntries = 1000;  // tasks, benchmarks, acceleration entries
constexpr std::size_t kMaxLengths = 100;       // lengths of one benchmark entry

// Throws InputError(file, line, key, ...) for the first problem.
void check_yaml_structure(const YAML::Node& root, const std::string& file);

}  // namespace loom::scheduler
