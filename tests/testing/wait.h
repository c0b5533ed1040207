// "Until condition or timeout" waits for tests: poll a predicate with short real sleeps.
// Used only where the thing waited for happens in another process or on a real socket.
#pragma once

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rinha::testing {

// Returns true as soon as `done()` is true; false when `timeout` passes first.
inline bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10),
                      absl::Duration poll = absl::Milliseconds(2)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(poll);
  }
  return true;
}

}  // namespace rinha::testing
