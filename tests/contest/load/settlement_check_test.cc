// The fate of every payment, from a request log and what processors and ledger hold.
#include "contest/load/settlement_check.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

std::string Id(int n) {
  std::string id = "00000000-0000-4000-8000-000000000000";
  const std::string digits = std::to_string(n);
  id.replace(id.size() - digits.size(), digits.size(), digits);
  return id;
}

LoggedRequest Req(int n, int status, int64_t start_us = 0, int64_t latency_us = 1000) {
  return LoggedRequest{start_us, latency_us, status, Id(n)};
}

TEST(SettlementCheckTest, EverythingAnsweredPaidOnceAndRecordedIsExact) {
  const std::vector<LoggedRequest> requests = {Req(1, 202), Req(2, 202)};
  Holdings h;
  h.at_default = {Id(1)};
  h.at_fallback = {Id(2)};
  h.Record(Id(1), LedgerProcessor::kDefault);
  h.Record(Id(2), LedgerProcessor::kFallback);
  const SettlementCheck c = CheckSettlements(requests, h);
  EXPECT_TRUE(c.exact());
  EXPECT_EQ(c.answered_2xx, 2);
  EXPECT_EQ(c.settled, 2);
  EXPECT_TRUE(c.examples.empty());
}

TEST(SettlementCheckTest, CountsEachWayOfGoingWrong) {
  const std::vector<LoggedRequest> requests = {
      Req(1, 202),  // lost: nowhere
      Req(2, 202),  // paid twice
      Req(3, 202),  // paid, not in the ledger
      Req(4, 202),  // paid at default, recorded as fallback
      Req(5, -1),   // client timed out, paid anyway
      Req(6, 503),  // refused and not paid: fine
  };
  Holdings h;
  h.at_default = {Id(2), Id(3), Id(4), Id(5), Id(9)};
  h.at_fallback = {Id(2)};
  h.Record(Id(2), LedgerProcessor::kDefault);  // the fallback's payment unrecorded
  h.Record(Id(4), LedgerProcessor::kFallback);
  h.Record(Id(5), LedgerProcessor::kDefault);
  h.Record(Id(9), LedgerProcessor::kDefault);
  h.Record(Id(7), LedgerProcessor::kDefault);  // recorded, held by nobody
  const SettlementCheck c = CheckSettlements(requests, h);
  EXPECT_FALSE(c.exact());
  EXPECT_EQ(c.answered_2xx, 4);
  EXPECT_EQ(c.lost, 1);
  EXPECT_EQ(c.paid_twice, 1);
  EXPECT_EQ(c.paid_twice_recorded, 0);
  EXPECT_EQ(c.unrecorded, 3);
  EXPECT_EQ(c.recorded_unpaid, 2);  // 7, and 4's row under the fallback
  EXPECT_EQ(c.paid_client_failed, 1);
  EXPECT_EQ(c.foreign, 1);
  EXPECT_FALSE(c.examples.empty());
}

TEST(SettlementCheckTest, ADetectedDoublePaymentHasARowUnderEachProcessor) {
  const std::vector<LoggedRequest> requests = {Req(1, 202), Req(2, 202)};
  Holdings h;
  h.at_default = {Id(1), Id(2)};
  h.at_fallback = {Id(1), Id(2)};
  h.Record(Id(1), LedgerProcessor::kDefault);
  h.Record(Id(1), LedgerProcessor::kFallback);  // the second row, flagged double_payment
  h.Record(Id(2), LedgerProcessor::kFallback);  // only one of the two payments recorded
  const SettlementCheck c = CheckSettlements(requests, h);
  EXPECT_EQ(c.paid_twice, 2);
  EXPECT_EQ(c.paid_twice_recorded, 1);
  EXPECT_EQ(c.unrecorded, 1);
  EXPECT_EQ(c.recorded_unpaid, 0);
  EXPECT_FALSE(c.exact());  // paid twice is never exact, detected or not
}

