// The router's Prometheus metrics (docs/operations.md lists them): outbound calls by processor,
// kind and outcome with their latency, heard from the core as they end (CallObserver, on the
// loop thread: counter increments only); everything else is read at scrape time from the
// dispatcher's stats snapshot, the journal and the ledger client.
#pragma once

#include <array>
#include <functional>

#include "common/journal.h"
#include "common/metrics.h"
#include "router/ledger_client.h"
#include "router/router_core.h"

namespace rinha::router {

class RouterMetrics final : public CallObserver {
 public:
  // Registers the call families in `registry` (which must outlive this).
  explicit RouterMetrics(metrics::Registry& registry);

  // Registers the families read at scrape time. `stats` returns a snapshot (any thread); `ledger`
  // and `journal` (may be null) must outlive the registry's last Render.
  void AddStateMetrics(const std::function<RouterCoreStats()>& stats, const LedgerClient* ledger,
                       const Journal* journal);

  // Loop thread.
  void OnCallDone(Target target, Call call, const HttpOutcome& outcome,
                  int64_t duration_ms) override;

  // The outcome label of an ended call.
  enum class Outcome {
    k2xx,
    k404,
    k422,
    k429,
    k4xx,
    k5xx,
    kOther,
    kTimeout,
    kConnectFailed,
    kConnectionLost
  };
  static constexpr int kOutcomes = 10;
  static Outcome Classify(const HttpOutcome& outcome);

 private:
  static constexpr int kCalls = 3;
  metrics::Registry& registry_;
  // [target][call][outcome]
  std::array<std::array<std::array<metrics::Counter*, kOutcomes>, kCalls>, kTargets> calls_{};
  std::array<std::array<metrics::Histogram*, kCalls>, kTargets> durations_{};
};

}  // namespace rinha::router
