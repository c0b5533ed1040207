// A Clock whose time moves only when a test calls Advance(). SleepUntil blocks until the fake
// time reaches the deadline, so tests control every wait without real sleeping.
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
  void SleepUntil(absl::Time deadline) override;

  void Advance(absl::Duration d);
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
  int sleepers_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rinha::testing
