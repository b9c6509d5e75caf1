// LIBRA's record quirk (ai-forever/LIBRA): a task's instruction comes from the dataset's own config file, not
// from the benchmark YAML. jsonl options:
//   template_file   JSON file under data_dir holding the templates (LIBRA's configs/datasets_config.json)
//   template_key    a JSON pointer into it, {task} expanded (default "/{task}/instruction")
#include "benchmarks/data_files.h"
#include "benchmarks/record_transform.h"
#include "benchmarks/text_util.h"
#include "common/error.h"

namespace loom::benchmarks {
namespace {

class LibraRecord : public RecordTransform {
 public:
  explicit LibraRecord(std::string template_text) : template_(std::move(template_text)) {}
  std::string prompt_template(const std::string& /*configured*/) const override { return template_; }

 private:
  std::string template_;
};

}  // namespace

RecordTransformEntry libra_record_transform() {
  return {"libra", {"template_file", "template_key"},
          [](const TransformContext& ctx) -> std::unique_ptr<RecordTransform> {
            const nlohmann::json file_opt = ctx.option("template_file", nullptr);
            if (!file_opt.is_string()) return nullptr;
            const std::string key =
                replace_all(ctx.option("template_key", "/{task}/instruction").get<std::string>(), "{task}",
                            ctx.task.name);
            const std::filesystem::path file =
                require_data_file(ctx.spec, file_opt.get<std::string>(), ctx.config.published);
            const nlohmann::json doc = read_json(file);
            const nlohmann::json::json_pointer pointer(key);
            if (!doc.contains(pointer) || !doc[pointer].is_string())
              throw InputError(file.string(), 0, key, "a template string for task " + ctx.task.name);
            return std::make_unique<LibraRecord>(doc[pointer].get<std::string>());
          }};
}

}  // namespace loom::benchmarks
