#include "router/retry_backoff.h"

#include <algorithm>

namespace rinha::router {

int64_t RetryDelayMs(const RetryConfig& config, int failures) {
  if (failures <= 0) return 0;
  int64_t delay = config.initial_backoff_ms;
  for (int i = 1; i < failures && delay < config.max_backoff_ms; ++i) delay *= 2;
  return std::min(delay, config.max_backoff_ms);
}

}  // namespace rinha::router
