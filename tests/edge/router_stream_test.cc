#include "edge/router_stream.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/edge/fake_backends.h"
#include "tests/testing/wait.h"

namespace rinha::edge {
namespace {

using ::rinha::edge::testing::FakeRouter;
using ::rinha::edge::testing::Serve;
using ::rinha::edge::testing::StopNow;
using ::rinha::testing::WaitUntil;

rinha::v1::Payment MakePayment(int n) {
  rinha::v1::Payment p;
  p.set_correlation_id(absl::StrFormat("00000000-0000-4000-8000-%012x", n));
  p.set_amount_cents(2005);
  return p;
}

class RouterStreamTest : public ::testing::Test {
 protected:
  RouterStreamTest()
      : address_(absl::StrCat("unix:", ::testing::TempDir(), "edge_rs_", getpid(), "_",
                              counter_++, ".sock")) {}
  ~RouterStreamTest() override { unlink(address_.substr(5).c_str()); }
  void SetUp() override { RINHA_EDGE_SKIP_GRPC_UNDER_TSAN(); }

  std::shared_ptr<grpc::Channel> Channel() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
    return grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  }

  static inline int counter_ = 0;
  const std::string address_;
};

TEST(ReconnectBackoffTest, DoublesFromInitialUpToMax) {
  const absl::Duration initial = absl::Milliseconds(20);
  const absl::Duration max = absl::Seconds(1);
  EXPECT_EQ(ReconnectBackoff(initial, max, 0), absl::ZeroDuration());
  EXPECT_EQ(ReconnectBackoff(initial, max, 1), absl::Milliseconds(20));
  EXPECT_EQ(ReconnectBackoff(initial, max, 2), absl::Milliseconds(40));
  EXPECT_EQ(ReconnectBackoff(initial, max, 3), absl::Milliseconds(80));
  EXPECT_EQ(ReconnectBackoff(initial, max, 6), absl::Milliseconds(640));
  EXPECT_EQ(ReconnectBackoff(initial, max, 7), absl::Seconds(1));
  EXPECT_EQ(ReconnectBackoff(initial, max, 1'000'000), absl::Seconds(1));
}

TEST_F(RouterStreamTest, DeliversEveryPaymentAndForgetsItOnceAcknowledged) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  auto stream = RouterStream::Start(Channel(), {});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().pending == 0; }));
  EXPECT_EQ(router.received(), 1000u);
  EXPECT_EQ(router.distinct_ids().size(), 1000u);
  const RouterStream::Stats stats = stream->stats();
  EXPECT_EQ(stats.unacked, 0);
  EXPECT_EQ(stats.batches_acked, stats.batches_sent);
  EXPECT_EQ(stats.resent, 0);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, KeepsPaymentFieldsUnchanged) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  auto stream = RouterStream::Start(Channel(), {});
  rinha::v1::Payment p = MakePayment(7);
  p.set_amount_cents(123456789);
  p.set_accepted_at_ms(1752582896123);
  ASSERT_TRUE(stream->Enqueue(p));
  ASSERT_TRUE(WaitUntil([&] { return router.received() == 1; }));
  const rinha::v1::Payment got = router.payments()[0];
  EXPECT_EQ(got.correlation_id(), p.correlation_id());
  EXPECT_EQ(got.amount_cents(), 123456789);
  EXPECT_EQ(got.accepted_at_ms(), 1752582896123);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, ConcurrentProducersLoseNothing) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  auto stream = RouterStream::Start(Channel(), {});
  std::vector<std::thread> producers;
  std::atomic<int> refused{0};
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (!stream->Enqueue(MakePayment(t * 1000 + i))) ++refused;
      }
    });
  }
  for (std::thread& t : producers) t.join();
  EXPECT_EQ(refused.load(), 0);
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().pending == 0; }));
  EXPECT_EQ(router.distinct_ids().size(), 2000u);
  EXPECT_EQ(router.received(), 2000u);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, HoldsPaymentsWhileTheRouterIsAwayAndDeliversThemWhenItComes) {
  auto stream = RouterStream::Start(Channel(), {});
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  // Some attempts fail while nobody listens.
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().streams >= 2; }));
  EXPECT_EQ(stream->stats().pending, 100);

  FakeRouter router;
  auto server = Serve(&router, address_);
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().pending == 0; }));
  EXPECT_EQ(router.distinct_ids().size(), 100u);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, RefusesAboveMaxPendingAndNeverDropsWhatItAccepted) {
  RouterStream::Options options;
  options.max_pending = 10;
  auto stream = RouterStream::Start(Channel(), options);  // no router yet
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  EXPECT_FALSE(stream->Enqueue(MakePayment(10)));
  EXPECT_FALSE(stream->Enqueue(MakePayment(11)));
  EXPECT_EQ(stream->stats().refused, 2);
  EXPECT_EQ(stream->stats().pending, 10);

  FakeRouter router;
  auto server = Serve(&router, address_);
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().pending == 0; }));
  EXPECT_EQ(router.distinct_ids().size(), 10u);
  EXPECT_TRUE(stream->Enqueue(MakePayment(12)));  // room again
  ASSERT_TRUE(WaitUntil([&] { return router.received() == 11; }));
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, UnacknowledgedPaymentsCountAgainstTheBound) {
  FakeRouter silent(/*ack=*/false);
  auto server = Serve(&silent, address_);
  RouterStream::Options options;
  options.max_pending = 5;
  auto stream = RouterStream::Start(Channel(), options);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  ASSERT_TRUE(WaitUntil([&] { return silent.received() == 5; }));
  EXPECT_EQ(stream->stats().unacked, 5);
  EXPECT_FALSE(stream->Enqueue(MakePayment(5)));
  stream->Shutdown(absl::ZeroDuration());
  StopNow(server);
}

TEST_F(RouterStreamTest, ResendsUnacknowledgedBatchesToARestartedRouter) {
  auto silent = std::make_unique<FakeRouter>(/*ack=*/false);
  auto server = Serve(silent.get(), address_);
  auto stream = RouterStream::Start(Channel(), {});
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  ASSERT_TRUE(WaitUntil([&] { return silent->received() == 50; }));
  EXPECT_EQ(stream->stats().pending, 50);

  StopNow(server);  // the router "crashes" before acknowledging anything
  FakeRouter router;
  server = Serve(&router, address_);
  for (int i = 50; i < 60; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().pending == 0; }));
  EXPECT_EQ(router.distinct_ids().size(), 60u);
  EXPECT_EQ(router.received(), 60u);  // the acknowledged batches were not sent twice
  EXPECT_GE(stream->stats().resent, 1);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, ShutdownDrainsWhatIsHeld) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  auto stream = RouterStream::Start(Channel(), {});
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  stream->Shutdown(absl::Seconds(10));
  EXPECT_EQ(stream->stats().pending, 0);
  EXPECT_EQ(router.distinct_ids().size(), 300u);
  EXPECT_FALSE(stream->Enqueue(MakePayment(300)));
  StopNow(server);
}

TEST_F(RouterStreamTest, ShutdownWithoutARouterReturnsAndRefusesNewPayments) {
  auto stream = RouterStream::Start(Channel(), {});
  ASSERT_TRUE(stream->Enqueue(MakePayment(1)));
  stream->Shutdown(absl::Milliseconds(50));
  EXPECT_EQ(stream->stats().pending, 1);
  EXPECT_FALSE(stream->Enqueue(MakePayment(2)));
  stream->Shutdown(absl::ZeroDuration());  // idempotent
}

}  // namespace
}  // namespace rinha::edge
