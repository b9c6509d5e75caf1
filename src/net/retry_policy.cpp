#include "net/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace loom::net {

bool RetryPolicy::retryable(const HttpResponse& response) {
  if (response.status == 0) return true;
  return response.status == 408 || response.status == 429 || response.status >= 500;
}

double RetryPolicy::delay_s(int attempt, const HttpResponse& response, double jitter) const {
  if (response.retry_after_s >= 0) return std::min(response.retry_after_s, max_s);
  const double backoff = base_s * std::pow(2.0, std::max(0, attempt - 1));
  return std::min(max_s, backoff * (0.75 + 0.5 * jitter));
}

}  // namespace loom::net
