#include "common/clock.h"

#include "absl/time/clock.h"

namespace rinha {

absl::Time RealClock::Now() const { return absl::Now(); }

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
