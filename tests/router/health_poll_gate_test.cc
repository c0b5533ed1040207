#include "router/health_poll_gate.h"

#include <algorithm>
#include <vector>

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

TEST(HealthSlotsTest, OneShardIsAlwaysOpen) {
  HealthSlots slots(0, 1, 5100, 400);
  for (int64_t t : {int64_t{0}, int64_t{1}, int64_t{5099}, int64_t{1'752'582'896'123}}) {
    EXPECT_TRUE(slots.Open(t)) << t;
    EXPECT_EQ(slots.NextOpenMs(t), t);
  }
}

TEST(HealthSlotsTest, EachShardOpensAtTheStartOfItsOwnSlotsOnly) {
  // Slots of 5100 + 400 = 5500 ms: [0, 5500) is shard 0's, [5500, 11000) shard 1's, ...
  HealthSlots zero(0, 2, 5100, 400);
  HealthSlots one(1, 2, 5100, 400);
  EXPECT_EQ(zero.slot_ms(), 5500);
  EXPECT_TRUE(zero.Open(0));
  EXPECT_TRUE(zero.Open(399));
  EXPECT_FALSE(zero.Open(400));  // still its slot, but past the opening
  EXPECT_FALSE(zero.Open(5500));
  EXPECT_TRUE(zero.Open(11000));
  EXPECT_FALSE(one.Open(0));
  EXPECT_TRUE(one.Open(5500));
  EXPECT_TRUE(one.Open(5899));
  EXPECT_FALSE(one.Open(5900));
  EXPECT_FALSE(one.Open(11000));
  EXPECT_TRUE(one.Open(16500));
}

TEST(HealthSlotsTest, NextOpenIsTheNextStartOfAnOwnSlot) {
  HealthSlots zero(0, 2, 5100, 400);
  HealthSlots one(1, 2, 5100, 400);
  HealthSlots two_of_three(2, 3, 5100, 400);
  EXPECT_EQ(zero.NextOpenMs(100), 100);  // open now
  EXPECT_EQ(zero.NextOpenMs(400), 11000);
  EXPECT_EQ(zero.NextOpenMs(5600), 11000);
  EXPECT_EQ(one.NextOpenMs(0), 5500);
  EXPECT_EQ(one.NextOpenMs(5600), 5600);  // open now
  EXPECT_EQ(one.NextOpenMs(5900), 16500);
  EXPECT_EQ(two_of_three.NextOpenMs(0), 11000);
  EXPECT_EQ(two_of_three.NextOpenMs(11500), 27500);
  // Whatever the time, the answer is open and nothing earlier is.
  for (int64_t t = 0; t < 40000; t += 37) {
    const int64_t next = one.NextOpenMs(t);
    ASSERT_GE(next, t);
    ASSERT_TRUE(one.Open(next)) << t;
    for (int64_t u = t; u < next; u += 11) ASSERT_FALSE(one.Open(u)) << t << " " << u;
  }
}

// Shards that never talk, each with its own gate, polled every millisecond for ten minutes of a
// fake clock: the calls of all of them together start at least the gate's interval apart, and
// every shard gets its turn.
TEST(HealthSlotsTest, ShardsTogetherNeverCallTwiceWithinTheInterval) {
  for (const int shards : {2, 3, 4}) {
    testing::FakeClock clock;
    std::vector<HealthPollGate> gates(shards, HealthPollGate(5100));
    std::vector<HealthSlots> slots;
    for (int i = 0; i < shards; ++i) slots.emplace_back(i, shards, 5100, 400);
    std::vector<int64_t> starts;
    std::vector<int> per_shard(shards, 0);
    for (int ms = 0; ms < 600'000; ++ms) {
      for (int i = 0; i < shards; ++i) {
        if (gates[i].MayStart(clock.MonotonicMillis()) && slots[i].Open(clock.NowMillis())) {
          gates[i].OnStart(clock.MonotonicMillis());
          gates[i].OnFinish();
          starts.push_back(clock.NowMillis());
          ++per_shard[i];
        }
      }
      clock.Advance(absl::Milliseconds(1));
    }
    ASSERT_GT(starts.size(), 10u);
    for (size_t k = 1; k < starts.size(); ++k) {
      ASSERT_GE(starts[k] - starts[k - 1], 5100) << shards << " shards, call " << k;
    }
    // 600 s / 5.5 s slots: about 109 calls in all, spread evenly.
    EXPECT_GE(static_cast<int>(starts.size()), 600'000 / 5500 - 1);
    for (int i = 0; i < shards; ++i) EXPECT_GE(per_shard[i], 600'000 / 5500 / shards - 1) << i;
  }
}

}  // namespace
}  // namespace rinha::router
