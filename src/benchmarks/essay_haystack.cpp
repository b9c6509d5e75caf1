#include "benchmarks/essay_haystack.h"

#include "common/error.h"
#include "benchmarks/data_files.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

namespace loom::benchmarks {

bool holds_essays(const std::filesystem::path& dir) {
  std::error_code ec;
  return !dir.empty() && (std::filesystem::is_regular_file(dir / "PaulGrahamEssays.json", ec) ||
                          std::filesystem::is_directory(dir / "PaulGrahamEssays", ec));
}

std::string load_essay_haystack(const BenchmarkSpec& spec, const nlohmann::json& essay_json_option) {
  auto from_json = [](const std::filesystem::path& p) {
    nlohmann::json doc = read_json(p);
    if (!doc.is_object() || !doc.contains("text") || !doc["text"].is_string())
      throw InputError(p.string(), 1, "text", "a JSON object with the essay text under `text`");
    std::string text = doc["text"].get<std::string>();
    if (strip(text).empty()) throw InputError(p.string(), 1, "text", "a non-empty essay text (the haystack)");
    return text;
  };
  if (essay_json_option.is_string()) return from_json(essay_json_option.get<std::string>());
  const std::string published =
      "gkamradt/LLMTest_NeedleInAHaystack needlehaystack/PaulGrahamEssays/*.txt (or RULER's PaulGrahamEssays.json "
      "from scripts/data/synthetic/json/download_paulgraham_essay.py)";
  const std::filesystem::path dir = require_data_dir(spec, published);
  if (std::filesystem::is_regular_file(dir / "PaulGrahamEssays.json")) return from_json(dir / "PaulGrahamEssays.json");
  const std::filesystem::path essays = dir / "PaulGrahamEssays";
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(essays)) files = list_files(essays, ".txt");
  if (files.empty())
    throw InputError(spec.source_file.empty() ? spec.name : spec.source_file, spec.source_line,
                     "benchmarks[].data_dir",
                     fmt::format("{} or {} holding the essay haystack (published at {})",
                                 (dir / "PaulGrahamEssays.json").string(), (essays / "*.txt").string(), published));
  std::string text;
  for (const auto& f : files) text += read_text_file(f);
  if (strip(text).empty())
    throw InputError(essays.string(), 0, "", "essays with text (the haystack); every *.txt file here is empty");
  return text;
}

}  // namespace loom::benchmarks
