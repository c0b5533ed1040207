// The edge's Prometheus metrics (docs/operations.md lists them): requests by route and status
// with their latency, counted as each answer is written (an HTTP thread: counter increments and
// one histogram observation on children created at setup), and the values other components own
// (HTTP front, router stream, journal), read from a snapshot at scrape time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

#include "common/metrics.h"

namespace rinha::edge {

// What the scrape reads from the components that own it (EdgeServer assembles it).
struct EdgeState {
  int64_t busy_threads = 0;
  int64_t refused_connections = 0;
  int64_t request_timeouts = 0;
  int64_t unacknowledged = 0;  // accepted, not yet acknowledged by the router
  int64_t refused_queue_full = 0;
  int64_t refused_journal = 0;
  int64_t journal_live = 0;
  int64_t journal_segments = 0;
  int64_t journal_written_bytes = 0;
  bool router_stream_up = false;
  int64_t router_streams_opened = 0;
};

class EdgeMetrics {
 public:
  // The route label: the API's paths, and "other" for anything else (/metrics included).
  enum class Route { kPayments, kPaymentStatus, kSummary, kPurge, kOther };
  static constexpr int kRoutes = 5;
  static Route RouteOf(std::string_view path);
  static std::string_view RouteLabel(Route route);

  // Registers the request families in `registry` (which must outlive this), with a child for
  // each status code each route answers.
  explicit EdgeMetrics(metrics::Registry& registry);
  EdgeMetrics(const EdgeMetrics&) = delete;
  EdgeMetrics& operator=(const EdgeMetrics&) = delete;

  // Any thread, once an answer is written. `duration_us` < 0: not observed (a request that
  // never reached a handler: unreadable, too large). A status code no route was expected to
  // answer gets its child on first use, under the registry's lock.
  void OnAnswered(Route route, int status, int64_t duration_us);

  // Registers the families read at scrape time; `read` runs on the scraping thread (any thread)
  // once per family and must outlive the registry's last Render.
  void AddStateMetrics(const std::function<EdgeState()>& read);

 private:
  // The status codes with a slot; others are looked up in the registry each time.
  static constexpr std::array<int, 11> kCodes = {200, 202, 400, 404, 405, 408,
                                                 413, 414, 422, 500, 503};
  static int SlotOf(int status);
  metrics::Counter& CounterFor(Route route, int status);

  metrics::Registry& registry_;
  // [route][slot]: set at setup for the expected pairs, on first use for the rest.
  std::array<std::array<std::atomic<metrics::Counter*>, kCodes.size()>, kRoutes> requests_{};
  std::array<metrics::Histogram*, kRoutes> durations_{};
};

}  // namespace rinha::edge
