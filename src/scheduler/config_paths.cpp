#include "scheduler/config_paths.h"

#include "common/error.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <vector>

namespace loom::scheduler {

namespace fs = std::filesystem;

namespace {

bool is_configs_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "cost_model.yaml", ec) && fs::is_directory(dir / "benchmarks", ec);
}

// dir/configs for dir and each of its parents.
std::optional<fs::path> search_upwards(fs::path dir, std::vector<std::string>& tried) {
  std::error_code ec;
  dir = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  while (!dir.empty()) {
    tried.push_back((dir / "configs").string());
    if (is_configs_dir(dir / "configs")) return dir / "configs";
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return std::nullopt;
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

fs::path find_configs_dir(const fs::path& job_file) {
  std::vector<std::string> tried;
  if (const char* env = std::getenv("LOOM_CONFIG_DIR")) {
    if (is_configs_dir(env)) return fs::path(env);
    throw InputError("", 0, "LOOM_CONFIG_DIR",
                     std::string("a configs directory with cost_model.yaml and benchmarks/; got ") + env);
  }
  if (!job_file.empty()) {
    if (auto found = search_upwards(fs::absolute(job_file).parent_path(), tried)) return *found;
  }
  if (const fs::path exe = executable_dir(); !exe.empty()) {
    if (auto found = search_upwards(exe, tried)) return *found;
  }
#ifdef LOOM_DEFAULT_CONFIG_DIR
  tried.push_back(LOOM_DEFAULT_CONFIG_DIR);
  if (is_configs_dir(LOOM_DEFAULT_CONFIG_DIR)) return fs::path(LOOM_DEFAULT_CONFIG_DIR);
#endif
  std::string places;
  for (const std::string& place : tried) places += "\n  " + place;
  throw InputError("", 0, "LOOM_CONFIG_DIR", "the repository's configs directory; set LOOM_CONFIG_DIR. Tried:" + places);
}

std::string read_git_commit(const fs::path& configs_dir) {
  const fs::path git = configs_dir.parent_path() / ".git";
  std::ifstream head_file(git / "HEAD");
  std::string head;
  if (!head_file || !std::getline(head_file, head)) return "";
  head = trim(head);
  if (head.rfind("ref: ", 0) != 0) return head;  // detached HEAD
  const std::string ref = head.substr(5);
  std::ifstream ref_file(git / ref);
  std::string commit;
  if (ref_file && std::getline(ref_file, commit)) return trim(commit);
  std::ifstream packed(git / "packed-refs");
  std::string line;
  while (std::getline(packed, line)) {
    if (line.size() > 41 && line.compare(41, std::string::npos, ref) == 0) return line.substr(0, 40);
  }
  return "";
}

}  // namespace loom::scheduler
