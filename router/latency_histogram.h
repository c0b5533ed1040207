// Fixed-memory latency histogram (about 64 KB): 50 µs buckets up to 100 ms, 10 ms buckets up to
// 60 s, one overflow bucket. Percentiles are reported as the upper bound of their bucket.
// Not thread-safe: the owner serialises access.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

namespace rinha::router {

class LatencyHistogram {
 public:
  void Record(int64_t micros) {
    micros = std::max<int64_t>(0, micros);
    max_ = std::max(max_, micros);
    ++count_;
    ++buckets_[Index(micros)];
  }
  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  // q in (0, 1]; 0 when empty.
  int64_t Percentile(double q) const {
    if (count_ == 0) return 0;
    const int64_t rank =
        std::max<int64_t>(1, static_cast<int64_t>(q * static_cast<double>(count_) + 0.999999));
    int64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank) return std::min(UpperBound(i), max_);
    }
    return max_;
  }

 private:
  static constexpr int64_t kFineStep = 50;        // µs
  static constexpr int64_t kFineLimit = 100'000;  // 100 ms
  static constexpr int64_t kCoarseStep = 10'000;  // 10 ms
  static constexpr int64_t kCoarseLimit = 60'000'000;
  static constexpr int kFine = kFineLimit / kFineStep;
  static constexpr int kCoarse = (kCoarseLimit - kFineLimit) / kCoarseStep;
  static constexpr int kBuckets = kFine + kCoarse + 1;

  static int Index(int64_t us) {
    if (us < kFineLimit) return static_cast<int>(us / kFineStep);
    if (us < kCoarseLimit) return kFine + static_cast<int>((us - kFineLimit) / kCoarseStep);
    return kBuckets - 1;
  }
  static int64_t UpperBound(int i) {
    if (i < kFine) return (i + 1) * kFineStep;
    if (i < kFine + kCoarse) return kFineLimit + (i - kFine + 1) * kCoarseStep;
    return INT64_MAX;
  }

  std::array<int64_t, kBuckets> buckets_{};
  int64_t count_ = 0;
  int64_t max_ = 0;
};

}  // namespace rinha::router
