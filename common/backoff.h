// Exponential backoff without jitter, as one pure function: how long to wait after a run of
// consecutive failures. Deterministic on purpose: each caller is the only client of what it
// retries (one router per processor, one edge per router stream, one ledger stream), so there is
// no herd to spread.
#pragma once

#include <algorithm>

namespace rinha {

// Delay before the next attempt after `failures` consecutive failures (>= 1): initial,
// 2 x initial, 4 x initial, ... capped at `max`. 0 failures (or fewer) -> zero.
// `Delay` is any type that doubles and compares: int64_t milliseconds, absl::Duration, ...
// Doubling stops at the cap, so the arithmetic never overflows for any cap below half the type's
// range.
template <typename Delay>
Delay BackoffDelay(Delay initial, Delay max, int failures) {
  if (failures <= 0) return Delay{};
  Delay delay = initial;
  for (int i = 1; i < failures && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

}  // namespace rinha
