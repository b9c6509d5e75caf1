// A real `loom_mpi serve` child process for tests: started on models/tiny-loom with --port 0, its port read from the
// "listening on" line, stopped with SIGTERM (and reaped) when the object goes. LOOM_EXECUTABLE and LOOM_SOURCE_DIR
// come from the test's compile definitions.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace loom::test {

class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {LOOM_EXECUTABLE, "serve", "--model", std::string(LOOM_SOURCE_DIR) +
                                     "/models/tiny-loom", "--port", "0", "--device", "cpu"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      throw std::runtime_error("cannot start " + args[0]);
    }
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    stdout_ = fdopen(out[0], "r");
    char line[4096];
    const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
    while (std::fgets(line, sizeof line, stdout_)) {
      std::smatch m;
      const std::string text(line);
      if (std::regex_search(text, m, listening)) {
        port_ = std::stoi(m[1]);
        return;
      }
    }
    throw std::runtime_error("loom_mpi serve ended before it listened");
  }
  ~ServeProcess() { stop(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  // SIGTERM, then the exit status (0 when it stopped cleanly).
  int stop() {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (stdout_) std::fclose(stdout_);
    stdout_ = nullptr;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = 0;
  FILE* stdout_ = nullptr;
};

}  // namespace loom::test
