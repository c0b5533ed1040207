#include "processor/health_rate_limiter.h"

#include "absl/status/status.h"

namespace rinha::processor {

FixedWindowRateLimiter::FixedWindowRateLimiter(Clock& clock, absl::Duration window, int max_queued)
    : clock_(clock), window_(window), max_queued_(max_queued), origin_(clock.Now()) {}

absl::StatusOr<absl::Time> FixedWindowRateLimiter::Reserve() {
  const absl::Time now = clock_.Now();
  absl::Duration into_window;
  const int64_t current = absl::IDivDuration(now - origin_, window_, &into_window);
  std::lock_guard<std::mutex> lock(mu_);
  if (next_free_window_ <= current) {
    next_free_window_ = current + 1;
    return now;
  }
  // Windows already reserved after the current one are the calls waiting in the queue.
  const int64_t waiting = next_free_window_ - current - 1;
  if (waiting >= max_queued_) {
    return absl::ResourceExhaustedError("health check rate limit exceeded");
  }
  const absl::Time turn = origin_ + window_ * next_free_window_;
  ++next_free_window_;
  return turn;
}

}  // namespace rinha::processor
