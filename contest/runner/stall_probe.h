// Machine stall probe: how late a sleeping thread wakes up on this machine, second by second.
//
// The contest's p99 is a few milliseconds; on a small VM the machine itself (the hypervisor
// taking a vCPU away, host contention) can add that much to any process. A thread that sleeps
// 1 ms in a loop and records how late each wake-up comes measures exactly that, independently of
// the system under test. The runner runs it beside a contest run so that a slow second in the
// load generator's series can be told apart from a slow second of the whole machine.
#ifndef RINHA_CONTEST_RUNNER_STALL_PROBE_H_
#define RINHA_CONTEST_RUNNER_STALL_PROBE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace rinha::contest {

// One wall-clock second of wake-ups.
struct StallSecond {
  int64_t t_ms = 0;  // Unix time of the second's start, ms (aligns with run.json)
  int64_t samples = 0;
  double max_late_ms = 0;
  int64_t late_over_1ms = 0;
  int64_t late_over_5ms = 0;
};

// Collects wake-up delays ("lateness": actual sleep minus asked sleep) into seconds and into a
// whole-run distribution. Pure: the caller supplies the times.
class StallRecorder {
 public:
  // `unix_ms` is the wall-clock time of the wake-up, `late_ns` how late it came (>= 0).
  void Add(int64_t unix_ms, int64_t late_ns);

  const std::vector<StallSecond>& seconds() const { return seconds_; }
  int64_t samples() const { return static_cast<int64_t>(late_ns_.size()); }
  // Quantile q in [0, 1] of all delays, in ms (0 without samples).
  double QuantileMs(double q) const;

  // {"period_us":..,"summary":{...},"seconds":[...]} (see contest/runner/stall_probe_main.cc).
  std::string ToJson(int64_t period_us) const;

 private:
  std::vector<StallSecond> seconds_;
  mutable std::vector<int64_t> late_ns_;
};

}  // namespace rinha::contest

#endif  // RINHA_CONTEST_RUNNER_STALL_PROBE_H_
