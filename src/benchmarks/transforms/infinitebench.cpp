// InfiniteBench's record quirks (OpenBMB/InfiniteBench src/eval_utils.py), switched on by three jsonl options:
//   label           true: metadata "label" = the raw gold value with its JSON type (the InfiniteBench scorers read it)
//   choice_letter   true: references and metadata "label" = [answer text, its letter within `options`], as
//                   get_answer does for longbook_choice_eng and code_debug
//   derived_fields  "infinitebench": the template fields create_prompt computes: {func}, {func_call} (code_run)
//                   and {prefix} (math_find)
#include "benchmarks/record_transform.h"
#include "benchmarks/text_util.h"

#include <algorithm>
#include <cctype>

namespace loom::benchmarks {
namespace {

// create_prompt's computed fields: the first "func_N(arg)" call of code_run's input
// (re.findall(r"func_[0-9]+\(\-?[0-9]+\)")[0]), and math_find's "What is <the target number> in the following
// list?" from the greedy match of re.findall(r"The .+ of")[0]. Linear scans, not std::regex: its backtracking
// recurses once per character and overflows the stack on the 40 KB inputs these tasks have.
size_t digits_at(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  return end - pos;
}

std::optional<std::string> first_function_call(std::string_view input) {
  for (size_t at = input.find("func_"); at != std::string_view::npos; at = input.find("func_", at + 1)) {
    size_t pos = at + 5;
    const size_t name_digits = digits_at(input, pos);
    if (name_digits == 0) continue;
    pos += name_digits;
    if (pos >= input.size() || input[pos] != '(') continue;
    ++pos;
    if (pos < input.size() && input[pos] == '-') ++pos;
    const size_t arg_digits = digits_at(input, pos);
    if (arg_digits == 0) continue;
    pos += arg_digits;
    if (pos >= input.size() || input[pos] != ')') continue;
    return std::string(input.substr(at, pos + 1 - at));
  }
  return std::nullopt;
}

// The leftmost "The " whose line (Python's `.` stops at '\n') holds a later " of" with at least one character
// between them; the match runs to the last such " of" of that line (greedy).
std::optional<std::string> greedy_the_of(std::string_view input) {
  for (size_t at = input.find("The "); at != std::string_view::npos; at = input.find("The ", at + 1)) {
    const size_t line_end = std::min(input.find('\n', at), input.size());
    const std::string_view line = input.substr(at, line_end - at);
    const size_t of = line.rfind(" of");
    if (of != std::string_view::npos && of >= 5) return std::string(line.substr(0, of + 3));
  }
  return std::nullopt;
}

std::optional<std::string> derived_field(std::string_view name, const nlohmann::json& rec) {
  const std::string input = rec.contains("input") ? json_to_text(rec["input"]) : std::string();
  if (name == "func_call" || name == "func") {
    const std::optional<std::string> call = first_function_call(input);
    if (!call) return std::nullopt;
    return name == "func" ? call->substr(0, call->find('(')) : *call;
  }
  if (name == "prefix") {
    const std::optional<std::string> match = greedy_the_of(input);
    if (!match) return std::nullopt;
    std::string t = *match;
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    return "What is " + t.substr(0, t.size() - 3) + " in the following list?";
  }
  return std::nullopt;
}

class InfiniteBenchRecord : public RecordTransform {
 public:
  InfiniteBenchRecord(bool choice_letter, bool raw_label, bool derived)
      : choice_letter_(choice_letter), raw_label_(raw_label), derived_(derived) {}

  std::optional<std::string> field(std::string_view name, const nlohmann::json& record) const override {
    return derived_ ? derived_field(name, record) : std::nullopt;
  }

  void on_references(const nlohmann::json& gold, const nlohmann::json& record, Sample& s) const override {
    if (raw_label_) s.metadata["label"] = gold;
    if (!choice_letter_ || !record.contains("options") || !record["options"].is_array()) return;
    const auto& opts = record["options"];
    const bool has_letter = s.references.size() == 2 && s.references[1].size() == 1 &&
                            std::string("ABCD").find(s.references[1]) != std::string::npos;
    if (!has_letter) {
      const std::string first = s.references.empty() ? "" : s.references.front();
      s.references.resize(std::min<size_t>(s.references.size(), 1));
      for (size_t k = 0; k < opts.size() && k < 26; ++k)
        if (json_to_text(opts[k]) == first) s.references.push_back(std::string(1, static_cast<char>('A' + k)));
    }
    s.metadata["label"] = s.references;
  }

 private:
  bool choice_letter_;
  bool raw_label_;
  bool derived_;
};

}  // namespace

RecordTransformEntry infinitebench_record_transform() {
  return {"infinitebench", {"label", "choice_letter", "derived_fields"},
          [](const TransformContext& ctx) -> std::unique_ptr<RecordTransform> {
            const bool choice_letter = ctx.option("choice_letter", false).get<bool>();
            const bool raw_label = ctx.option("label", false).get<bool>();
            const bool derived = ctx.option("derived_fields", "").get<std::string>() == "infinitebench";
            if (!choice_letter && !raw_label && !derived) return nullptr;
            return std::make_unique<InfiniteBenchRecord>(choice_letter, raw_label, derived);
          }};
}

}  // namespace loom::benchmarks
