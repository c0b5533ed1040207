// The ledger's Prometheus metrics (docs/operations.md lists them): two latency histograms the
// store observes into, and families read at scrape time from the store's counts.
#pragma once

#include "common/metrics.h"
#include "ledger/ledger_store.h"

namespace rinha::ledger {

// Registers rinha_ledger_commit_duration_seconds and rinha_ledger_summary_duration_seconds in
// `registry` and points `options` at them; before LedgerStore::Open.
void AddStoreHistograms(metrics::Registry& registry, LedgerStore::Options& options);

// Registers rinha_ledger_rows, rinha_ledger_settlements_total and
// rinha_ledger_settle_batches_total, read from store.stats() at every Render. The store must
// outlive the registry's last Render.
void AddStoreMetrics(metrics::Registry& registry, const LedgerStore& store);

}  // namespace rinha::ledger
