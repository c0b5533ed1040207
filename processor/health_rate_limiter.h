// Fixed-window rate limiter for GET /payments/service-health, like the official processor's
// (ASP.NET FixedWindowRateLimiter): one call per window shared by every caller, a few excess
// calls queued and let through one per later window, anything beyond rejected (429).
#pragma once

#include <cstdint>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace rinha::processor {

// Thread-safe. Windows are aligned on the limiter's creation time, like a replenishment timer
// started with the service.
class FixedWindowRateLimiter {
 public:
  FixedWindowRateLimiter(Clock& clock, absl::Duration window, int max_queued);

  // Reserves the caller's turn: the time at which it may be answered (Now() when the current
  // window still has its call; otherwise the start of the next window not yet reserved), or
  // ResourceExhausted when `max_queued` calls already wait for later windows. Does not block;
  // the caller waits until the returned time.
  absl::StatusOr<absl::Time> Reserve();

  // What callers did, all of them together, since the start (an emulator extra, to measure
  // whether a client keeps to the budget): calls received, of them those that came while their
  // window's call was taken (queued for a later window) and those refused (429), and the most
  // calls that arrived within one window.
  struct Stats {
    int64_t calls = 0;
    int64_t queued = 0;
    int64_t rejected = 0;
    int64_t max_per_window = 0;
  };
  Stats stats() const;

 private:
  Clock& clock_;
  const absl::Duration window_;
  const int max_queued_;
  const absl::Time origin_;
  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan, so absl::Mutex hand-offs
  // are invisible to the TSan build; pthread-based locks are intercepted.
  mutable std::mutex mu_;
  // Index of the first window whose call is not yet taken.
  int64_t next_free_window_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  int64_t counted_window_ ABSL_GUARDED_BY(mu_) = -1;  // the window calls_in_window_ counts
  int64_t calls_in_window_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rinha::processor
