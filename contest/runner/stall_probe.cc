#include "contest/runner/stall_probe.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rinha::contest {

void StallRecorder::Add(int64_t unix_ms, int64_t late_ns) {
  late_ns = std::max<int64_t>(late_ns, 0);
  const int64_t second_ms = unix_ms - unix_ms % 1000;
  if (seconds_.empty() || seconds_.back().t_ms != second_ms) {
    seconds_.push_back(StallSecond{.t_ms = second_ms});
  }
  StallSecond& s = seconds_.back();
  ++s.samples;
  const double late_ms = static_cast<double>(late_ns) / 1e6;
  s.max_late_ms = std::max(s.max_late_ms, late_ms);
  if (late_ns > 1'000'000) ++s.late_over_1ms;
  if (late_ns > 5'000'000) ++s.late_over_5ms;
  late_ns_.push_back(late_ns);
}

double StallRecorder::QuantileMs(double q) const {
  if (late_ns_.empty()) return 0;
  const size_t n = late_ns_.size();
  const size_t k =
      std::min(n - 1, static_cast<size_t>(std::ceil(q * static_cast<double>(n))) - (q > 0 ? 1 : 0));
  std::nth_element(late_ns_.begin(), late_ns_.begin() + static_cast<ptrdiff_t>(k), late_ns_.end());
  return static_cast<double>(late_ns_[k]) / 1e6;
}

std::string StallRecorder::ToJson(int64_t period_us) const {
  int64_t stalled_seconds = 0;
  for (const StallSecond& s : seconds_) stalled_seconds += s.late_over_5ms > 0 ? 1 : 0;
  std::string out = absl::StrFormat(
      "{\"period_us\":%d,\"summary\":{\"samples\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
      "\"p999_ms\":%.3f,\"max_ms\":%.3f,\"seconds\":%d,\"seconds_with_stall_over_5ms\":%d},"
      "\"seconds\":[",
      period_us, samples(), QuantileMs(0.5), QuantileMs(0.99), QuantileMs(0.999), QuantileMs(1.0),
      seconds_.size(), stalled_seconds);
  for (size_t i = 0; i < seconds_.size(); ++i) {
    const StallSecond& s = seconds_[i];
    absl::StrAppendFormat(&out,
                          "%s{\"t_ms\":%d,\"samples\":%d,\"max_late_ms\":%.3f,"
                          "\"late_over_1ms\":%d,\"late_over_5ms\":%d}",
                          i == 0 ? "" : ",", s.t_ms, s.samples, s.max_late_ms, s.late_over_1ms,
                          s.late_over_5ms);
  }
  absl::StrAppend(&out, "]}\n");
  return out;
}

}  // namespace rinha::contest
