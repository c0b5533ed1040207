#include "tests/testing/fake_clock.h"

namespace rinha::testing {

absl::Time FakeClock::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

int64_t FakeClock::MonotonicNanos() const {
  std::lock_guard<std::mutex> lock(mu_);
  return absl::ToInt64Nanoseconds(monotonic_);
}

void FakeClock::SleepUntil(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  ++sleepers_;
  changed_.notify_all();
  changed_.wait(lock, [this, deadline] { return now_ >= deadline; });
  --sleepers_;
}

void FakeClock::Advance(absl::Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ += d;
  monotonic_ += d;
  changed_.notify_all();
}

void FakeClock::SetTime(absl::Time t) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ = t;
  changed_.notify_all();
}

int FakeClock::sleepers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sleepers_;
}

bool FakeClock::AwaitSleepers(int n, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [this, n] { return sleepers_ >= n; });
}

}  // namespace rinha::testing
