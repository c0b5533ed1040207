// Rate limit of GET /payments/service-health, per processor: at most one call per interval and
// never a call while the previous one is unanswered (the processor queues excess calls for 5-10 s;
// a second call would only queue behind the first). Pure bookkeeping: the caller owns the timer
// and the HTTP call, so a 429 or a slow answer never blocks anything.
//
// Not thread-safe: used by the router's event-loop thread only. Times are monotonic ms.
#pragma once

#include <cstdint>

namespace rinha::router {

class HealthPollGate {
 public:
  explicit HealthPollGate(int64_t min_interval_ms) : min_interval_ms_(min_interval_ms) {}

  bool MayStart(int64_t now_ms) const {
    return !outstanding_ && (!started_ever_ || now_ms >= last_start_ms_ + min_interval_ms_);
  }
  // Earliest time a call may start, assuming the outstanding one (if any) ends now.
  int64_t NextStartMs() const { return started_ever_ ? last_start_ms_ + min_interval_ms_ : 0; }
  void OnStart(int64_t now_ms) {
    outstanding_ = true;
    started_ever_ = true;
    last_start_ms_ = now_ms;
  }
  // Any outcome: answer, 429, timeout, connection error.
  void OnFinish() { outstanding_ = false; }
  bool outstanding() const { return outstanding_; }

 private:
  const int64_t min_interval_ms_;
  bool outstanding_ = false;
  bool started_ever_ = false;
  int64_t last_start_ms_ = 0;
};

}  // namespace rinha::router
