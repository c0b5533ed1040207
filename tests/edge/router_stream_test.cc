#include "edge/router_stream.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/edge/fake_backends.h"
#include "tests/testing/temp_dir.h"
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
      : address_(absl::StrCat("unix:", ::testing::TempDir(), "edge_rs_", getpid(), "_", counter_++,
                              ".sock")) {}
  ~RouterStreamTest() override {
    unlink(address_.substr(5).c_str());
    std::filesystem::remove_all(dir_);
  }
  void SetUp() override { RINHA_EDGE_SKIP_GRPC_UNDER_TSAN(); }

  std::shared_ptr<grpc::Channel> Channel() {
    grpc::ChannelArguments args;
    // Fast reconnects to a restarted router. Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC takes it
    // as the connect timeout, and a slow handshake under load then failed the first stream.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
    return grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  }

  std::unique_ptr<RouterStream> StartStream(RouterStream::Options options = {}) {
    auto stream = RouterStream::Start(Channel(), options);
    EXPECT_TRUE(stream.ok()) << stream.status();
    return stream.ok() ? *std::move(stream) : nullptr;
  }

  RouterStream::Options Journaled() {
    RouterStream::Options options;
    options.journal_dir = (dir_ / "journal").string();
    return options;
  }

  static inline int counter_ = 0;
  const std::string address_;
  const std::filesystem::path dir_ = ::rinha::testing::MakeTempDir("edge_rs");
};

TEST_F(RouterStreamTest, DeliversEveryPaymentAndForgetsItOnceAcknowledged) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  auto stream = StartStream();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
  EXPECT_EQ(router.received(), 1000u);
  EXPECT_EQ(router.distinct_ids().size(), 1000u);
  const RouterStream::Stream::Stats stats = stream->stats().stream;
  EXPECT_EQ(stats.unacked, 0);
  EXPECT_EQ(stats.batches_acked, stats.batches_sent);
  EXPECT_EQ(stats.resent, 0);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, KeepsPaymentFieldsUnchanged) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  auto stream = StartStream();
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
  auto stream = StartStream();
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
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
  EXPECT_EQ(router.distinct_ids().size(), 2000u);
  EXPECT_EQ(router.received(), 2000u);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, HoldsPaymentsWhileTheRouterIsAwayAndDeliversThemWhenItComes) {
  auto stream = StartStream();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  // Some attempts fail while nobody listens.
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.streams >= 2; }));
  EXPECT_EQ(stream->stats().stream.pending, 100);

  FakeRouter router;
  auto server = Serve(&router, address_);
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
  EXPECT_EQ(router.distinct_ids().size(), 100u);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, RefusesAboveMaxPendingAndNeverDropsWhatItAccepted) {
  RouterStream::Options options;
  options.max_pending = 10;
  auto stream = StartStream(options);  // no router yet
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  EXPECT_FALSE(stream->Enqueue(MakePayment(10)));
  EXPECT_FALSE(stream->Enqueue(MakePayment(11)));
  EXPECT_EQ(stream->stats().stream.refused, 2);
  EXPECT_EQ(stream->stats().stream.pending, 10);

  FakeRouter router;
  auto server = Serve(&router, address_);
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
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
  auto stream = StartStream(options);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  ASSERT_TRUE(WaitUntil([&] { return silent.received() == 5; }));
  EXPECT_EQ(stream->stats().stream.unacked, 5);
  EXPECT_FALSE(stream->Enqueue(MakePayment(5)));
  stream->Shutdown(absl::ZeroDuration());
  StopNow(server);
}

TEST_F(RouterStreamTest, ResendsUnacknowledgedBatchesToARestartedRouter) {
  auto silent = std::make_unique<FakeRouter>(/*ack=*/false);
  auto server = Serve(silent.get(), address_);
  auto stream = StartStream();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  ASSERT_TRUE(WaitUntil([&] { return silent->received() == 50; }));
  EXPECT_EQ(stream->stats().stream.pending, 50);

  StopNow(server);  // the router "crashes" before acknowledging anything
  FakeRouter router;
  server = Serve(&router, address_);
  for (int i = 50; i < 60; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
  EXPECT_EQ(router.distinct_ids().size(), 60u);
  EXPECT_EQ(router.received(), 60u);  // the acknowledged batches were not sent twice
  EXPECT_GE(stream->stats().stream.resent, 1);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, ShutdownDrainsWhatIsHeld) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  auto stream = StartStream();
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  stream->Shutdown(absl::Seconds(10));
  EXPECT_EQ(stream->stats().stream.pending, 0);
  EXPECT_EQ(router.distinct_ids().size(), 300u);
  EXPECT_FALSE(stream->Enqueue(MakePayment(300)));
  StopNow(server);
}

TEST_F(RouterStreamTest, ShutdownWithoutARouterReturnsAndRefusesNewPayments) {
  auto stream = StartStream();
  ASSERT_TRUE(stream->Enqueue(MakePayment(1)));
  stream->Shutdown(absl::Milliseconds(50));
  EXPECT_EQ(stream->stats().stream.pending, 1);
  EXPECT_FALSE(stream->Enqueue(MakePayment(2)));
  stream->Shutdown(absl::ZeroDuration());  // idempotent
}

