#include "router/health_poll_gate.h"

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace rinha::router {
namespace {

TEST(HealthPollGateTest, AllowsTheFirstCallAtOnceThenOnePerInterval) {
  testing::FakeClock clock;
  HealthPollGate gate(5100);
  ASSERT_TRUE(gate.MayStart(clock.MonotonicMillis()));
  gate.OnStart(clock.MonotonicMillis());
  clock.Advance(absl::Milliseconds(3));
  gate.OnFinish();
  EXPECT_FALSE(gate.MayStart(clock.MonotonicMillis()));
  clock.Advance(absl::Milliseconds(5096));
  EXPECT_FALSE(gate.MayStart(clock.MonotonicMillis()));
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(gate.MayStart(clock.MonotonicMillis()));
}

TEST(HealthPollGateTest, NeverStartsASecondCallWhileOneIsUnanswered) {
  testing::FakeClock clock;
  HealthPollGate gate(5100);
  gate.OnStart(clock.MonotonicMillis());
  // The processor queued it: no answer for 9 s. No call queues behind it.
  clock.Advance(absl::Seconds(9));
  EXPECT_FALSE(gate.MayStart(clock.MonotonicMillis()));
  EXPECT_TRUE(gate.outstanding());
  gate.OnFinish();
  // The interval counts from the start, so the next call may go at once.
  EXPECT_TRUE(gate.MayStart(clock.MonotonicMillis()));
}

TEST(HealthPollGateTest, A429CountsAsAnAnswerAndKeepsTheInterval) {
  testing::FakeClock clock;
  HealthPollGate gate(5100);
  gate.OnStart(clock.MonotonicMillis());
  gate.OnFinish();  // 429
  EXPECT_EQ(gate.NextStartMs(), clock.MonotonicMillis() + 5100);
  int calls = 1;
  // Over a minute, at most one call per 5.1 s.
  for (int i = 0; i < 60000; i += 100) {
    clock.Advance(absl::Milliseconds(100));
    if (gate.MayStart(clock.MonotonicMillis())) {
      gate.OnStart(clock.MonotonicMillis());
      gate.OnFinish();
      ++calls;
    }
  }
  EXPECT_EQ(calls, 12);  // t = 0, 5.1, 10.2, ..., 56.1
}

}  // namespace
}  // namespace rinha::router
