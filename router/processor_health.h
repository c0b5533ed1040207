// What the router knows about one processor, merged from the health poll and from the outcomes of
// real payment calls. The most recent signal wins: a 500 marks the processor failing at once, a
// later 200 or a later poll saying "not failing" clears it. Latency is the most recent of the
// poll's minResponseTime and an observed payment latency, raised to the age of the oldest
// unanswered POST (a processor that just became slow is seen before its first slow answer) sent
// since it last came back from failing (a probe sent into the failure is no measure of now).
//
// Not thread-safe: used by the router's event-loop thread only. Times are monotonic ms (Clock::
// MonotonicMillis): a step of the wall clock must not change a latency or a backoff.
#pragma once

#include <cstdint>

#include "absl/container/btree_map.h"
#include "router/router_config.h"
#include "router/routing_policy.h"

namespace rinha::router {

class ProcessorHealth {
 public:
  ProcessorHealth(int fee_bp, const RoutingConfig& routing, const RetryConfig& retry)
      : fee_bp_(fee_bp), routing_(routing), retry_(retry) {}

  // A health poll answered.
  void OnPoll(int64_t now_ms, bool failing, int64_t min_response_ms);

  // A POST /payments was sent (token unique per request, increasing with time) / answered.
  void OnSent(uint64_t token, int64_t now_ms);
  // 200 or 422: the processor works. Ends the request `token`.
  void OnSuccess(uint64_t token, int64_t now_ms);
  // 500, 429, timeout, connection error. Ends the request `token`.
  void OnFailure(uint64_t token, int64_t now_ms);
  // The request `token` was never sent after all (its dispatch could not be journaled): forgets
  // it without a verdict on the processor.
  void OnCancelled(uint64_t token) { in_flight_.erase(token); }

  ProcessorSignals Signals(int64_t now_ms) const;
  int in_flight() const { return static_cast<int>(in_flight_.size()); }
  int fee_bp() const { return fee_bp_; }
  int consecutive_failures() const { return consecutive_failures_; }
  // When a failing processor may next be probed.
  int64_t next_probe_ms() const { return next_probe_ms_; }
  // The delay the last health poll reported (its minResponseTime; 0 before the first poll).
  int64_t polled_delay_ms() const { return polled_delay_ms_; }

 private:
  // Returns the request's latency and forgets it (0 if unknown).
  int64_t End(uint64_t token, int64_t now_ms);
  // Failing -> working: the requests out now no longer raise the latency.
  void OnRecovered();

  const int fee_bp_;
  const RoutingConfig routing_;
  const RetryConfig retry_;

  absl::btree_map<uint64_t, int64_t> in_flight_;  // token -> sent at

  bool failing_ = false;
  int64_t failing_at_ms_ = -1;  // when failing_ was last decided
  int64_t latency_ms_ = 0;
  int64_t latency_at_ms_ = -1;
  int64_t polled_delay_ms_ = 0;
  int consecutive_failures_ = 0;
  int64_t next_probe_ms_ = 0;
  // Requests with a lower token were out when the processor last came back (OnRecovered).
  uint64_t stale_below_token_ = 0;
};

}  // namespace rinha::router
