#include "net/http_client.h"

#include "common/error.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

namespace loom::net {
namespace {

using Clock = std::chrono::steady_clock;

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// "Retry-After: 3" → 3 (an HTTP date is not parsed: the policy's own backoff applies then).
size_t read_header(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  std::string lower = line;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.rfind("retry-after:", 0) == 0) {
    char* end = nullptr;
    const double seconds = std::strtod(line.c_str() + 12, &end);
    if (end != line.c_str() + 12 && seconds >= 0) *static_cast<double*>(user) = seconds;
  }
  return size * count;
}

void initialise_curl_once() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) throw Error(fmt::format("libcurl could not start: {}", curl_easy_strerror(code)));
}

}  // namespace

struct HttpClient::Transfer {
  int64_t id = 0;
  HttpRequest request;
  std::string body;
  double retry_after_s = -1;
  curl_slist* headers = nullptr;
  char error[CURL_ERROR_SIZE] = {0};
  Clock::time_point started;
  ~Transfer() { curl_slist_free_all(headers); }
};

HttpClient::HttpClient() {
  initialise_curl_once();
  multi_ = curl_multi_init();
  if (!multi_) throw Error("libcurl could not create a transfer set");
}

HttpClient::~HttpClient() {
  for (auto& [easy, transfer] : transfers_) {
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), easy);
    curl_easy_cleanup(easy);
  }
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

int64_t HttpClient::start(HttpRequest request) {
  auto transfer = std::make_unique<Transfer>();
  transfer->id = next_id_++;
  transfer->request = std::move(request);
  transfer->started = Clock::now();
  CURL* easy = curl_easy_init();
  if (!easy) throw Error("libcurl could not create a transfer");
  const HttpRequest& r = transfer->request;
  for (const auto& header : r.headers) transfer->headers = curl_slist_append(transfer->headers, header.c_str());
  curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
  if (!r.body.empty()) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  const long timeout_ms = std::max(1L, static_cast<long>(r.timeout_s * 1000));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10000L));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer->body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer->retry_after_s);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
  curl_multi_add_handle(static_cast<CURLM*>(multi_), easy);
  const int64_t id = transfer->id;
  transfers_.emplace(easy, std::move(transfer));
  return id;
}

std::vector<HttpResponse> HttpClient::poll(int max_wait_ms) {
  auto* multi = static_cast<CURLM*>(multi_);
  int running = 0;
  curl_multi_perform(multi, &running);
  if (running > 0) {
    curl_multi_poll(multi, nullptr, 0, std::max(0, max_wait_ms), nullptr);
    curl_multi_perform(multi, &running);
  }
  std::vector<HttpResponse> done;
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    Transfer& t = *it->second;
    HttpResponse response;
    response.id = t.id;
    response.seconds = std::chrono::duration<double>(Clock::now() - t.started).count();
    const CURLcode code = message->data.result;
    if (code == CURLE_OK) {
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
      response.body = std::move(t.body);
      response.retry_after_s = t.retry_after_s;
    } else {
      response.timed_out = code == CURLE_OPERATION_TIMEDOUT;
      response.transport_error =
          response.timed_out ? fmt::format("no answer within {:g} s", t.request.timeout_s)
                             : fmt::format("{}{}", curl_easy_strerror(code), t.error[0] ? std::string(" (") + t.error + ")"
                                                                                        : std::string());
    }
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    transfers_.erase(it);
    done.push_back(std::move(response));
  }
  return done;
}

}  // namespace loom::net
