// HttpClient: several HTTP requests in flight from one thread, over libcurl's multi interface. start() queues a
// request and returns its id at once; poll() runs the transfers for at most a given time and returns the ones that
// finished: an HTTP status and body, or a transport error in words (connection refused, timed out, ...). Each
// request has its own total timeout, so a slow or dead server never holds the caller longer than that. The
// Retry-After header (seconds) is read for the caller's retry policy (net/retry_policy.h). Not thread-safe: one
// owner thread. Used by the OpenAI API engine (rank/api) and meant for any other HTTP client of the project
// (judges, embeddings).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loom::net {

struct HttpRequest {
  std::string url;
  std::string body;                  // POSTed when not empty, else GET
  std::vector<std::string> headers;  // "Name: value"
  double timeout_s = 60;             // whole transfer; connecting gets at most min(timeout_s, 10 s)
};

struct HttpResponse {
  int64_t id = 0;
  long status = 0;                // HTTP status; 0 when no answer came (transport_error says why)
  std::string body;
  std::string transport_error;    // empty when the server answered
  bool timed_out = false;
  double retry_after_s = -1;      // the Retry-After header in seconds; -1 when absent
  double seconds = 0;             // from start() to the end of the transfer
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  int64_t start(HttpRequest request);
  // Runs transfers for at most max_wait_ms (returns early when one finishes); returns the finished ones.
  std::vector<HttpResponse> poll(int max_wait_ms);
  size_t in_flight() const { return transfers_.size(); }

 private:
  struct Transfer;
  void* multi_ = nullptr;  // CURLM*
  int64_t next_id_ = 0;
  std::map<void*, std::unique_ptr<Transfer>> transfers_;  // by CURL* easy handle
};

}  // namespace loom::net
