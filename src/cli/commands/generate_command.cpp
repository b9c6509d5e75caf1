// `loom_mpi generate --model DIR (--prompt TEXT | --ids 1,2,3) [--max-new-tokens N] [--chat] [--json]
//  [--device auto|cpu|cuda] [--dtype auto|...] [--temperature T --top-p P --top-k K --seed S] [--stop STR]...`
// Runs one prompt through the engine (greedy unless a sampling flag is given) and prints the generated ids and
// text: the quickest check that a model directory loads and works. --chat renders the prompt as one user message
// through the model's chat template; the template's text is then tokenized without adding special tokens again.
#include "cli/commands/exit_status.h"
#include "common/error.h"
#include "common/generation_settings.h"
#include "rank/model/inference_engine.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct GenerateOptions {
  std::string model;
  std::string prompt;
  std::string ids;
  int32_t max_new_tokens = 32;
  bool chat = false;
  bool json = false;
  std::string device = "auto";
  std::string dtype = "auto";
  float temperature = 1.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;
  uint64_t seed = 42;
  std::vector<std::string> stop;
  int32_t chunk_size = loom::GenerationSettings{}.prefill_chunk_size;
};

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long value = std::stol(item, &used);
      if (used != item.size() && item.find_first_not_of(" ", used) != std::string::npos) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(value));
    } catch (const std::exception&) {
      throw loom::InputError("command line", 0, "--ids",
                             fmt::format("expected comma-separated integers, got '{}'", item));
    }
  }
  if (ids.empty()) throw loom::InputError("command line", 0, "--ids", "expected at least one token id");
  return ids;
}

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? " " : "") + std::to_string(ids[i]);
  return out;
}

void run_generate(const GenerateOptions& opts, const CLI::App& cmd) {
  if (opts.json) spdlog::set_level(spdlog::level::warn);  // keep stdout pure JSON
  loom::model::InferenceRequest request;
  request.sample_key = "generate";
  if (!opts.ids.empty()) {
    request.input_ids = parse_ids(opts.ids);
  } else {
    auto tokenizer = loom::text::load_tokenizer(opts.model);
    if (opts.chat) {
      const auto chat = loom::text::load_chat_template(opts.model);
      const std::string rendered = chat.render({{"user", opts.prompt}}, true);
      request.input_ids = tokenizer->encode(rendered, /*add_special_tokens=*/false);
    } else {
      request.input_ids = tokenizer->encode(opts.prompt, /*add_special_tokens=*/true);
    }
  }
  auto& g = request.generation;
  g.max_new_tokens = opts.max_new_tokens;
  g.do_sample = cmd.count("--temperature") + cmd.count("--top-p") + cmd.count("--top-k") > 0 && opts.temperature > 0;
  g.temperature = opts.temperature;
  g.top_p = opts.top_p;
  g.top_k = opts.top_k;
  g.seed = opts.seed;
  g.stop_strings = opts.stop;
  g.prefill_chunk_size = opts.chunk_size;

  loom::model::EngineOptions engine_options;
  engine_options.model_dir = opts.model;
  engine_options.device = opts.device;
  engine_options.dtype = opts.dtype;
  engine_options.prefill_cache_copies = 1;  // the full cache only (no method resolver)
  auto engine = loom::model::create_engine(engine_options, nullptr, nullptr);
  const auto result = engine->run({request}).at(0);
  if (!result.ok) {
    std::cerr << "loom_mpi generate: " << result.error << "\n";
    throw loom::cli::ExitStatus{1};
  }
  if (opts.json) {
    nlohmann::json out = {{"model", opts.model},
                          {"device", engine->device_description()},
                          {"input_ids", request.input_ids},
                          {"output_ids", result.output_ids},
                          {"text", result.text},
                          {"input_tokens", result.cost.input_tokens},
                          {"prefill_seconds", result.cost.prefill_seconds},
                          {"decode_seconds", result.cost.decode_seconds},
                          {"kv_bytes", result.cost.kv_bytes},
                          {"peak_memory_bytes", result.cost.peak_memory_bytes}};
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << "input ids (" << request.input_ids.size() << "): " << join_ids(request.input_ids) << "\n"
            << "output ids (" << result.output_ids.size() << "): " << join_ids(result.output_ids) << "\n"
            << "text: " << result.text << "\n"
            << fmt::format("prefill {:.3f} s, decode {:.3f} s, KV cache {:.2f} MiB, peak memory {:.1f} MiB on {}",
                           result.cost.prefill_seconds, result.cost.decode_seconds, result.cost.kv_bytes / 1048576.0,
                           result.cost.peak_memory_bytes / 1048576.0, engine->device_description())
            << "\n";
}

}  // namespace

void loom_cli_add_generate(CLI::App& app) {
  auto opts = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate from one prompt with a model directory (a quick check)");
  cmd->add_option("--model", opts->model, "Hugging Face model directory")->required()->check(CLI::ExistingDirectory);
  auto* prompt = cmd->add_option("--prompt", opts->prompt, "prompt text (needs tokenizer.json or tokenizer.model)");
  auto* ids = cmd->add_option("--ids", opts->ids, "prompt token ids, comma-separated");
  prompt->excludes(ids);
  cmd->add_option("--max-new-tokens", opts->max_new_tokens, "tokens to generate")->check(CLI::PositiveNumber);
  cmd->add_flag("--chat", opts->chat, "render --prompt as a user message through the model's chat template");
  cmd->add_flag("--json", opts->json, "print a JSON object instead of text");
  cmd->add_option("--device", opts->device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_option("--dtype", opts->dtype, "auto | bfloat16 | float16 | float32")
      ->check(CLI::IsMember({"auto", "bfloat16", "float16", "float32"}));
  cmd->add_option("--temperature", opts->temperature, "sampling temperature (enables sampling)");
  cmd->add_option("--top-p", opts->top_p, "nucleus sampling threshold (enables sampling)");
  cmd->add_option("--top-k", opts->top_k, "top-k sampling (enables sampling)");
  cmd->add_option("--seed", opts->seed, "sampling seed");
  cmd->add_option("--stop", opts->stop, "stop string (repeatable): output is cut at its first occurrence");
  cmd->add_option("--prefill-chunk-size", opts->chunk_size, "tokens per prefill chunk")->check(CLI::PositiveNumber);
  cmd->callback([opts, cmd]() {
    if (opts->prompt.empty() && opts->ids.empty()) {
      throw loom::InputError("command line", 0, "--prompt", "expected --prompt TEXT or --ids 1,2,3");
    }
    if (opts->chat && opts->prompt.empty()) {
      throw loom::InputError("command line", 0, "--chat", "--chat needs --prompt");
    }
    run_generate(*opts, *cmd);
  });
}