TEST_F(RouterStreamTest, ABatchTheRouterCannotTakeYetIsKeptAndSentAgain) {
  FakeRouter router;
  router.retry_later_next = 2;
  auto server = Serve(&router, address_);
  auto stream = StartStream();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
  EXPECT_EQ(router.retried_later.load(), 2);
  EXPECT_EQ(router.distinct_ids().size(), 20u);
  EXPECT_GE(stream->stats().stream.retried_later, 2);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

// What a crash leaves: payments journaled and never acknowledged. The next start (same journal)
// sends them again. Records are released per segment, so acknowledged payments that share a
// segment with unacknowledged ones go again too: the router deduplicates them.
TEST_F(RouterStreamTest, WhatTheRouterHadNotAcknowledgedIsResentByTheNextStart) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  {
    auto stream = StartStream(Journaled());
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
    ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
    EXPECT_EQ(stream->stats().journal.live, 0);
    StopNow(server);  // the router goes away; these are accepted but never acknowledged
    for (int i = 30; i < 50; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
    EXPECT_EQ(stream->stats().journal.live, 20);
    stream->Shutdown(absl::ZeroDuration());  // the journal keeps them, as after kill -9
  }
  FakeRouter restarted;
  server = Serve(&restarted, address_);
  auto stream = StartStream(Journaled());
  EXPECT_GE(stream->stats().recovered, 20);
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
  for (int i = 30; i < 50; ++i) {
    EXPECT_EQ(restarted.distinct_ids().count(MakePayment(i).correlation_id()), 1u) << i;
  }
  EXPECT_EQ(stream->stats().journal.live, 0);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, NothingIsResentOnceTheRouterAcknowledgedEverything) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  {
    auto stream = StartStream(Journaled());
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(stream->Enqueue(MakePayment(i)));
    ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
    stream->Shutdown(absl::ZeroDuration());
  }
  auto stream = StartStream(Journaled());
  EXPECT_EQ(stream->stats().recovered, 0);
  EXPECT_EQ(router.received(), 30u);
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, TwoStreamsCannotShareAJournal) {
  auto first = StartStream(Journaled());
  auto second = RouterStream::Start(Channel(), Journaled());
  EXPECT_FALSE(second.ok());
}

TEST_F(RouterStreamTest, HoldsAPaymentFromEnqueueUntilTheRouterAcknowledgesIt) {
  auto silent = std::make_unique<FakeRouter>(/*ack=*/false);
  auto server = Serve(silent.get(), address_);
  RouterStream::Options options;
  options.batch_window = absl::Hours(1);  // queued, not sent: wait for the batch to fill
  options.max_batch = 3;
  auto stream = StartStream(options);
  EXPECT_FALSE(stream->Holds(MakePayment(0).correlation_id()));
  ASSERT_TRUE(stream->Enqueue(MakePayment(0)));
  EXPECT_TRUE(stream->Holds(MakePayment(0).correlation_id()));  // queued
  ASSERT_TRUE(stream->Enqueue(MakePayment(1)));
  ASSERT_TRUE(stream->Enqueue(MakePayment(2)));
  ASSERT_TRUE(WaitUntil([&] { return silent->received() == 3; }));
  EXPECT_TRUE(stream->Holds(MakePayment(1).correlation_id()));  // sent, not acknowledged
  EXPECT_FALSE(stream->Holds(MakePayment(3).correlation_id()));

  StopNow(server);  // the router "restarts", and acknowledges this time
  FakeRouter router;
  server = Serve(&router, address_);
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(stream->Holds(MakePayment(i).correlation_id())) << i;
  stream->Shutdown(absl::Seconds(1));
  StopNow(server);
}

TEST_F(RouterStreamTest, RefusalsOfAFullStreamAreCountedAsQueueFull) {
  for (bool journaled : {false, true}) {
    FakeRouter silent(/*ack=*/false);
    auto server = Serve(&silent, address_);
    RouterStream::Options options = journaled ? Journaled() : RouterStream::Options();
    options.max_pending = 2;
    auto stream = StartStream(options);
    ASSERT_TRUE(stream->Enqueue(MakePayment(0)));
    ASSERT_TRUE(stream->Enqueue(MakePayment(1)));
    EXPECT_FALSE(stream->Enqueue(MakePayment(2)));
    EXPECT_FALSE(stream->Enqueue(MakePayment(3)));
    EXPECT_EQ(stream->stats().queue_full, 2) << journaled;
    EXPECT_EQ(stream->stats().journal_errors, 0) << journaled;
    stream->Shutdown(absl::ZeroDuration());
    StopNow(server);
    std::filesystem::remove_all(dir_);
  }
}

TEST_F(RouterStreamTest, TheStreamIsOpenWhileItRunsAndNotWhileTheRouterIsAway) {
  FakeRouter router;
  auto server = Serve(&router, address_);
  auto stream = StartStream();
  ASSERT_TRUE(stream->Enqueue(MakePayment(0)));
  ASSERT_TRUE(WaitUntil([&] { return stream->stats().stream.pending == 0; }));
  EXPECT_TRUE(stream->stats().stream.open);
  EXPECT_GE(stream->stats().stream.streams, 1);

  StopNow(server);
  // Between attempts nothing is open; an attempt on a refusing socket ends at once.
  ASSERT_TRUE(WaitUntil([&] { return !stream->stats().stream.open; }));
  stream->Shutdown(absl::ZeroDuration());
  EXPECT_FALSE(stream->stats().stream.open);
}

}  // namespace
}  // namespace rinha::edge
