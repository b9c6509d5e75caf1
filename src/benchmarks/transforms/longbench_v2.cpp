// LongBench v2's chain of thought (THUDM/LongBench pred.py --cot): two dependent generations per sample. The first
// prompt is prompts/0shot_cot.txt ("... Let’s think step by step:"), generated with max_new_tokens 1024; its output,
// stripped, replaces $COT$ in prompts/0shot_cot_ans.txt, a new prompt without the document ("The text is too long
// and omitted here."), generated with max_new_tokens 128 and scored by the answer extraction. jsonl options:
//   cot                  true: switch the chain of thought on (default false: the 0-shot prompt, one generation)
//   cot_template         the task's first prompt under cot (LongBench_v2: 0shot_cot.txt; the no-context task keeps
//                        its own template, as pred.py's --no_context takes precedence over --cot)
//   cot_answer_template  the second prompt; its field {cot} is the first output (Sample::chain_prompt)
//   cot_max_new_tokens   the first generation's max_new_tokens (1024); the second keeps the task's (128). A job's
//                        generation.max_new_tokens sets the first generation's.
#include "benchmarks/record_transform.h"
#include "benchmarks/text_util.h"
#include "common/error.h"

#include <fmt/format.h>

#include <cstdint>

namespace loom::benchmarks {
namespace {

class LongBenchV2Cot : public RecordTransform {
 public:
  LongBenchV2Cot(std::string first_template, std::string answer_template, int32_t cot_max_new_tokens,
                 std::string where)
      : first_(std::move(first_template)),
        answer_(std::move(answer_template)),
        cot_max_new_tokens_(cot_max_new_tokens),
        where_(std::move(where)) {}

  std::string prompt_template(const std::string& /*configured*/) const override { return first_; }

  std::optional<std::string> field(std::string_view name, const nlohmann::json& /*record*/) const override {
    if (name == "cot") return std::string(kFirstOutputMarker);
    return std::nullopt;
  }

  void on_sample(const FieldLookup& field, Sample& sample) const override {
    std::vector<std::string> unknown;
    sample.chain_prompt = render_template(answer_, field, &unknown);
    if (!unknown.empty())
      throw InputError(where_, 0, "cot_answer_template",
                       fmt::format("fields of the record; `{}` is none (sample {})", unknown.front(), sample.id));
    sample.chain_max_new_tokens = sample.generation.max_new_tokens;
    sample.generation.max_new_tokens = cot_max_new_tokens_;
  }

 private:
  std::string first_;
  std::string answer_;
  int32_t cot_max_new_tokens_;
  std::string where_;
};

// Where an option comes from, for errors: the job entry when it sets the key, else the benchmark's config.
struct OptionSite {
  std::string file;
  int line;
  std::string key;
};

OptionSite site_of(const TransformContext& ctx, const std::string& key) {
  if (ctx.spec.options.is_object() && ctx.spec.options.contains(key))
    return {ctx.spec.source_file.empty() ? ctx.spec.name : ctx.spec.source_file, ctx.spec.source_line,
            "benchmarks[].options." + key};
  return {ctx.config.file.string(), ctx.task.line, "tasks." + ctx.task.name + "." + key};
}

[[noreturn]] void bad_option(const TransformContext& ctx, const std::string& key, const std::string& expected) {
  const OptionSite site = site_of(ctx, key);
  throw InputError(site.file, site.line, site.key, expected);
}

}  // namespace

RecordTransformEntry longbench_v2_record_transform() {
  return {"longbench_v2",
          {"cot", "cot_template", "cot_answer_template", "cot_max_new_tokens"},
          [](const TransformContext& ctx) -> std::unique_ptr<RecordTransform> {
            const nlohmann::json cot = ctx.option("cot", false);
            if (!cot.is_boolean()) bad_option(ctx, "cot", "true or false (chain of thought, pred.py --cot)");
            if (!cot.get<bool>()) return nullptr;
            const nlohmann::json first = ctx.option("cot_template", nullptr);
            const nlohmann::json answer = ctx.option("cot_answer_template", nullptr);
            const nlohmann::json budget = ctx.option("cot_max_new_tokens", 1024);
            if (!first.is_string())
              bad_option(ctx, "cot_template",
                         fmt::format("the first prompt of task {} under cot: true (a template string; {} gives none)",
                                     ctx.task.name, ctx.config.name));
            if (!answer.is_string() || answer.get<std::string>().find("{cot}") == std::string::npos)
              bad_option(ctx, "cot_answer_template",
                         "the second prompt under cot: true, a template string with the field {cot} (the first "
                         "generation's output)");
            if (!budget.is_number_integer() || budget.get<int64_t>() <= 0 || budget.get<int64_t>() > INT32_MAX)
              bad_option(ctx, "cot_max_new_tokens", "a positive integer (the chain of thought's max_new_tokens)");
            return std::make_unique<LongBenchV2Cot>(first.get<std::string>(), answer.get<std::string>(),
                                                    static_cast<int32_t>(budget.get<int64_t>()),
                                                    ctx.config.file.string());
          }};
}

}  // namespace loom::benchmarks
