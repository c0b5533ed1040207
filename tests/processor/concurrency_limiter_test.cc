#include "processor/concurrency_limiter.h"

#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/wait.h"

namespace rinha::processor {
namespace {

using Permit = FifoConcurrencyLimiter::Permit;

TEST(FifoConcurrencyLimiterTest, GrantsUpToTheInFlightLimitAtOnce) {
  FifoConcurrencyLimiter limiter(2, 0);
  std::optional<Permit> a = limiter.Acquire();
  std::optional<Permit> b = limiter.Acquire();
  EXPECT_TRUE(a.has_value());
  EXPECT_TRUE(b.has_value());
  EXPECT_EQ(limiter.in_flight(), 2);
}

TEST(FifoConcurrencyLimiterTest, RejectsAtOnceWhenInFlightAndQueueAreFull) {
  FifoConcurrencyLimiter limiter(1, 0);
  std::optional<Permit> held = limiter.Acquire();
  ASSERT_TRUE(held.has_value());
  EXPECT_FALSE(limiter.Acquire().has_value());
}

TEST(FifoConcurrencyLimiterTest, ReleasingAPermitFreesItsSlot) {
  FifoConcurrencyLimiter limiter(1, 0);
  { std::optional<Permit> held = limiter.Acquire(); }
  EXPECT_EQ(limiter.in_flight(), 0);
  EXPECT_TRUE(limiter.Acquire().has_value());
}

TEST(FifoConcurrencyLimiterTest, QueuedCallersAreServedOldestFirst) {
  FifoConcurrencyLimiter limiter(1, 3);
  std::optional<Permit> held = limiter.Acquire();
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&, i] {
      std::optional<Permit> permit = limiter.Acquire();
      ASSERT_TRUE(permit.has_value());
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
    // Enqueue one at a time so the arrival order is known.
    ASSERT_TRUE(testing::WaitUntil([&] { return limiter.queued() == i + 1; }));
  }
  // The queue is full: a newcomer is turned away, not queued.
  EXPECT_FALSE(limiter.Acquire().has_value());

  held.reset();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(limiter.in_flight(), 0);
  EXPECT_EQ(limiter.queued(), 0);
}

TEST(FifoConcurrencyLimiterTest, ReleaseHandsTheSlotStraightToTheOldestWaiter) {
  FifoConcurrencyLimiter limiter(1, 1);
  std::optional<Permit> held = limiter.Acquire();
  std::promise<void> waiter_has_permit;
  std::promise<void> let_go;
  std::thread waiter([&] {
    std::optional<Permit> permit = limiter.Acquire();
    waiter_has_permit.set_value();
    let_go.get_future().wait();
  });
  ASSERT_TRUE(testing::WaitUntil([&] { return limiter.queued() == 1; }));
  held.reset();
  waiter_has_permit.get_future().wait();
  EXPECT_EQ(limiter.in_flight(), 1);
  EXPECT_EQ(limiter.queued(), 0);
  let_go.set_value();
  waiter.join();
  EXPECT_EQ(limiter.in_flight(), 0);
}

}  // namespace
}  // namespace rinha::processor
