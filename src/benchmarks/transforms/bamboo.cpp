// BAMBOO's record quirks (LOOM-Scope's benchmarks/General/BAMBOO/BAMBOO.py process_data, the prompt building of
// RUCAIBox/BAMBOO run_for_transformers.py): list fields rendered into the prompt. jsonl options:
//   bamboo_numbered   {field: F, first: N}: the list F as "[N] ```item```" lines joined by "\n", numbered from N
//                     (showssort: content from 0; reportsumsort: summaries from 1); template field {bamboo_numbered}
//   bamboo_joined     {field: F, separator: S}: the list F joined by S (meetingqa / paperqa: options, "\t");
//                     template field {bamboo_joined}
#include "benchmarks/record_transform.h"
#include "benchmarks/text_util.h"
#include "common/error.h"

namespace loom::benchmarks {
namespace {

struct ListSpec {
  std::string field;
  int64_t first = 0;
  std::string separator;
};

class BambooRecord : public RecordTransform {
 public:
  BambooRecord(std::optional<ListSpec> numbered, std::optional<ListSpec> joined, std::string task)
      : numbered_(std::move(numbered)), joined_(std::move(joined)), task_(std::move(task)) {}

  std::optional<std::string> field(std::string_view name, const nlohmann::json& record) const override {
    if (name == "bamboo_numbered" && numbered_) {
      const nlohmann::json& items = list(record, numbered_->field);
      std::string out;
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += "\n";
        out += "[" + std::to_string(numbered_->first + static_cast<int64_t>(i)) + "] ```" + json_to_text(items[i]) +
               "```";
      }
      return out;
    }
    if (name == "bamboo_joined" && joined_) {
      const nlohmann::json& items = list(record, joined_->field);
      std::string out;
      for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? joined_->separator : "") + json_to_text(items[i]);
      return out;
    }
    return std::nullopt;
  }

 private:
  const nlohmann::json& list(const nlohmann::json& record, const std::string& field) const {
    auto it = record.find(field);
    if (it == record.end() || !it->is_array())
      throw InputError("task " + task_, record.value("__line", 0), field, "a list in every record (BAMBOO)");
    return *it;
  }

  std::optional<ListSpec> numbered_;
  std::optional<ListSpec> joined_;
  std::string task_;
};

// {field: F, <extra>: ...} of option `key`, or nullopt when the option is absent.
std::optional<ListSpec> list_spec(const TransformContext& ctx, const std::string& key) {
  const nlohmann::json value = ctx.option(key, nullptr);
  if (value.is_null()) return std::nullopt;
  const bool numbered = key == "bamboo_numbered";
  const char* expected =
      numbered ? "{field: <list field>, first: <integer>}" : "{field: <list field>, separator: <text>}";
  if (!value.is_object() || !value.contains("field") || !value["field"].is_string())
    throw InputError(ctx.config.file.string(), ctx.task.line, "tasks." + ctx.task.name + "." + key, expected);
  ListSpec spec;
  spec.field = value["field"].get<std::string>();
  if (numbered) {
    if (value.contains("first") && !value["first"].is_number_integer())
      throw InputError(ctx.config.file.string(), ctx.task.line, "tasks." + ctx.task.name + "." + key, expected);
    spec.first = value.value("first", int64_t{0});
  } else {
    if (value.contains("separator") && !value["separator"].is_string())
      throw InputError(ctx.config.file.string(), ctx.task.line, "tasks." + ctx.task.name + "." + key, expected);
    spec.separator = value.value("separator", std::string(" "));
  }
  return spec;
}

}  // namespace

RecordTransformEntry bamboo_record_transform() {
  return {"bamboo", {"bamboo_numbered", "bamboo_joined"},
          [](const TransformContext& ctx) -> std::unique_ptr<RecordTransform> {
            std::optional<ListSpec> numbered = list_spec(ctx, "bamboo_numbered");
            std::optional<ListSpec> joined = list_spec(ctx, "bamboo_joined");
            if (!numbered && !joined) return nullptr;
            return std::make_unique<BambooRecord>(std::move(numbered), std::move(joined), ctx.task.name);
          }};
}

}  // namespace loom::benchmarks
