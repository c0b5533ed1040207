// Latency statistics as k6 computes them for a Trend: percentiles by linear interpolation between
// the two samples around rank p * (n - 1).
#pragma once

#include <cstdint>
#include <vector>

namespace rinha::contest {

// p in [0, 1] over nanosecond samples, in milliseconds; 0 for no samples. Reorders `samples`
// (partial selection, no full sort), so it is cheap enough for a progress line.
double PercentileMs(std::vector<int64_t>& samples, double p);

// Largest sample in milliseconds; 0 for none.
double MaxMs(const std::vector<int64_t>& samples);

}  // namespace rinha::contest
