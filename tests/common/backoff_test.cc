// The one backoff: doubling from the initial delay, capped, zero before any failure.
#include "common/backoff.h"

#include <cstdint>
#include <limits>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace rinha {
namespace {

TEST(BackoffDelayTest, IsZeroBeforeAnyFailure) {
  EXPECT_EQ(BackoffDelay<int64_t>(50, 2000, 0), 0);
  EXPECT_EQ(BackoffDelay<int64_t>(50, 2000, -1), 0);
  EXPECT_EQ(BackoffDelay(absl::Milliseconds(20), absl::Seconds(1), 0), absl::ZeroDuration());
}

TEST(BackoffDelayTest, DoublesFromInitialAndCapsAtMax) {
  EXPECT_EQ(BackoffDelay<int64_t>(50, 2000, 1), 50);
  EXPECT_EQ(BackoffDelay<int64_t>(50, 2000, 2), 100);
  EXPECT_EQ(BackoffDelay<int64_t>(50, 2000, 3), 200);
  EXPECT_EQ(BackoffDelay<int64_t>(50, 2000, 6), 1600);
  EXPECT_EQ(BackoffDelay<int64_t>(50, 2000, 7), 2000);
  EXPECT_EQ(BackoffDelay<int64_t>(50, 2000, 1'000'000), 2000);
}

TEST(BackoffDelayTest, WorksOnDurations) {
  const absl::Duration initial = absl::Milliseconds(20);
  const absl::Duration max = absl::Seconds(1);
  EXPECT_EQ(BackoffDelay(initial, max, 1), absl::Milliseconds(20));
  EXPECT_EQ(BackoffDelay(initial, max, 2), absl::Milliseconds(40));
  EXPECT_EQ(BackoffDelay(initial, max, 6), absl::Milliseconds(640));
  EXPECT_EQ(BackoffDelay(initial, max, 7), absl::Seconds(1));
  EXPECT_EQ(BackoffDelay(initial, max, std::numeric_limits<int>::max()), absl::Seconds(1));
}

TEST(BackoffDelayTest, InitialAboveMaxIsCappedAtOnce) {
  EXPECT_EQ(BackoffDelay<int64_t>(5000, 1000, 1), 1000);
}

TEST(BackoffDelayTest, DoesNotOverflowNearTheTypesLimit) {
  const int64_t max = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_EQ(BackoffDelay<int64_t>(1, max, 1000), max);
}

}  // namespace
}  // namespace rinha
