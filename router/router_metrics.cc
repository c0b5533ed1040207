#include "router/router_metrics.h"

#include <string>
#include <utility>

namespace rinha::router {
namespace {

constexpr const char* kCallNames[] = {"payment", "lookup", "health"};
constexpr const char* kOutcomeNames[] = {"2xx",
                                         "404",
                                         "422",
                                         "429",
                                         "4xx",
                                         "5xx",
                                         "other",
                                         "timeout",
                                         "connect_failed",
                                         "connection_lost"};

// 1 ms .. 10 s: a lookup takes about a millisecond, a payment up to its processor's delay, a
// health call up to 10 s when the processor queues it.
const metrics::HistogramBuckets kCallBuckets{
    {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
    metrics::kMicrosPerSecond};

std::string ProcessorLabel(int t) { return std::string(TargetName(static_cast<Target>(t))); }

}  // namespace

RouterMetrics::RouterMetrics(metrics::Registry& registry) : registry_(registry) {
  for (int t = 0; t < kTargets; ++t) {
    for (int c = 0; c < kCalls; ++c) {
      for (int o = 0; o < kOutcomes; ++o) {
        calls_[t][c][o] = &registry.AddCounter("rinha_router_processor_calls_total",
                                               "Outbound calls to the processors, by outcome.",
                                               {{"processor", ProcessorLabel(t)},
                                                {"call", kCallNames[c]},
                                                {"outcome", kOutcomeNames[o]}});
      }
      durations_[t][c] = &registry.AddHistogram(
          "rinha_router_processor_call_duration_seconds",
          "Outbound call latency, from the request's start to its end (any outcome).", kCallBuckets,
          {{"processor", ProcessorLabel(t)}, {"call", kCallNames[c]}});
    }
  }
}

RouterMetrics::Outcome RouterMetrics::Classify(const HttpOutcome& outcome) {
  switch (outcome.kind) {
    case HttpOutcome::Kind::kTimeout:
      return Outcome::kTimeout;
    case HttpOutcome::Kind::kConnectFailed:
      return Outcome::kConnectFailed;
    case HttpOutcome::Kind::kConnectionLost:
      return Outcome::kConnectionLost;
    case HttpOutcome::Kind::kResponse:
      break;
  }
  const int s = outcome.status;
  if (s >= 200 && s < 300) return Outcome::k2xx;
  if (s == 404) return Outcome::k404;
  if (s == 422) return Outcome::k422;
  if (s == 429) return Outcome::k429;
  if (s >= 400 && s < 500) return Outcome::k4xx;
  if (s >= 500 && s < 600) return Outcome::k5xx;
  return Outcome::kOther;
}

void RouterMetrics::OnCallDone(Target target, Call call, const HttpOutcome& outcome,
                               int64_t duration_ms) {
  const int t = static_cast<int>(target);
  const int c = static_cast<int>(call);
  calls_[t][c][static_cast<int>(Classify(outcome))]->Increment();
  durations_[t][c]->Observe(duration_ms * 1000);
}

void RouterMetrics::AddStateMetrics(const std::function<RouterCoreStats()>& stats,
                                    const LedgerClient* ledger, const Journal* journal) {
  metrics::Registry& r = registry_;
  auto read = [stats](auto field) {
    return [stats, field]() { return static_cast<double>(field(stats())); };
  };
  for (int i = 0; i < kPaymentStates; ++i) {
    const metrics::Labels state = {
        {"state", std::string(PaymentStateName(static_cast<PaymentState>(i)))}};
    r.AddCallbackGauge("rinha_router_payments", "Pending payments, by state.", state,
                       read([i](const RouterCoreStats& s) { return s.by_state[i].pending; }));
    r.AddCallbackGauge(
        "rinha_router_undecided_payments",
        "Pending payments older than --undecided_after_ms, by state (as of the last scan).", state,
        read([i](const RouterCoreStats& s) { return s.by_state[i].undecided; }));
    r.AddCallbackGauge("rinha_router_oldest_pending_age_seconds",
                       "Age of the oldest pending payment, by state (0: none).", state,
                       [stats, i]() { return stats().by_state[i].oldest_ms / 1000.0; });
  }
  for (int t = 0; t < kTargets; ++t) {
    const metrics::Labels p = {{"processor", ProcessorLabel(t)}};
    r.AddCallbackCounter("rinha_router_settled_total", "Payments settled, by processor.", p,
                         read([t](const RouterCoreStats& s) {
                           return t == 0 ? s.settled_default : s.settled_fallback;
                         }));
    r.AddCallbackCounter("rinha_router_lookups_total", "GET /payments/{id} lookups started.", p,
                         read([t](const RouterCoreStats& s) { return s.lookups_at[t]; }));
    r.AddCallbackGauge(
        "rinha_router_processor_failing", "1 while the router believes the processor fails.", p,
        read([t](const RouterCoreStats& s) { return s.signals[t].failing ? 1 : 0; }));
    r.AddCallbackGauge("rinha_router_processor_latency_seconds",
                       "The router's latency estimate of the processor (routing uses it).", p,
                       [stats, t]() { return stats().signals[t].latency_ms / 1000.0; });
    r.AddCallbackGauge("rinha_router_processor_polled_delay_seconds",
                       "The last health poll's minResponseTime.", p,
                       [stats, t]() { return stats().polled_delay_ms[t] / 1000.0; });
    r.AddCallbackGauge("rinha_router_processor_in_flight", "POSTs in flight at the processor.", p,
                       read([t](const RouterCoreStats& s) { return s.signals[t].in_flight; }));
  }
  r.AddCallbackGauge("rinha_router_lookups_waiting", "Lookups queued behind their bounds.", {},
                     read([](const RouterCoreStats& s) { return s.lookups_waiting; }));
  r.AddCallbackCounter("rinha_router_lookup_errors_total",
                       "Lookups without a clear answer (timeout, 5xx, 429, unusable 200).", {},
                       read([](const RouterCoreStats& s) { return s.lookup_errors; }));
  r.AddCallbackCounter("rinha_router_unreadable_echoes_total",
                       "Lookup 200s whose body could not be read.", {},
                       read([](const RouterCoreStats& s) { return s.unreadable_echoes; }));
  r.AddCallbackCounter("rinha_router_echo_mismatches_total",
                       "Lookup 200s whose requestedAt differs from the one sent.", {},
                       read([](const RouterCoreStats& s) { return s.echo_mismatches; }));
  r.AddCallbackGauge("rinha_router_waiting_for_cheaper",
                     "Free payments held for the cheaper processor while it fails.", {},
                     read([](const RouterCoreStats& s) { return s.waiting_for_cheaper; }));
  r.AddCallbackCounter("rinha_router_waited_then_cheaper_total",
                       "Payments sent to the cheaper processor after waiting for it.", {},
                       read([](const RouterCoreStats& s) { return s.waited_then_cheaper; }));
  r.AddCallbackCounter("rinha_router_wait_expired_total",
                       "Payments sent to the dearer processor after waiting --default_wait_ms.", {},
                       read([](const RouterCoreStats& s) { return s.wait_expired; }));
  r.AddCallbackCounter("rinha_router_released_on_stop_total",
                       "Waiting payments sent to the dearer processor because the load stopped.",
                       {}, read([](const RouterCoreStats& s) { return s.released_on_stop; }));
  r.AddCallbackCounter("rinha_router_undecided_payments_total",
                       "Payments that were pending longer than --undecided_after_ms.", {},
                       read([](const RouterCoreStats& s) { return s.undecided_total; }));
  r.AddCallbackGauge("rinha_router_recovering_payments",
                     "Payments taken over from an earlier run, still being resolved.", {},
                     read([](const RouterCoreStats& s) { return s.recovering; }));
  r.AddCallbackCounter("rinha_router_recovered_payments_total",
                       "Payments taken over from an earlier run.", {},
                       read([](const RouterCoreStats& s) { return s.recovered_total; }));
  r.AddCallbackCounter("rinha_router_double_payments_detected_total",
                       "Payments found held by both processors.", {},
                       read([](const RouterCoreStats& s) { return s.double_payments_detected; }));
  r.AddCallbackCounter("rinha_router_dispatch_journal_errors_total",
                       "POSTs held back because the journal could not record them.", {},
                       read([](const RouterCoreStats& s) { return s.dispatch_journal_errors; }));
  if (journal != nullptr) {
    r.AddCallbackGauge("rinha_router_journal_live_records", "Journal records not yet released.", {},
                       [journal]() { return static_cast<double>(journal->stats().live); });
    r.AddCallbackGauge("rinha_router_journal_segments", "Journal segment files on disk.", {},
                       [journal]() { return static_cast<double>(journal->stats().segments); });
  }
  if (ledger != nullptr) {
    r.AddCallbackGauge("rinha_router_ledger_unacknowledged",
                       "Settlements the ledger has not acknowledged yet.", {},
                       [ledger]() { return static_cast<double>(ledger->unacknowledged()); });
    r.AddCallbackCounter("rinha_router_ledger_acknowledged_total",
                         "Settlements the ledger acknowledged.", {},
                         [ledger]() { return static_cast<double>(ledger->acknowledged()); });
  }
}

}  // namespace rinha::router
