// loom_mpi: the command-line entry point. Sub-commands live in commands/<name>_command.cpp (generated list).
// `loom_mpi JOB.yaml [options]` is shorthand for `loom_mpi run JOB.yaml [options]`.
// Exit codes (docs/trust.md): 0 success, 1 the job or an internal step failed, 2 bad input (job file, flags, data
// files, an output held by another job or made by another run), 3 the run ended with failed rows.
#include "cli/commands/exit_status.h"
#include "common/error.h"
#include "common/exception_text.h"
#include "nli/deberta_nli.h"
#include "rag/bert_embedder.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace loom::cli {
void add_all_commands(CLI::App& app);
}

namespace {

// Inserts "run" when the first argument is neither an option nor a sub-command name.
std::vector<std::string> with_default_command(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && !args.front().empty() && args.front()[0] != '-') {
    bool is_command = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->check_name(args.front())) is_command = true;
    }
    if (!is_command) args.insert(args.begin(), "run");
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  loom::rag::install_bert_embedder();  // rag.method contriever's local encoder (docs/rag.md)
  loom::nli::install_deberta_nli();    // judge.nli.model naming a local NLI model (docs/judge.md)
  CLI::App app{
      "loom_mpi: long-context LLM evaluation as an MPI batch job.\n"
      "  loom_mpi JOB.yaml                 run a job (same as `loom_mpi run JOB.yaml`)\n"
      "  mpirun -np 4 loom_mpi JOB.yaml    run it over 4 ranks",
      "loom_mpi"};
  app.set_version_flag("--version", "loom_mpi 0.1.0");
  loom::cli::add_all_commands(app);
  app.require_subcommand(1);
  std::vector<std::string> args = with_default_command(app, argc, argv);
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  try {
    app.parse(args);
  } catch (const loom::cli::ExitStatus& status) {
    return status.code;
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message (or --help / --version, which exit 0); its own codes (104-109) become the documented 2.
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const loom::InputError& e) {
    std::fprintf(stderr, "loom_mpi: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loom_mpi: error: %s\n", loom::describe_exception(e).c_str());
    return 1;
  }
  return 0;
}
