#include "router/processor_health.h"

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace rinha::router {
namespace {

class ProcessorHealthTest : public ::testing::Test {
 protected:
  int64_t now() const { return clock_.MonotonicMillis(); }
  void Advance(int64_t ms) { clock_.Advance(absl::Milliseconds(ms)); }

  testing::FakeClock clock_;
  RoutingConfig routing_;
  RetryConfig retry_;
  ProcessorHealth health_{700, routing_, retry_};
};

TEST_F(ProcessorHealthTest, StartsHealthyAndFast) {
  const ProcessorSignals s = health_.Signals(now());
  EXPECT_FALSE(s.failing);
  EXPECT_EQ(s.latency_ms, 0);
  EXPECT_EQ(s.fee_bp, 700);
}

TEST_F(ProcessorHealthTest, A500MarksFailingAtOnceAndALaterSuccessClearsIt) {
  health_.OnSent(1, now());
  Advance(2000);
  health_.OnFailure(1, now());
  EXPECT_TRUE(health_.Signals(now()).failing);
  EXPECT_EQ(health_.Signals(now()).latency_ms, 2000);
  health_.OnSent(2, now());
  Advance(3);
  health_.OnSuccess(2, now());
  EXPECT_FALSE(health_.Signals(now()).failing);
  // The success that ends failures was sent during them: its latency says nothing of now.
  EXPECT_EQ(health_.Signals(now()).latency_ms, 0);
  health_.OnSent(3, now());
  Advance(7);
  health_.OnSuccess(3, now());
  EXPECT_EQ(health_.Signals(now()).latency_ms, 7);
}

TEST_F(ProcessorHealthTest, AProcessorBackFromFailingIsPresumedFastUntilItsAnswersSayOtherwise) {
  // Final, 148 s: a probe goes into the 5000 ms failing stage and is answered 200 at 153 s, once
  // the processor is back at 0 ms.
  health_.OnSent(1, now());
  Advance(5000);
  health_.OnFailure(1, now());
  health_.OnSent(2, now());
  Advance(5000);
  health_.OnSuccess(2, now());
  EXPECT_EQ(health_.Signals(now()).latency_ms, 0);
  // Had it come back slow, the age of its oldest unanswered POST shows it before any answer.
  health_.OnSent(3, now());
  Advance(1500);
  EXPECT_EQ(health_.Signals(now()).latency_ms, 1500);
}

TEST_F(ProcessorHealthTest, AProbeStillOutWhenThePollSaysItIsBackDoesNotMakeItSlow) {
  // Preview, 39 s: a probe goes into the 2000 ms failing stage; at 40 s the poll says the
  // processor is back at 20 ms while the probe is still out.
  health_.OnSent(1, now());
  Advance(2000);
  health_.OnFailure(1, now());
  health_.OnSent(2, now());
  Advance(1000);
  health_.OnPoll(now(), /*failing=*/false, /*min_response_ms=*/20);
  Advance(500);
  EXPECT_EQ(health_.Signals(now()).latency_ms, 20);
  // Nor does its answer, 2 s after it was sent (preview, 41 s: it made the default look slow and
  // 701 payments that had waited for it went to the fallback).
  Advance(500);
  health_.OnSuccess(2, now());
  EXPECT_EQ(health_.Signals(now()).latency_ms, 20);
  // A POST sent since it came back does count.
  health_.OnSent(3, now());
  Advance(1500);
  EXPECT_EQ(health_.Signals(now()).latency_ms, 1500);
  health_.OnSuccess(3, now());
  EXPECT_EQ(health_.Signals(now()).latency_ms, 1500);
}

TEST_F(ProcessorHealthTest, TheMostRecentOfPollAndInBandWins) {
  health_.OnSent(1, now());
  Advance(10);
  health_.OnFailure(1, now());
  Advance(100);
  health_.OnPoll(now(), /*failing=*/false, /*min_response_ms=*/50);
  EXPECT_FALSE(health_.Signals(now()).failing);
  EXPECT_EQ(health_.Signals(now()).latency_ms, 50);
  Advance(100);
  health_.OnSent(2, now());
  Advance(1);
  health_.OnFailure(2, now());
  EXPECT_TRUE(health_.Signals(now()).failing);
}

TEST_F(ProcessorHealthTest, AnOldUnansweredRequestRaisesTheLatencyBeforeItsAnswer) {
  health_.OnPoll(now(), false, 0);
  health_.OnSent(1, now());
  Advance(10);
  health_.OnSent(2, now());
  Advance(1500);
  EXPECT_EQ(health_.Signals(now()).latency_ms, 1510);
  EXPECT_EQ(health_.Signals(now()).in_flight, 2);
  health_.OnSuccess(1, now());
  EXPECT_EQ(health_.Signals(now()).latency_ms, 1510);  // the answer itself said 1510
  EXPECT_EQ(health_.Signals(now()).in_flight, 1);
}

TEST_F(ProcessorHealthTest, ProbesOfAFailingProcessorBackOff) {
  uint64_t token = 1;
  for (int failures = 1; failures <= 3; ++failures) {
    health_.OnSent(token, now());
    EXPECT_FALSE(health_.Signals(now()).probe_ready);  // one probe at a time
    health_.OnFailure(token++, now());
    const int64_t wait = retry_.initial_backoff_ms << (failures - 1);
    Advance(wait - 1);
    EXPECT_FALSE(health_.Signals(now()).probe_ready) << failures;
    Advance(1);
    EXPECT_TRUE(health_.Signals(now()).probe_ready) << failures;
  }
}

}  // namespace
}  // namespace rinha::router
