// The table of record transforms (record_transform.h): add a row here for a new transforms/<benchmark>.cpp.
#include "benchmarks/record_transform.h"

namespace loom::benchmarks {

const std::vector<RecordTransformEntry>& record_transforms() {
  static const std::vector<RecordTransformEntry> table = {infinitebench_record_transform(),
                                                          libra_record_transform(),
                                                          ada_leval_record_transform(),
                                                          longbench_v2_record_transform(),
                                                          bamboo_record_transform()};
  return table;
}

std::vector<std::string> record_transform_option_keys() {
  std::vector<std::string> keys;
  for (const RecordTransformEntry& entry : record_transforms())
    keys.insert(keys.end(), entry.option_keys.begin(), entry.option_keys.end());
  return keys;
}

std::vector<std::unique_ptr<RecordTransform>> make_record_transforms(const TransformContext& ctx) {
  std::vector<std::unique_ptr<RecordTransform>> out;
  for (const RecordTransformEntry& entry : record_transforms())
    if (std::unique_ptr<RecordTransform> transform = entry.make(ctx)) out.push_back(std::move(transform));
  return out;
}

}  // namespace loom::benchmarks
