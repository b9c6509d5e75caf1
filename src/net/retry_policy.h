// When an HTTP request is tried again: after a transport failure (refused, reset, timed out), HTTP 408, 429 and
// 5xx, up to max_retries more times; other answers are final. The wait doubles from base_s (with ±25% jitter from
// the caller's seed, so ranks do not retry in step) up to max_s; a server's Retry-After wins when it is given
// (capped at max_s).
#pragma once

#include "net/http_client.h"

#include <cstdint>

namespace loom::net {

struct RetryPolicy {
  int max_retries = 4;
  double base_s = 0.5;
  double max_s = 30;

  static bool retryable(const HttpResponse& response);
  // The wait before try number `attempt` + 1 (attempt >= 1 tries done); jitter in [0, 1).
  double delay_s(int attempt, const HttpResponse& response, double jitter) const;
};

}  // namespace loom::net
