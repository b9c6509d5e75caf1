// Ada-LEval's record quirk (open-compass/Ada-LEval ada_leval/dataset.py StackSelect.build_prompt): the candidate
// answers of a stackselect record are a list, rendered into the prompt as "A1:\n\n<answer 1>\n\nA2:\n\n...\n\n"; the
// scorer needs their number (evaluate's num_choice). jsonl option:
//   designated_answers   the record field holding the list (stackselect: all_answers). The template field
//                        {designated_answers} renders it; metadata "num_choice" gets its length.
#include "benchmarks/record_transform.h"
#include "benchmarks/text_util.h"
#include "common/error.h"

namespace loom::benchmarks {
namespace {

class AdaLevalRecord : public RecordTransform {
 public:
  AdaLevalRecord(std::string field, std::string task) : field_(std::move(field)), task_(std::move(task)) {}

  std::optional<std::string> field(std::string_view name, const nlohmann::json& record) const override {
    if (name != "designated_answers") return std::nullopt;
    std::string out;
    const nlohmann::json& answers = list(record);
    for (size_t j = 0; j < answers.size(); ++j)
      out += "A" + std::to_string(j + 1) + ":\n\n" + json_to_text(answers[j]) + "\n\n";
    return out;
  }

  void on_references(const nlohmann::json& /*gold*/, const nlohmann::json& record, Sample& sample) const override {
    sample.metadata["num_choice"] = list(record).size();
  }

 private:
  const nlohmann::json& list(const nlohmann::json& record) const {
    auto it = record.find(field_);
    if (it == record.end() || !it->is_array())
      throw InputError("task " + task_, record.value("__line", 0), field_,
                       "a list of candidate answers in every record (Ada-LEval stackselect)");
    return *it;
  }

  std::string field_;
  std::string task_;
};

}  // namespace

RecordTransformEntry ada_leval_record_transform() {
  return {"ada_leval", {"designated_answers"}, [](const TransformContext& ctx) -> std::unique_ptr<RecordTransform> {
            const nlohmann::json field = ctx.option("designated_answers", nullptr);
            if (!field.is_string()) return nullptr;
            return std::make_unique<AdaLevalRecord>(field.get<std::string>(), ctx.task.name);
          }};
}

}  // namespace loom::benchmarks
