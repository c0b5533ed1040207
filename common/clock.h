// Time as a dependency: services read and wait on time only through a Clock, so tests can
// drive time with a fake clock instead of sleeping.
#pragma once

#include <cstdint>

#include "absl/time/time.h"

namespace rinha {

class Clock {
 public:
  virtual ~Clock() = default;

  // Wall-clock time (what timestamps such as requestedAt are made of).
  virtual absl::Time Now() const = 0;

  // Blocks the calling thread until Now() >= deadline. Thread-safe.
  virtual void SleepUntil(absl::Time deadline) = 0;

  int64_t NowMillis() const { return absl::ToUnixMillis(Now()); }
  void SleepFor(absl::Duration d) { SleepUntil(Now() + d); }
};

// The real clock: absl::Now() and absl::SleepFor. Safe to share between threads.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
  void SleepUntil(absl::Time deadline) override;

  // Process-wide instance for main() wiring.
  static RealClock& Get();
};

}  // namespace rinha
