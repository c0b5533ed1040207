// The stop-signal helper every main uses: blocked signals stay pending until waited for, also in
// threads started after blocking.
#include "common/stop_signal.h"

#include <pthread.h>
#include <signal.h>

#include <future>
#include <thread>

#include "gtest/gtest.h"

namespace rinha {
namespace {

TEST(StopSignalTest, WaitReturnsTheSignalThatArrivedWhileBlocked) {
  BlockStopSignals();
  ASSERT_EQ(pthread_kill(pthread_self(), SIGINT), 0);
  EXPECT_EQ(WaitForStopSignal(), SIGINT);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGTERM), 0);
  EXPECT_EQ(WaitForStopSignal(), SIGTERM);
}

TEST(StopSignalTest, ThreadsStartedAfterBlockingWaitForThemToo) {
  BlockStopSignals();  // before the thread starts: it inherits the mask (else SIGTERM kills it)
  std::promise<int> received;
  std::thread waiter([&received] { received.set_value(WaitForStopSignal()); });
  ASSERT_EQ(pthread_kill(waiter.native_handle(), SIGTERM), 0);
  EXPECT_EQ(received.get_future().get(), SIGTERM);
  waiter.join();
}

}  // namespace
}  // namespace rinha
