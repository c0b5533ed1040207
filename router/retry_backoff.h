// How long a failed attempt waits before the next one: common/backoff.h's exponential, capped,
// deterministic delay (no jitter: one router talks to each processor, there is no herd to
// spread), with the router's RetryConfig.
#pragma once

#include <cstdint>

#include "router/router_config.h"

namespace rinha::router {

// Delay before attempt number `failures + 1` after `failures` consecutive failures (>= 1):
// initial, 2 x initial, 4 x initial, ... up to max. 0 failures -> 0.
int64_t RetryDelayMs(const RetryConfig& config, int failures);

}  // namespace rinha::router
