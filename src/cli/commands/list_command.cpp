// `loom_mpi list benchmarks|methods|models`: what a job file can name.
//   benchmarks — the registry built from configs/benchmarks (name and tasks);
//   methods    — the method catalogue: each method with its parameters (type, range, default, meaning) and model
//                rules (`full` = dense cache), then the presets of configs/acceleration;
//   models     — model directories (with config.json) under <repo>/models and <repo>/tests/fixtures/models: the
//                architecture class from each model card (and its sliding window, if any), or why the card is
//                refused.
#include "common/error.h"
#include "methods/method_catalogue.h"
#include "benchmarks/registry.h"
#include "model_card/model_card.h"
#include "scheduler/config_paths.h"
#include "scheduler/method_presets.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>

namespace {

namespace fs = std::filesystem;

void list_benchmarks(const fs::path& configs) {
  const loom::benchmarks::BenchmarkRegistry registry(configs / "benchmarks");
  for (const std::string& name : registry.names()) {
    const auto& benchmark = registry.get(name);
    std::string tasks;
    for (const std::string& task : benchmark.tasks()) tasks += (tasks.empty() ? "" : ", ") + task;
    std::cout << fmt::format("{:<16} {:<15} {}\n", benchmark.name(), benchmark.capability(), tasks);
  }
}

std::string default_text(const loom::methods::ParamDef& param) {
  if (param.default_value.is_null()) return "-";
  return param.default_value.is_string() ? param.default_value.get<std::string>() : param.default_value.dump();
}

void list_methods() {
  for (const auto& method : loom::methods::method_catalogue()) {
    std::cout << fmt::format("{:<18} {:<20} {}\n", method.name, method.family, method.summary);
    std::cout << fmt::format("    reference: {}\n", method.reference);
    if (!method.model_rules.empty()) std::cout << fmt::format("    model: {}\n", method.model_rules);
    if (!method.one_chunk_prefill.empty()) {
      std::cout << fmt::format("    prefill: one chunk ({})\n", method.one_chunk_prefill);
    }
    for (const auto& param : method.params) {
      const char* role = param.role == loom::methods::ParamRole::kBudget ? " (one budget)" : "";
      std::cout << fmt::format("    {:<30} {:<10} {}{}: {}\n", param.name, default_text(param),
                               loom::methods::describe_type(param), role, param.description);
    }
    if (!method.scorer_param.empty()) {
      std::cout << "    + the parameters of the chosen scorer (with that method's defaults)\n";
    }
  }
  std::filesystem::path configs;
  try {
    configs = loom::scheduler::find_configs_dir("");
  } catch (const loom::InputError&) {
    return;  // no configs directory: no presets
  }
  for (const std::string& name : loom::scheduler::preset_names(configs)) {
    const auto preset = loom::scheduler::load_method_preset(configs, name);
    std::cout << fmt::format("{:<18} {:<20} preset of {} {}{}\n", name, "preset", preset->method,
                             preset->params.dump(), preset->description.empty() ? "" : ": " + preset->description);
  }
}

void list_models(const fs::path& configs) {
  const fs::path repo = configs.parent_path();
  for (const fs::path& root : {repo / "models", repo / "tests" / "fixtures" / "models"}) {
    if (!fs::is_directory(root)) continue;
    for (const auto& entry : fs::directory_iterator(root)) {
      if (!fs::is_regular_file(loom::model::config_path(entry.path()))) continue;
      std::string architecture = "?";
      std::string refused, window;
      try {
        const loom::model::ModelCard card = loom::model::read_model_card(entry.path());
        architecture = card.class_names.empty() ? card.model_type : card.class_names.front();
        if (card.sliding_window > 0) {
          const auto sliding = std::count(card.sliding_layers.begin(), card.sliding_layers.end(), true);
          window = fmt::format(", sliding window {} on {}/{} layers", card.sliding_window, sliding, card.num_layers);
        }
      } catch (const loom::InputError& e) {
        refused = " (not loadable: " + (e.key().empty() ? "" : "'" + e.key() + "' ") + e.expected() + ")";
      }
      const bool tokenizer = fs::exists(entry.path() / "tokenizer.json") || fs::exists(entry.path() / "tokenizer.model");
      std::cout << fmt::format("{:<48} {:<24} {}{}{}\n", fs::relative(entry.path(), repo).string(), architecture,
                               tokenizer ? "tokenizer" : "no tokenizer", window, refused);
    }
  }
}

}  // namespace

void loom_cli_add_list(CLI::App& app) {
  auto what = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("list", "List what a job can name: benchmarks, methods or models.");
  cmd->add_option("what", *what, "benchmarks|methods|models")
      ->required()
      ->check(CLI::IsMember({"benchmarks", "methods", "models"}));
  cmd->callback([what] {
    if (*what == "methods") return list_methods();
    const fs::path configs = loom::scheduler::find_configs_dir("");
    if (*what == "benchmarks") return list_benchmarks(configs);
    list_models(configs);
  });
}
