// A Clock whose time moves only when a test calls Advance() (both readings) or SetTime() (the
// wall reading alone, as an NTP step). SleepUntil blocks until the fake wall time reaches the
// deadline, so tests control every wait without real sleeping.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace rinha::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixMillis(1'752'582'896'000))  // 2025-07-15
      : now_(start) {}

  absl::Time Now() const override;
  int64_t MonotonicNanos() const override;
  void SleepUntil(absl::Time deadline) override;

  // Time passes: the wall and the monotonic readings move together by `d` (>= 0).
  void Advance(absl::Duration d);
  // The wall clock is stepped to `t` (backwards or forwards); the monotonic reading stays.
  void SetTime(absl::Time t);

  // Number of threads currently blocked in SleepUntil; lets a test wait until a worker is asleep
  // before advancing time.
  int sleepers() const;
  // Blocks (really) until at least n threads sleep, or `timeout` of real time passes.
  bool AwaitSleepers(int n, absl::Duration timeout = absl::Seconds(10)) const;

 private:
  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan, so absl::Mutex
  // hand-offs are invisible to the TSan build and every guarded field looks racy.
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // time moved, or a sleeper arrived
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  // Arbitrary origin, far from the wall reading so that a test mixing the two fails loudly.
  absl::Duration monotonic_ ABSL_GUARDED_BY(mu_) = absl::Hours(1);
  int sleepers_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rinha::testing
