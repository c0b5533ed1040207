#include "processor/health_rate_limiter.h"

#include <algorithm>

#include "absl/status/status.h"

namespace rinha::processor {

FixedWindowRateLimiter::FixedWindowRateLimiter(Clock& clock, absl::Duration window, int max_queued)
    : clock_(clock), window_(window), max_queued_(max_queued), origin_(clock.Now()) {}

absl::StatusOr<absl::Time> FixedWindowRateLimiter::Reserve() {
  // The clock is read under the lock, so that calls are counted in the order of their windows.
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_.Now();
  absl::Duration into_window;
  const int64_t current = absl::IDivDuration(now - origin_, window_, &into_window);
  ++stats_.calls;
  if (current != counted_window_) {
    counted_window_ = current;
    calls_in_window_ = 0;
  }
  stats_.max_per_window = std::max(stats_.max_per_window, ++calls_in_window_);
  if (next_free_window_ <= current) {
    next_free_window_ = current + 1;
    return now;
  }
  // Windows already reserved after the current one are the calls waiting in the queue.
  const int64_t waiting = next_free_window_ - current - 1;
  if (waiting >= max_queued_) {
    ++stats_.rejected;
    return absl::ResourceExhaustedError("health check rate limit exceeded");
  }
  ++stats_.queued;
  const absl::Time turn = origin_ + window_ * next_free_window_;
  ++next_free_window_;
  return turn;
}

FixedWindowRateLimiter::Stats FixedWindowRateLimiter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace rinha::processor
