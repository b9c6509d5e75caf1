// Record transforms of the jsonl family: the quirks one benchmark's official loader applies to its records
// (lm-eval's process_docs), each in that benchmark's own file under transforms/ and listed in one table
// (record_transform.cpp). A transform declares the option keys that switch it on; those keys are part of the
// jsonl option table (benchmark_options.cpp), so a benchmark YAML, a task's settings or a job's
// `benchmarks[].options` write them as before. The generic loader (jsonl_benchmark.cpp) calls the hooks of the
// transforms a task switches on, in table order; a hook that a transform does not override changes nothing.
#pragma once

#include "benchmarks/benchmark_config.h"
#include "benchmarks/registry.h"
#include "benchmarks/sample.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loom::benchmarks {

// What a transform may read when it is made for one task: the job entry (data_dir), the task, the benchmark's
// config and its option lookup (job entry, then task, then benchmark options, else the fallback).
struct TransformContext {
  const BenchmarkSpec& spec;
  const TaskConfig& task;
  const BenchmarkConfig& config;
  std::function<nlohmann::json(const std::string& key, const nlohmann::json& fallback)> option;
};

// The loader's lookup of a template field (record fields, stripped where strip_fields says, {OPTION_A}..{OPTION_D},
// the transforms' fields); nullopt: no such field.
using FieldLookup = std::function<std::optional<std::string>(std::string_view)>;

class RecordTransform {
 public:
  virtual ~RecordTransform() = default;
  // The task's prompt template; `configured` is the one its config gives.
  virtual std::string prompt_template(const std::string& configured) const { return configured; }
  // A template field that is neither a record field nor {OPTION_A}..{OPTION_D}; nullopt: not one of this
  // transform's fields (an unknown field is the loader's error).
  virtual std::optional<std::string> field(std::string_view /*name*/, const nlohmann::json& /*record*/) const {
    return std::nullopt;
  }
  // Called once the references are read from `gold`, the record's reference field (records without one skip it).
  virtual void on_references(const nlohmann::json& /*gold*/, const nlohmann::json& /*record*/,
                             Sample& /*sample*/) const {}
  // Called once the sample's prompt is rendered (before its references are read).
  virtual void on_sample(const FieldLookup& /*field*/, Sample& /*sample*/) const {}
};

struct RecordTransformEntry {
  std::string name;                      // the benchmark whose quirk it is, e.g. "infinitebench"
  std::vector<std::string> option_keys;  // the jsonl options it reads
  // The transform for one task, or nullptr when the task's options leave it off.
  std::function<std::unique_ptr<RecordTransform>(const TransformContext&)> make;
};

// Every transform, in the order its hooks run.
const std::vector<RecordTransformEntry>& record_transforms();
// The option keys of every transform, in table order (for benchmark_options.cpp).
std::vector<std::string> record_transform_option_keys();
// The transforms `ctx` switches on, in table order.
std::vector<std::unique_ptr<RecordTransform>> make_record_transforms(const TransformContext& ctx);

// Table rows, one file each under transforms/.
RecordTransformEntry infinitebench_record_transform();
RecordTransformEntry libra_record_transform();
RecordTransformEntry ada_leval_record_transform();
RecordTransformEntry longbench_v2_record_transform();
RecordTransformEntry bamboo_record_transform();

}  // namespace loom::benchmarks
