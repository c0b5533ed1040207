#include "router/retry_backoff.h"

#include "common/backoff.h"

namespace rinha::router {

int64_t RetryDelayMs(const RetryConfig& config, int failures) {
  return BackoffDelay(config.initial_backoff_ms, config.max_backoff_ms, failures);
}

}  // namespace rinha::router
