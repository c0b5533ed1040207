#include "edge/edge_metrics.h"

#include <string>
#include <utility>
#include <vector>

namespace rinha::edge {
namespace {

constexpr char kRequestsName[] = "rinha_edge_http_requests_total";
constexpr char kRequestsHelp[] = "HTTP requests answered, by route and status code.";

// 100 us .. 2.5 s: a POST /payments is answered in tens of microseconds; a summary or a status
// waits for the ledger (up to its deadline, 1.2 s).
const metrics::HistogramBuckets kDurationBuckets{
    {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
    metrics::kMicrosPerSecond};

}  // namespace

EdgeMetrics::Route EdgeMetrics::RouteOf(std::string_view path) {
  constexpr std::string_view kPayments = "/payments";
  if (path == kPayments) return Route::kPayments;
  if (path.size() > kPayments.size() + 1 && path.substr(0, kPayments.size() + 1) == "/payments/") {
    return Route::kPaymentStatus;
  }
  if (path == "/payments-summary") return Route::kSummary;
  if (path == "/purge-payments") return Route::kPurge;
  return Route::kOther;
}

std::string_view EdgeMetrics::RouteLabel(Route route) {
  switch (route) {
    case Route::kPayments:
      return "/payments";
    case Route::kPaymentStatus:
      return "/payments/{id}";
    case Route::kSummary:
      return "/payments-summary";
    case Route::kPurge:
      return "/purge-payments";
    case Route::kOther:
      break;
  }
  return "other";
}

int EdgeMetrics::SlotOf(int status) {
  for (size_t i = 0; i < kCodes.size(); ++i) {
    if (kCodes[i] == status) return static_cast<int>(i);
  }
  return -1;
}

EdgeMetrics::EdgeMetrics(metrics::Registry& registry) : registry_(registry) {
  // What each route answers (edge_server.cc); a series exists from the start, at 0.
  const std::pair<Route, std::vector<int>> expected[] = {
      {Route::kPayments, {202, 400, 405, 413, 422, 503}},
      {Route::kPaymentStatus, {200, 400, 404, 405, 503}},
      {Route::kSummary, {200, 400, 405, 503}},
      {Route::kPurge, {200, 405, 503}},
      {Route::kOther, {200, 400, 404, 405}},
  };
  for (const auto& [route, codes] : expected) {
    for (int code : codes) CounterFor(route, code);
  }
  for (int r = 0; r < kRoutes; ++r) {
    durations_[r] = &registry.AddHistogram(
        "rinha_edge_http_request_duration_seconds",
        "From the request read whole to the answer written to the socket, by route.",
        kDurationBuckets, {{"route", std::string(RouteLabel(static_cast<Route>(r)))}});
  }
}

metrics::Counter& EdgeMetrics::CounterFor(Route route, int status) {
  const metrics::Labels labels = {{"route", std::string(RouteLabel(route))},
                                  {"status", std::to_string(status)}};
  const int slot = SlotOf(status);
  if (slot < 0) return registry_.AddCounter(kRequestsName, kRequestsHelp, labels);
  std::atomic<metrics::Counter*>& cell = requests_[static_cast<int>(route)][slot];
  // Racing first uses get the same child from the registry; either store is right.
  metrics::Counter* counter = &registry_.AddCounter(kRequestsName, kRequestsHelp, labels);
  cell.store(counter, std::memory_order_release);
  return *counter;
}

void EdgeMetrics::OnAnswered(Route route, int status, int64_t duration_us) {
  const int r = static_cast<int>(route);
  const int slot = SlotOf(status);
  metrics::Counter* counter =
      slot < 0 ? nullptr : requests_[r][slot].load(std::memory_order_acquire);
  if (counter == nullptr) counter = &CounterFor(route, status);
  counter->Increment();
  if (duration_us >= 0) durations_[r]->Observe(duration_us);
}

void EdgeMetrics::AddStateMetrics(const std::function<EdgeState()>& read) {
  metrics::Registry& r = registry_;
  auto field = [read](auto member) {
    return [read, member]() { return static_cast<double>(read().*member); };
  };
  r.AddCallbackGauge("rinha_edge_http_busy_threads", "Connections being served now.", {},
                     field(&EdgeState::busy_threads));
  r.AddCallbackCounter("rinha_edge_http_refused_connections_total",
                       "Connections answered 503 at once, beyond the edge's threads.", {},
                       field(&EdgeState::refused_connections));
  r.AddCallbackCounter("rinha_edge_http_request_timeouts_total",
                       "Requests cut off by the request deadline.", {},
                       field(&EdgeState::request_timeouts));
  constexpr char kRefusedHelp[] = "POST /payments answered 503 (nothing accepted), by reason.";
  r.AddCallbackCounter("rinha_edge_payments_refused_total", kRefusedHelp,
                       {{"reason", "queue_full"}}, field(&EdgeState::refused_queue_full));
  r.AddCallbackCounter("rinha_edge_payments_refused_total", kRefusedHelp, {{"reason", "journal"}},
                       field(&EdgeState::refused_journal));
  r.AddCallbackGauge("rinha_edge_unacknowledged_payments",
                     "Payments accepted and not yet acknowledged by the router.", {},
                     field(&EdgeState::unacknowledged));
  r.AddCallbackGauge("rinha_edge_journal_live_records",
                     "Journal records not yet released (the router has not acknowledged them).", {},
                     field(&EdgeState::journal_live));
  r.AddCallbackGauge("rinha_edge_journal_segments", "Journal segment files on disk.", {},
                     field(&EdgeState::journal_segments));
  r.AddCallbackCounter("rinha_edge_journal_written_bytes_total", "Bytes appended to the journal.",
                       {}, field(&EdgeState::journal_written_bytes));
  r.AddCallbackGauge("rinha_edge_router_stream_up",
                     "1 while the stream to the router is open on a connected channel.", {},
                     [read]() { return read().router_stream_up ? 1.0 : 0.0; });
  r.AddCallbackCounter("rinha_edge_router_stream_opened_total",
                       "Streams to the router opened (each reconnection attempt counts).", {},
                       field(&EdgeState::router_streams_opened));
}

}  // namespace rinha::edge
