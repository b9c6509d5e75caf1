// Tokenizer encode speed on the Paul Graham essays, one thread (= per core), for each tokenizer fixture.
// Prints MB/s per core (MB over thread CPU seconds; wall-clock in brackets) for the first pass (empty word cache)
// and the best later pass, and the cold ratio to the 5 MB/s target. Exit status 1 when a cold rate is below 5 MB/s.
//   tokenizer_speed [--shared DIR] [--passes N] [--only NAME] [--json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timing {
  double wall = 0, cpu = 0;
};

// Wall-clock and thread CPU seconds of one pass (CPU time is what one core spent, even on a busy machine).
Timing encode_pass(const loom::text::Tokenizer& tokenizer, const std::vector<std::string>& texts, size_t& tokens) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_seconds();
  tokens = 0;
  for (const auto& text : texts) tokens += tokenizer.encode(text, false).size();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          thread_cpu_seconds() - cpu_start};
}

}  // namespace

int main(int argc, char** argv) {
  fs::path shared = LOOM_SHARED_DIR;
  int passes = 5;
  bool json = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--shared" && i + 1 < argc) {
      shared = argv[++i];
    } else if (arg == "--passes" && i + 1 < argc) {
      passes = std::max(2, std::stoi(argv[++i]));
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else {
      std::fprintf(stderr, "usage: %s [--shared DIR] [--passes N] [--only NAME] [--json]\n", argv[0]);
      return 2;
    }
  }
  const fs::path essay_dir = shared / "data/niah/PaulGrahamEssays";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(essay_dir)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  size_t bytes = 0;
  for (const auto& file : files) {
    texts.push_back(read_text(file));
    bytes += texts.back().size();
  }
  const double megabytes = static_cast<double>(bytes) / 1e6;
  constexpr double kTargetMBps = 5.0;
  if (!json) {
    std::printf("corpus: %zu essays, %.3f MB, one thread\n", texts.size(), megabytes);
    std::printf("MB/s per core = MB / thread CPU seconds (wall-clock MB/s in brackets); cold = first pass, empty cache\n");
    std::printf("%-14s %9s %20s %20s %11s\n", "tokenizer", "tokens", "cold MB/s", "warm MB/s", "cold/5MB/s");
  }
  const std::vector<std::pair<std::string, fs::path>> tokenizers = {
      {"llama3_1", shared / "fixtures/tokenizers/llama3_1"},
      {"qwen3", shared / "fixtures/tokenizers/qwen3"},
      {"llama2", shared / "fixtures/tokenizers/llama2"},
  };
  bool all_fast = true;
  for (const auto& [name, dir] : tokenizers) {
    if (!fs::exists(dir) || (!only.empty() && name != only)) continue;
    const auto tokenizer = loom::text::load_tokenizer(dir);
    size_t tokens = 0;
    const Timing cold = encode_pass(*tokenizer, texts, tokens);
    Timing best = cold;
    for (int p = 1; p < passes; ++p) {
      const Timing t = encode_pass(*tokenizer, texts, tokens);
      if (p == 1 || t.cpu < best.cpu) best = t;
    }
    const double cold_rate = megabytes / cold.cpu, warm_rate = megabytes / best.cpu;
    all_fast = all_fast && cold_rate >= kTargetMBps;
    if (json) {
      std::printf("{\"tokenizer\": \"%s\", \"megabytes\": %.4f, \"tokens\": %zu, \"cold_mb_per_s\": %.3f, "
                  "\"warm_mb_per_s\": %.3f, \"cold_wall_mb_per_s\": %.3f, \"warm_wall_mb_per_s\": %.3f, "
                  "\"cold_ratio_to_target\": %.3f}\n",
                  name.c_str(), megabytes, tokens, cold_rate, warm_rate, megabytes / cold.wall, megabytes / best.wall,
                  cold_rate / kTargetMBps);
    } else {
      std::printf("%-14s %9zu %9.2f (%8.2f) %9.2f (%8.2f) %10.2fx\n", name.c_str(), tokens, cold_rate,
                  megabytes / cold.wall, warm_rate, megabytes / best.wall, cold_rate / kTargetMBps);
    }
  }
  return all_fast ? 0 : 1;
}
