#include "common/clock.h"

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace rinha {
namespace {

TEST(RealClockTest, TheMonotonicReadingNeverGoesBack) {
  const Clock& clock = RealClock::Get();
  int64_t last = clock.MonotonicNanos();
  for (int i = 0; i < 10000; ++i) {
    const int64_t now = clock.MonotonicNanos();
    ASSERT_GE(now, last);
    last = now;
  }
  EXPECT_EQ(clock.MonotonicMillis(), clock.MonotonicNanos() / 1'000'000);
}

TEST(FakeClockTest, AdvanceMovesBothReadingsAndAWallStepOnlyTheWallOne) {
  testing::FakeClock clock;
  const absl::Time wall = clock.Now();
  const int64_t mono = clock.MonotonicNanos();
  clock.Advance(absl::Milliseconds(250));
  EXPECT_EQ(clock.Now(), wall + absl::Milliseconds(250));
  EXPECT_EQ(clock.MonotonicNanos(), mono + 250'000'000);
  clock.SetTime(wall - absl::Hours(1));  // NTP steps the wall clock back
  EXPECT_EQ(clock.Now(), wall - absl::Hours(1));
  EXPECT_EQ(clock.MonotonicNanos(), mono + 250'000'000);
  clock.SetTime(wall + absl::Hours(5));
  EXPECT_EQ(clock.MonotonicMillis(), (mono + 250'000'000) / 1'000'000);
}

}  // namespace
}  // namespace rinha
