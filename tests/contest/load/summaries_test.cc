#include "contest/load/summaries.h"

#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

TEST(ParseBackendSummaryTest, ReadsBothBuckets) {
  absl::StatusOr<BackendSummary> s =
      ParseBackendSummary(R"({"default":{"totalRequests":43236,"totalAmount":415542345.98},)"
                          R"("fallback":{"totalRequests":423545,"totalAmount":329347.34}})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->default_requests, 43236);
  EXPECT_EQ(s->default_amount_cents, 41554234598);
  EXPECT_EQ(s->fallback_requests, 423545);
  EXPECT_EQ(s->fallback_amount_cents, 32934734);
}

TEST(ParseBackendSummaryTest, RejectsMissingBucketsAndBadJson) {
  EXPECT_FALSE(ParseBackendSummary(R"({"default":{"totalRequests":1,"totalAmount":1}})").ok());
  EXPECT_FALSE(ParseBackendSummary("{").ok());
  EXPECT_FALSE(
      ParseBackendSummary(R"({"default":{"totalRequests":1.5,"totalAmount":1},"fallback":{}})")
          .ok());
}

TEST(ParseProcessorSummaryTest, ReadsTotalsAndFeeRate) {
  absl::StatusOr<ProcessorTotals> t = ParseProcessorSummary(
      R"({"totalAmount":100.25,"totalRequests":5,"totalFee":7.0175,"feePerTransaction":0.07})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->requests, 5);
  EXPECT_EQ(t->amount_cents, 10025);
  EXPECT_EQ(t->rate_units, 7);
  EXPECT_EQ(t->rate_scale, 2);
  EXPECT_FALSE(ParseProcessorSummary(R"({"totalAmount":1})").ok());
  EXPECT_FALSE(ParseProcessorSummary(R"({"totalRequests":1,"feePerTransaction":"x"})").ok());
}

TEST(AuditInconsistenciesTest, SumsAbsoluteDifferencesOfCounts) {
  BackendSummary ours;
  ours.default_requests = 10;
  ours.fallback_requests = 3;
  ProcessorTotals def, fb;
  def.requests = 10;
  fb.requests = 3;
  EXPECT_EQ(AuditInconsistencies(ours, def, fb), 0);
  def.requests = 12;  // processor holds two we do not report
  fb.requests = 1;    // we report two it does not hold
  EXPECT_EQ(AuditInconsistencies(ours, def, fb), 4);
  // A failed summary reads as zeros: everything the other side has counts.
  EXPECT_EQ(AuditInconsistencies(BackendSummary{}, def, fb), 13);
}

}  // namespace
}  // namespace rinha::contest
