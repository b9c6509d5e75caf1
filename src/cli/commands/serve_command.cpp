// `loom_mpi serve --model DIR [--host 127.0.0.1] [--port 8000] [--name NAME] [--device auto|cpu|cuda]
//  [--dtype ...] [--max-batch-size N] [--max-context N] [--full-cache-only] [--embedding-pooling mean|last]`
// Serves one model directory over OpenAI's HTTP API (/v1/completions, /v1/chat/completions, /v1/embeddings,
// /v1/models) with the engine and acceleration methods of `run`: a request picks its KV method with
// `loom_method: {name, params}`. --full-cache-only serves the full cache alone: the prefill workspace keeps one dense
// copy of a prompt instead of two, and the KV pool gets the difference (docs/engine.md); other methods get 400.
// Prints "loom_mpi serve: listening on http://HOST:PORT" on stdout once it accepts connections (--port 0 picks a
// free port) and stops cleanly on SIGINT or SIGTERM. docs/api-backend.md describes the endpoints.
#include "cli/commands/exit_status.h"
#include "common/error.h"
#include "model_card/model_card.h"
#include "rank/accel/registry.h"
#include "rank/model/inference_engine.h"
#include "serve/openai_server.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

namespace {

struct ServeOptions {
  std::string model;
  std::string name;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string device = "auto";
  std::string dtype = "auto";
  int32_t max_batch_size = 8;
  int64_t max_context = 0;
  bool full_cache_only = false;
  std::string embedding_pooling = "mean";
};

volatile std::sig_atomic_t stop_signal = 0;

void note_stop_signal(int signal) { stop_signal = signal; }

void run_serve(const ServeOptions& opts) {
  // SIGINT/SIGTERM only set a flag (whichever thread takes them); a watcher thread sees it and stops the server.
  std::signal(SIGINT, note_stop_signal);
  std::signal(SIGTERM, note_stop_signal);

  const auto card = loom::model::read_model_card(opts.model);
  loom::model::EngineOptions engine_options;
  engine_options.model_dir = opts.model;
  engine_options.device = opts.device;
  engine_options.dtype = opts.dtype;
  engine_options.max_batch_size = opts.max_batch_size;
  engine_options.max_context = opts.max_context;
  engine_options.prefill_cache_copies = opts.full_cache_only ? 1 : 2;

  loom::serve::ServedModel served{
      opts.name.empty() ? std::filesystem::path(opts.model).lexically_normal().filename().string() : opts.name,
      loom::model::create_engine(engine_options, nullptr, loom::accel::resolve_policy),
      loom::text::load_tokenizer(opts.model),
      loom::text::load_chat_template(opts.model),
      opts.max_context > 0 ? opts.max_context : card.max_position_embeddings,
      card.vocab_size,
      opts.embedding_pooling == "last" ? loom::model::HiddenPooling::kLast : loom::model::HiddenPooling::kMean};
  served.full_cache_only = opts.full_cache_only;
  if (served.name.empty()) served.name = "model";
  const std::string device = served.engine->device_description();
  loom::serve::OpenAiServer server(std::move(served));
  const int port = server.bind(opts.host, opts.port);

  std::atomic<bool> finished{false};
  std::thread signal_watcher([&server, &finished] {
    // stop() until serve() returns: a signal that came before the server listened must still stop it.
    while (!finished) {
      if (stop_signal) server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::cout << fmt::format("loom_mpi serve: listening on http://{}:{} ({} on {})", opts.host, port, opts.model,
                           device)
            << std::endl;
  server.serve();
  if (stop_signal) spdlog::info("serve: signal {} received, stopped", static_cast<int>(stop_signal));
  finished = true;
  signal_watcher.join();
}

}  // namespace

void loom_cli_add_serve(CLI::App& app) {
  auto opts = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a model directory over OpenAI's HTTP API (completions, chat)");
  cmd->add_option("--model", opts->model, "Hugging Face model directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--name", opts->name, "model name for /v1/models and requests (default: the directory's name)");
  cmd->add_option("--host", opts->host, "address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", opts->port, "port (0: any free port, printed on start)")->check(CLI::Range(0, 65535));
  cmd->add_option("--device", opts->device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_option("--dtype", opts->dtype, "auto | bfloat16 | float16 | float32")
      ->check(CLI::IsMember({"auto", "bfloat16", "float16", "float32"}));
  cmd->add_option("--max-batch-size", opts->max_batch_size, "requests decoding at once (default 8)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-context", opts->max_context, "prompt + output tokens (default: config.json's)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--full-cache-only", opts->full_cache_only,
               "serve the full KV cache alone: a larger KV pool on a GPU (one prefill copy, not two); requests "
               "naming another loom_method get 400");
  cmd->add_option("--embedding-pooling", opts->embedding_pooling,
                  "/v1/embeddings: mean over the tokens' final hidden states, or the last token's (default mean; a "
                  "request's loom_pooling overrides)")
      ->check(CLI::IsMember({"mean", "last"}));
  cmd->callback([opts]() { run_serve(*opts); });
}
