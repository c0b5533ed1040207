// Time as a dependency: services read and wait on time only through a Clock, so tests can
// drive time with a fake clock instead of sleeping. Plus the one monotonic time base
// (SteadyNanos/Micros/Millis) for intervals, latencies, timeouts and deadlines.
#pragma once

#include <cstdint>

#include "absl/time/time.h"

namespace rinha {

class Clock {
 public:
  virtual ~Clock() = default;

  // Wall-clock time (what timestamps such as requestedAt are made of). May step (NTP).
  virtual absl::Time Now() const = 0;

  // Monotonic time since an arbitrary origin: never steps, so intervals, timers and deadlines
  // are measured with it (as Envoy's TimeSource::monotonicTime()). Thread-safe.
  virtual int64_t MonotonicNanos() const = 0;

  // Blocks the calling thread until Now() >= deadline. Thread-safe.
  virtual void SleepUntil(absl::Time deadline) = 0;

  int64_t NowMillis() const { return absl::ToUnixMillis(Now()); }
  int64_t MonotonicMillis() const { return MonotonicNanos() / 1'000'000; }
  void SleepFor(absl::Duration d) { SleepUntil(Now() + d); }
};

// The monotonic time base of every process: std::chrono::steady_clock since its epoch (an
// arbitrary point, typically boot), truncated to the unit. Never goes backwards and ignores wall
// clock changes, so use it for intervals, latencies, timeouts and deadlines inside one process;
// never for timestamps that leave it (those are Clock::Now(), wall time). Any thread.
int64_t SteadyNanos();
int64_t SteadyMicros();
int64_t SteadyMillis();

// The real clock: absl::Now(), std::chrono::steady_clock and absl::SleepFor. Safe to share
// between threads.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
  int64_t MonotonicNanos() const override;
  void SleepUntil(absl::Time deadline) override;

  // Process-wide instance for main() wiring.
  static RealClock& Get();
};

}  // namespace rinha
