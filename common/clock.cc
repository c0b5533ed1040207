#include "common/clock.h"

#include <chrono>

#include "absl/time/clock.h"

namespace rinha {
namespace {

template <typename Unit>
int64_t SteadyNow() {
  return std::chrono::duration_cast<Unit>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int64_t SteadyNanos() { return SteadyNow<std::chrono::nanoseconds>(); }
int64_t SteadyMicros() { return SteadyNow<std::chrono::microseconds>(); }
int64_t SteadyMillis() { return SteadyNow<std::chrono::milliseconds>(); }

absl::Time RealClock::Now() const { return absl::Now(); }

int64_t RealClock::MonotonicNanos() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RealClock::SleepUntil(absl::Time deadline) {
  for (absl::Duration left = deadline - absl::Now(); left > absl::ZeroDuration();
       left = deadline - absl::Now()) {
    absl::SleepFor(left);
  }
}

RealClock& RealClock::Get() {
  static RealClock* clock = new RealClock();
  return *clock;
}

}  // namespace rinha