TEST(SettlementCheckTest, ARowUnderTheWrongProcessorIsUnrecordedAndUnpaid) {
  Holdings h;
  h.at_default = {Id(1)};
  h.Record(Id(1), LedgerProcessor::kFallback);
  const SettlementCheck c = CheckSettlements({Req(1, 202)}, h);
  EXPECT_EQ(c.unrecorded, 1);
  EXPECT_EQ(c.recorded_unpaid, 1);
}

TEST(SettlementCheckTest, ParsesTheProcessorsIdsWithAndWithoutInsertTimes) {
  auto held = ParseProcessorIds(R"([{"correlationId":")" + Id(1) +
                                R"(","insertedAtMs":1752582896123},)" + R"({"correlationId":")" +
                                Id(2) + R"(","insertedAtMs":1752582897000,"extra":true}])");
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(held->size(), 2u);
  EXPECT_EQ((*held)[0].id, Id(1));
  EXPECT_EQ((*held)[0].inserted_at_ms, 1752582896123);
  EXPECT_EQ((*held)[1].inserted_at_ms, 1752582897000);

  // The plain array of an emulator without the times: held, times unknown.
  held = ParseProcessorIds(R"([")" + Id(3) + R"("])");
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].id, Id(3));
  EXPECT_EQ((*held)[0].inserted_at_ms, 0);
  // A time that is missing or not a positive integer leaves the payment held, time unknown.
  held = ParseProcessorIds(R"([{"correlationId":")" + Id(4) + R"("},{"correlationId":")" + Id(5) +
                           R"(","insertedAtMs":"soon"},{"correlationId":")" + Id(6) +
                           R"(","insertedAtMs":1.5}])");
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(held->size(), 3u);
  for (const HeldPayment& h : *held) EXPECT_EQ(h.inserted_at_ms, 0) << h.id;
  EXPECT_TRUE(ParseProcessorIds("[]").ok());

  EXPECT_FALSE(ParseProcessorIds(R"({"correlationId":"x"})").ok());
  EXPECT_FALSE(ParseProcessorIds(R"([{"insertedAtMs":1}])").ok());
  EXPECT_FALSE(ParseProcessorIds("[1]").ok());
  EXPECT_FALSE(ParseProcessorIds("[").ok());
}

