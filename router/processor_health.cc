#include "router/processor_health.h"

#include <algorithm>

#include "router/retry_backoff.h"

namespace rinha::router {

void ProcessorHealth::OnRecovered() {
  // POSTs still out were sent during the bad time (probes): their age says nothing of now.
  if (!in_flight_.empty()) stale_below_token_ = in_flight_.rbegin()->first + 1;
}

void ProcessorHealth::OnPoll(int64_t now_ms, bool failing, int64_t min_response_ms) {
  polled_delay_ms_ = min_response_ms;
  if (now_ms >= failing_at_ms_) {
    if (failing_ && !failing) OnRecovered();
    failing_ = failing;
    failing_at_ms_ = now_ms;
    if (!failing) {
      consecutive_failures_ = 0;
      next_probe_ms_ = 0;
    }
  }
  if (now_ms >= latency_at_ms_) {
    latency_ms_ = min_response_ms;
    latency_at_ms_ = now_ms;
  }
}

void ProcessorHealth::OnSent(uint64_t token, int64_t now_ms) { in_flight_[token] = now_ms; }

int64_t ProcessorHealth::End(uint64_t token, int64_t now_ms) {
  auto it = in_flight_.find(token);
  if (it == in_flight_.end()) return 0;
  const int64_t latency = std::max<int64_t>(0, now_ms - it->second);
  in_flight_.erase(it);
  return latency;
}

void ProcessorHealth::OnSuccess(uint64_t token, int64_t now_ms) {
  const int64_t latency = End(token, now_ms);
  // The first success after failures is a probe sent while the processor was failing: its
  // latency is that of the bad time (final: a probe sent at 148 s into a 5000 ms delay answers at
  // 153 s). A processor that has come back is presumed fast until its answers, or the age of its
  // oldest unanswered POST (Signals), say otherwise; at most max_in_flight payments find out.
  // Likewise a success that answers a request sent before the processor last came back (its poll
  // said so first): it says the processor works, not how fast it is now.
  const bool stale = token < stale_below_token_;
  const bool recovered = failing_;
  if (recovered) OnRecovered();
  failing_ = false;
  failing_at_ms_ = now_ms;
  if (!stale) {
    latency_ms_ = recovered ? 0 : latency;
    latency_at_ms_ = now_ms;
  }
  consecutive_failures_ = 0;
  next_probe_ms_ = 0;
}

void ProcessorHealth::OnFailure(uint64_t token, int64_t now_ms) {
  const int64_t latency = End(token, now_ms);
  failing_ = true;
  failing_at_ms_ = now_ms;
  latency_ms_ = latency;
  latency_at_ms_ = now_ms;
  ++consecutive_failures_;
  next_probe_ms_ = now_ms + RetryDelayMs(retry_, consecutive_failures_);
}

ProcessorSignals ProcessorHealth::Signals(int64_t now_ms) const {
  ProcessorSignals s;
  s.failing = failing_;
  s.latency_ms = latency_ms_;
  // Raised to the age of the oldest POST out, of those sent since the processor last came back.
  if (auto oldest = in_flight_.lower_bound(stale_below_token_); oldest != in_flight_.end()) {
    s.latency_ms = std::max(s.latency_ms, now_ms - oldest->second);
  }
  s.in_flight = in_flight();
  s.fee_bp = fee_bp_;
  s.probe_ready = in_flight() < routing_.probe_in_flight && now_ms >= next_probe_ms_;
  return s;
}

}  // namespace rinha::router
