// GetaddrinfoResolver: answers come from its own threads, a slow lookup holds up neither the
// caller nor another name, and destroying it neither waits for a stuck lookup nor calls back
// afterwards. Lookups other than of IP literals are replaced, so nothing depends on DNS.
#include "router/resolver.h"

#include <arpa/inet.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/wait.h"

namespace rinha::router {
namespace {

in_addr Ip(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return a;
}

// A lookup that blocks until released; shared, as a worker may outlive the test's resolver.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int entered = 0;
  int left = 0;
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  int Entered() {
    std::lock_guard<std::mutex> lock(mu);
    return entered;
  }
  int Left() {
    std::lock_guard<std::mutex> lock(mu);
    return left;
  }
};

// Collects one answer, from whichever thread gives it.
struct Answer {
  std::mutex mu;
  std::optional<absl::StatusOr<in_addr>> address;
  std::thread::id thread;
  Resolver::Done Callback() {
    return [this](absl::StatusOr<in_addr> a) {
      std::lock_guard<std::mutex> lock(mu);
      address = std::move(a);
      thread = std::this_thread::get_id();
    };
  }
  bool Has() {
    std::lock_guard<std::mutex> lock(mu);
    return address.has_value();
  }
};

TEST(GetaddrinfoResolverTest, ResolvesAnIpLiteralThroughGetaddrinfoOnAnotherThread) {
  GetaddrinfoResolver resolver;
  Answer answer;
  resolver.Resolve("127.0.0.1", answer.Callback());
  ASSERT_TRUE(testing::WaitUntil([&] { return answer.Has(); }));
  std::lock_guard<std::mutex> lock(answer.mu);
  ASSERT_TRUE(answer.address->ok()) << answer.address->status();
  EXPECT_EQ((*answer.address)->s_addr, Ip("127.0.0.1").s_addr);
  EXPECT_NE(answer.thread, std::this_thread::get_id());
}

TEST(GetaddrinfoResolverTest, AFailedLookupIsReportedAsAnError) {
  GetaddrinfoResolver resolver(1, [](const std::string& name) -> absl::StatusOr<in_addr> {
    return absl::UnavailableError("cannot resolve " + name);
  });
  Answer answer;
  resolver.Resolve("payment-processor-default", answer.Callback());
  ASSERT_TRUE(testing::WaitUntil([&] { return answer.Has(); }));
  std::lock_guard<std::mutex> lock(answer.mu);
  EXPECT_FALSE(answer.address->ok());
}

TEST(GetaddrinfoResolverTest, ASlowNameHoldsUpNeitherTheCallerNorAnotherName) {
  auto gate = std::make_shared<Gate>();
  GetaddrinfoResolver resolver(2, [gate](const std::string& name) -> absl::StatusOr<in_addr> {
    if (name == "slow") {
      std::unique_lock<std::mutex> lock(gate->mu);
      ++gate->entered;
      gate->cv.wait(lock, [&] { return gate->open; });
      ++gate->left;
    }
    return Ip("10.0.0.7");
  });
  Answer slow, fast;
  resolver.Resolve("slow", slow.Callback());  // returns while the lookup blocks
  ASSERT_TRUE(testing::WaitUntil([&] { return gate->Entered() == 1; }));
  resolver.Resolve("fast", fast.Callback());
  ASSERT_TRUE(testing::WaitUntil([&] { return fast.Has(); }));
  EXPECT_FALSE(slow.Has());
  gate->Open();
  ASSERT_TRUE(testing::WaitUntil([&] { return slow.Has(); }));
}

TEST(GetaddrinfoResolverTest, DestroyingItDoesNotWaitForAStuckLookupNorCallBackAfterwards) {
  auto gate = std::make_shared<Gate>();
  auto called = std::make_shared<std::atomic<int>>(0);
  auto resolver = std::make_unique<GetaddrinfoResolver>(
      1, [gate](const std::string&) -> absl::StatusOr<in_addr> {
        std::unique_lock<std::mutex> lock(gate->mu);
        ++gate->entered;
        gate->cv.wait(lock, [&] { return gate->open; });
        ++gate->left;
        return Ip("10.0.0.7");
      });
  resolver->Resolve("stuck", [called](absl::StatusOr<in_addr>) { ++*called; });
  ASSERT_TRUE(testing::WaitUntil([&] { return gate->Entered() == 1; }));
  const absl::Time start = absl::Now();
  resolver.reset();  // the lookup is still blocked
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  gate->Open();
  ASSERT_TRUE(testing::WaitUntil([&] { return gate->Left() == 1; }));
  EXPECT_EQ(*called, 0);
}

}  // namespace
}  // namespace rinha::router