TEST(RecordLagTest, IsRecordedMinusInsertedPerPaymentHeldAndRecorded) {
  Holdings h;
  constexpr int64_t kT = 1'752'582'896'000;
  // 100 payments at default recorded 10..109 ms after their insert.
  for (int i = 0; i < 100; ++i) {
    h.Hold(Id(i), LedgerProcessor::kDefault, kT + i);
    h.Record(Id(i), LedgerProcessor::kDefault, kT + i + 10 + i);
  }
  h.Hold(Id(200), LedgerProcessor::kFallback, kT);  // never recorded: no sample
  h.Hold(Id(201), LedgerProcessor::kFallback);      // no insert time: no sample
  h.Record(Id(201), LedgerProcessor::kFallback, kT + 50'000);
  h.Hold(Id(202), LedgerProcessor::kFallback, kT);  // recorded before recorded_at existed
  h.Record(Id(202), LedgerProcessor::kFallback, 0);
  h.Hold(Id(203), LedgerProcessor::kFallback, kT);  // recorded under the other processor only
  h.Record(Id(203), LedgerProcessor::kDefault, kT + 60'000);

  const RecordLag lag = MeasureRecordLag(h, std::nullopt);
  EXPECT_EQ(lag.samples, 100);
  EXPECT_EQ(lag.p50_ms, 60);   // 59.5 rounded
  EXPECT_EQ(lag.p99_ms, 108);  // 108.01 rounded
  EXPECT_EQ(lag.max_ms, 109);
  EXPECT_FALSE(lag.has_ready);
  EXPECT_EQ(lag.held_at_ready, 0);
}

TEST(RecordLagTest, ADoublePaymentIsTwoSamplesOneAtEachProcessor) {
  Holdings h;
  h.Hold(Id(1), LedgerProcessor::kDefault, 1000);
  h.Hold(Id(1), LedgerProcessor::kFallback, 2000);
  h.Record(Id(1), LedgerProcessor::kFallback, 2005);
  h.Record(Id(1), LedgerProcessor::kDefault, 13'000);  // detected after the insert window
  const RecordLag lag = MeasureRecordLag(h, std::nullopt);
  EXPECT_EQ(lag.samples, 2);
  EXPECT_EQ(lag.max_ms, 12'000);
}

TEST(RecordLagTest, WithAReadyTimeMeasuresHowLongAfterItTheLedgerCaughtUp) {
  Holdings h;
  constexpr int64_t kReady = 1'752'582'900'000;
  h.Hold(Id(1), LedgerProcessor::kDefault, kReady - 30'000);  // recorded long before: 0 after
  h.Record(Id(1), LedgerProcessor::kDefault, kReady - 29'990);
  h.Hold(Id(2), LedgerProcessor::kDefault, kReady - 500);  // held while the router was down
  h.Record(Id(2), LedgerProcessor::kDefault, kReady + 1'250);
  h.Hold(Id(3), LedgerProcessor::kFallback, kReady);  // at ready counts as held at ready
  h.Record(Id(3), LedgerProcessor::kFallback, kReady + 700);
  h.Hold(Id(4), LedgerProcessor::kFallback, kReady - 100);  // never recorded
  h.Hold(Id(5), LedgerProcessor::kDefault, kReady + 1);     // inserted after ready: not counted
  h.Record(Id(5), LedgerProcessor::kDefault, kReady + 9'000);
  h.Hold(Id(6), LedgerProcessor::kDefault);  // insert time unknown: not counted
  h.Record(Id(6), LedgerProcessor::kDefault, kReady + 20'000);

  const RecordLag lag = MeasureRecordLag(h, kReady);
  EXPECT_TRUE(lag.has_ready);
  EXPECT_EQ(lag.held_at_ready, 4);
  EXPECT_EQ(lag.held_at_ready_unrecorded, 1);
  EXPECT_EQ(lag.recorded_after_ready_max_ms, 1'250);
  EXPECT_EQ(lag.max_ms, 8'999);  // the lag itself is over every sample

  // Everything recorded before ready: caught up at once.
  Holdings early;
  early.Hold(Id(1), LedgerProcessor::kDefault, kReady - 3'000);
  early.Record(Id(1), LedgerProcessor::kDefault, kReady - 2'000);
  EXPECT_EQ(MeasureRecordLag(early, kReady).recorded_after_ready_max_ms, 0);
  EXPECT_EQ(MeasureRecordLag(early, kReady).held_at_ready, 1);
}

TEST(SettlementCheckTest, P99CountsOnlySuccessesThatStartedInTheWindow) {
  std::vector<LoggedRequest> requests;
  for (int i = 0; i < 100; ++i) requests.push_back(Req(i, 202, /*start_us=*/i * 1000, 1000));
  for (int i = 0; i < 5; ++i) requests.push_back(Req(100 + i, 202, 50'000, 900'000));  // inside
  requests.push_back(Req(200, -1, 50'000, 0));            // failed: not a sample
  requests.push_back(Req(201, 202, 200'000, 5'000'000));  // slow, outside
  int64_t n = 0;
  EXPECT_DOUBLE_EQ(P99InWindowMs(requests, 0, 100'000, &n), 900.0);
  EXPECT_EQ(n, 105);
  EXPECT_EQ(P99InWindowMs(requests, 300'000, 400'000, &n), 0);
  EXPECT_EQ(n, 0);
}

TEST(SettlementCheckTest, ParsesTheRequestLogAndRejectsGarbage) {
  auto log = ParseRequestLog("12 345 202 " + Id(1) + "\n99 0 -1 " + Id(2) + "\n");
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].start_us, 12);
  EXPECT_EQ((*log)[0].latency_us, 345);
  EXPECT_TRUE((*log)[0].ok());
  EXPECT_EQ((*log)[1].status, -1);
  EXPECT_FALSE((*log)[1].ok());
  EXPECT_FALSE(ParseRequestLog("12 345 202 short-id\n").ok());
  EXPECT_FALSE(ParseRequestLog("12 x 202 " + Id(1) + "\n").ok());
  EXPECT_FALSE(ParseRequestLog("12 345 " + Id(1) + "\n").ok());
}

}  // namespace
}  // namespace rinha::contest
