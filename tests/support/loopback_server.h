// The loopback HTTP server the unit tests' test doubles stand on (judge, NLI, embedding and completions endpoints):
// a cpp-httplib server on 127.0.0.1 at a free port that answers POST `path` with `handler`, listening on its own
// thread from construction until destruction. The handler runs on the server's threads: what it touches must be
// atomic or locked, and must outlive the server — declare the LoopbackServer member after that state (last), so it
// stops first. Plus the OpenAI response bodies the doubles answer with.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace loom::test_support {

class LoopbackServer {
 public:
  LoopbackServer(const std::string& path, httplib::Server::Handler handler) {
    server_.Post(path, std::move(handler));
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("loopback test server: no free port on 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  // The OpenAI-compatible base URL, http://127.0.0.1:PORT/v1.
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

// A /v1/chat/completions answer whose one choice says `content`.
inline void set_chat_completion(httplib::Response& res, const std::string& content) {
  using nlohmann::json;
  res.set_content(json{{"object", "chat.completion"},
                       {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}}}}}
                      .dump(),
                  "application/json");
}

// A /v1/completions answer whose one choice is `text`.
inline void set_text_completion(httplib::Response& res, const std::string& text) {
  using nlohmann::json;
  res.set_content(json{{"object", "text_completion"}, {"choices", {{{"index", 0}, {"text", text}}}}}.dump(),
                  "application/json");
}

}  // namespace loom::test_support
