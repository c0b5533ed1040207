// WorkerPool: threads on demand, the cap, Stop() running what it accepted.
#include "processor/worker_pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "gtest/gtest.h"
#include "tests/testing/wait.h"

namespace rinha::processor {
namespace {

// A latch the tasks block on until the test opens it.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(WorkerPoolTest, StartsThreadsOnlyWhenNoneIsIdle) {
  WorkerPool pool(8);
  EXPECT_EQ(pool.threads(), 0);
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pool.TrySubmit([&] { ++done; }));
    ASSERT_TRUE(testing::WaitUntil([&] { return done.load() == i + 1 && pool.pending() == 0; }));
  }
  EXPECT_EQ(pool.threads(), 1);  // one at a time: the parked thread is reused
}

TEST(WorkerPoolTest, RefusesBeyondTheCapAndAcceptsAgainWhenATaskEnds) {
  WorkerPool pool(3);
  Gate gate;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.TrySubmit([&] { gate.Wait(); }));
  EXPECT_FALSE(pool.TrySubmit([] {}));
  EXPECT_EQ(pool.threads(), 3);
  gate.Open();
  ASSERT_TRUE(testing::WaitUntil([&] { return pool.pending() == 0; }));
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_EQ(pool.threads(), 3);
}

TEST(WorkerPoolTest, StopRunsAcceptedTasksThenRefuses) {
  std::atomic<int> done{0};
  WorkerPool pool(100);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ++done; }));
  pool.Stop();
  EXPECT_EQ(done.load(), 50);
  EXPECT_FALSE(pool.TrySubmit([] {}));
  pool.Stop();  // idempotent
}

}  // namespace
}  // namespace rinha::processor
