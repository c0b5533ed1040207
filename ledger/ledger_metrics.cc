#include "ledger/ledger_metrics.h"

#include <cstdint>

namespace rinha::ledger {

void AddStoreHistograms(metrics::Registry& registry, LedgerStore::Options& options) {
  // 100 us .. 2.5 s: a group commit takes about a millisecond (longer with synchronous=full or a
  // big group); a summary is an index range scan of about a millisecond for a contest's window.
  const metrics::HistogramBuckets buckets{
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5},
      metrics::kMicrosPerSecond};
  options.commit_duration = &registry.AddHistogram(
      "rinha_ledger_commit_duration_seconds",
      "One write transaction (a group of settlement batches), begin to commit.", buckets);
  options.summary_duration = &registry.AddHistogram("rinha_ledger_summary_duration_seconds",
                                                    "One Summary query.", buckets);
}

void AddStoreMetrics(metrics::Registry& registry, const LedgerStore& store) {
  const LedgerStore* s = &store;
  auto read = [s](int64_t LedgerStore::Stats::*field) {
    return [s, field]() { return static_cast<double>(s->stats().*field); };
  };
  registry.AddCallbackGauge("rinha_ledger_rows", "Settlements stored, by processor.",
                            {{"processor", "default"}}, read(&LedgerStore::Stats::rows_default));
  registry.AddCallbackGauge("rinha_ledger_rows", "Settlements stored, by processor.",
                            {{"processor", "fallback"}}, read(&LedgerStore::Stats::rows_fallback));
  constexpr const char* kSettlementsHelp = "Settlements received, by outcome.";
  registry.AddCallbackCounter("rinha_ledger_settlements_total", kSettlementsHelp,
                              {{"outcome", "stored"}}, read(&LedgerStore::Stats::stored));
  registry.AddCallbackCounter("rinha_ledger_settlements_total", kSettlementsHelp,
                              {{"outcome", "duplicate"}}, read(&LedgerStore::Stats::duplicate));
  registry.AddCallbackCounter("rinha_ledger_settlements_total", kSettlementsHelp,
                              {{"outcome", "conflict"}}, read(&LedgerStore::Stats::conflict));
  registry.AddCallbackCounter("rinha_ledger_settlements_total", kSettlementsHelp,
                              {{"outcome", "invalid"}}, read(&LedgerStore::Stats::invalid));
  registry.AddCallbackCounter("rinha_ledger_settle_batches_total",
                              "Write transactions committed (settlement batches grouped into one "
                              "transaction, and purges).",
                              {}, read(&LedgerStore::Stats::transactions));
}

}  // namespace rinha::ledger
