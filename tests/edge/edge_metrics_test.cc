// EdgeMetrics: route labels, the children created at setup, and codes nobody expected.
#include "edge/edge_metrics.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::edge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Route = EdgeMetrics::Route;

TEST(EdgeMetricsTest, RouteOfNamesTheApisPathsAndOtherForTheRest) {
  EXPECT_EQ(EdgeMetrics::RouteOf("/payments"), Route::kPayments);
  EXPECT_EQ(EdgeMetrics::RouteOf("/payments/4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3"),
            Route::kPaymentStatus);
  EXPECT_EQ(EdgeMetrics::RouteOf("/payments/x/y"), Route::kPaymentStatus);
  EXPECT_EQ(EdgeMetrics::RouteOf("/payments-summary"), Route::kSummary);
  EXPECT_EQ(EdgeMetrics::RouteOf("/purge-payments"), Route::kPurge);
  for (const char* path : {"", "/", "/payments/", "/paymentsx", "/metrics", "/purge"}) {
    EXPECT_EQ(EdgeMetrics::RouteOf(path), Route::kOther) << path;
  }
  EXPECT_EQ(EdgeMetrics::RouteLabel(Route::kPaymentStatus), "/payments/{id}");
  EXPECT_EQ(EdgeMetrics::RouteLabel(Route::kOther), "other");
}

TEST(EdgeMetricsTest, EachRoutesExpectedCodesExistFromTheStartAtZero) {
  metrics::Registry registry;
  EdgeMetrics edge(registry);
  const std::string text = registry.Render();
  for (const char* line : {
           R"(rinha_edge_http_requests_total{route="/payments",status="202"} 0)",
           R"(rinha_edge_http_requests_total{route="/payments",status="413"} 0)",
           R"(rinha_edge_http_requests_total{route="/payments/{id}",status="404"} 0)",
           R"(rinha_edge_http_requests_total{route="/purge-payments",status="503"} 0)",
           R"(rinha_edge_http_request_duration_seconds_count{route="other"} 0)",
       }) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  EXPECT_THAT(text, Not(HasSubstr(R"(route="/payments",status="200")")));
}

TEST(EdgeMetricsTest, AnAnswerIsCountedAndTimedUnlessNoHandlerRan) {
  metrics::Registry registry;
  EdgeMetrics edge(registry);
  edge.OnAnswered(Route::kPayments, 202, 150);
  edge.OnAnswered(Route::kPayments, 202, 90);
  edge.OnAnswered(Route::kPayments, 400, -1);  // unreadable: counted, not timed
  const std::string text = registry.Render();
  EXPECT_THAT(text,
              HasSubstr("rinha_edge_http_requests_total{route=\"/payments\",status=\"202\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("rinha_edge_http_requests_total{route=\"/payments\",status=\"400\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("rinha_edge_http_request_duration_seconds_count{route=\"/payments\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("rinha_edge_http_request_duration_seconds_bucket{route=\"/"
                              "payments\",le=\"0.0001\"} 1\n"));
}

TEST(EdgeMetricsTest, AnUnexpectedCodeGetsItsChildOnFirstUse) {
  metrics::Registry registry;
  EdgeMetrics edge(registry);
  edge.OnAnswered(Route::kPayments, 500, 10);  // a slot, not created at setup
  edge.OnAnswered(Route::kPayments, 500, 10);
  edge.OnAnswered(Route::kOther, 418, 10);  // no slot at all
  edge.OnAnswered(Route::kOther, 418, 10);
  const std::string text = registry.Render();
  EXPECT_THAT(text,
              HasSubstr("rinha_edge_http_requests_total{route=\"/payments\",status=\"500\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("rinha_edge_http_requests_total{route=\"other\",status=\"418\"} 2\n"));
}

TEST(EdgeMetricsTest, StateFamiliesReadTheSnapshotAtEachRender) {
  metrics::Registry registry;
  EdgeMetrics edge(registry);
  EdgeState state;
  edge.AddStateMetrics([&state]() { return state; });
  state.busy_threads = 3;
  state.refused_queue_full = 7;
  state.router_stream_up = true;
  state.journal_written_bytes = 1234;
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("rinha_edge_http_busy_threads 3\n"));
  EXPECT_THAT(text, HasSubstr("rinha_edge_payments_refused_total{reason=\"queue_full\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("rinha_edge_payments_refused_total{reason=\"journal\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("rinha_edge_router_stream_up 1\n"));
  EXPECT_THAT(text, HasSubstr("rinha_edge_journal_written_bytes_total 1234\n"));
  state.router_stream_up = false;
  text = registry.Render();
  EXPECT_THAT(text, HasSubstr("rinha_edge_router_stream_up 0\n"));
}

}  // namespace
}  // namespace rinha::edge
