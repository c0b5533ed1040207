#include "processor/health_rate_limiter.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace rinha::processor {
namespace {

constexpr absl::Duration kWindow = absl::Seconds(5);

TEST(FixedWindowRateLimiterTest, FirstCallOfAWindowGoesAtOnce) {
  testing::FakeClock clock;
  FixedWindowRateLimiter limiter(clock, kWindow, 2);
  absl::StatusOr<absl::Time> turn = limiter.Reserve();
  ASSERT_TRUE(turn.ok());
  EXPECT_EQ(*turn, clock.Now());
}

TEST(FixedWindowRateLimiterTest, ExcessCallsQueueForTheNextWindowsThenAreRejected) {
  testing::FakeClock clock;
  const absl::Time start = clock.Now();
  FixedWindowRateLimiter limiter(clock, kWindow, 2);
  ASSERT_TRUE(limiter.Reserve().ok());
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(*limiter.Reserve(), start + kWindow);
  EXPECT_EQ(*limiter.Reserve(), start + 2 * kWindow);
  absl::StatusOr<absl::Time> rejected = limiter.Reserve();
  EXPECT_TRUE(absl::IsResourceExhausted(rejected.status()));
}

TEST(FixedWindowRateLimiterTest, AQueuedTurnStopsCountingOnceItsWindowOpens) {
  testing::FakeClock clock;
  const absl::Time start = clock.Now();
  FixedWindowRateLimiter limiter(clock, kWindow, 2);
  ASSERT_TRUE(limiter.Reserve().ok());  // window 0
  ASSERT_TRUE(limiter.Reserve().ok());  // queued for window 1
  ASSERT_TRUE(limiter.Reserve().ok());  // queued for window 2
  clock.Advance(kWindow);               // window 1 opens: one waiter left
  EXPECT_EQ(*limiter.Reserve(), start + 3 * kWindow);
  EXPECT_FALSE(limiter.Reserve().ok());
}

TEST(FixedWindowRateLimiterTest, CountsCallsQueuedRejectedAndTheMostInOneWindow) {
  testing::FakeClock clock;
  FixedWindowRateLimiter limiter(clock, kWindow, 2);
  EXPECT_EQ(limiter.stats().calls, 0);
  ASSERT_TRUE(limiter.Reserve().ok());  // window 0
  clock.Advance(kWindow);
  ASSERT_TRUE(limiter.Reserve().ok());  // window 1
  clock.Advance(absl::Seconds(4));
  EXPECT_EQ(limiter.stats().max_per_window, 1);  // one per window so far
  ASSERT_TRUE(limiter.Reserve().ok());           // window 1 again: queued for window 2
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(limiter.Reserve().ok());   // window 2, taken by the queued one: queued for 3
  ASSERT_TRUE(limiter.Reserve().ok());   // queued for 4
  EXPECT_FALSE(limiter.Reserve().ok());  // two waiting: refused
  const FixedWindowRateLimiter::Stats stats = limiter.stats();
  EXPECT_EQ(stats.calls, 6);
  EXPECT_EQ(stats.queued, 3);
  EXPECT_EQ(stats.rejected, 1);
  EXPECT_EQ(stats.max_per_window, 3);  // window 2 saw three arrive
}

TEST(FixedWindowRateLimiterTest, WindowsAreFixedNotSliding) {
  testing::FakeClock clock;
  FixedWindowRateLimiter limiter(clock, kWindow, 0);
  clock.Advance(absl::Milliseconds(4999));
  ASSERT_TRUE(limiter.Reserve().ok());  // last millisecond of window 0
  EXPECT_FALSE(limiter.Reserve().ok());
  clock.Advance(absl::Milliseconds(1));  // window 1 starts 1 ms later
  absl::StatusOr<absl::Time> turn = limiter.Reserve();
  ASSERT_TRUE(turn.ok());
  EXPECT_EQ(*turn, clock.Now());
}

TEST(FixedWindowRateLimiterTest, AnIdlePeriodDoesNotBankCalls) {
  testing::FakeClock clock;
  FixedWindowRateLimiter limiter(clock, kWindow, 0);
  clock.Advance(absl::Seconds(60));
  EXPECT_TRUE(limiter.Reserve().ok());
  EXPECT_FALSE(limiter.Reserve().ok());
}

}  // namespace
}  // namespace rinha::processor
