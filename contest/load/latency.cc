#include "contest/load/latency.h"

#include <algorithm>
#include <cmath>

namespace rinha::contest {

double PercentileMs(std::vector<int64_t>& samples, double p) {
  if (samples.empty()) return 0;
  const double rank = p * static_cast<double>(samples.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = static_cast<size_t>(std::ceil(rank));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(lo),
                   samples.end());
  const double low = static_cast<double>(samples[lo]);
  double high = low;
  if (hi != lo) {
    // After nth_element everything past lo is >= samples[lo]: the next rank is their minimum.
    high = static_cast<double>(
        *std::min_element(samples.begin() + static_cast<std::ptrdiff_t>(lo) + 1, samples.end()));
  }
  return (low + (high - low) * (rank - std::floor(rank))) / 1e6;
}

double MaxMs(const std::vector<int64_t>& samples) {
  if (samples.empty()) return 0;
  return static_cast<double>(*std::max_element(samples.begin(), samples.end())) / 1e6;
}

}  // namespace rinha::contest
