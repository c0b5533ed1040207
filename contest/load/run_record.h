// Everything a contest run measured, and its two output files: final-results.json in the official
// runner's shape (field names of rinha-final.js's handleSummary) and run.json, the time series the
// report draws (schema agreed in the contest/ wiring: stages, per-second series, audits, summary,
// the load generator's own cost).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "contest/load/score.h"
#include "contest/load/timeline.h"
#include "contest/load/vu_engine.h"

namespace rinha::contest {

struct AuditRecord {
  int64_t t_s = 0;  // seconds into the load when the audit started
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t ours_default = 0;
  int64_t ours_fallback = 0;
  int64_t default_requests = 0;
  int64_t fallback_requests = 0;
  int64_t inconsistencies = 0;
  bool ok = true;  // every summary answered (a failed one counted as zeros)
};

// Router.Stats cumulative counters sampled at t_s (seconds into the load; 0 = just before).
struct RouterSample {
  int64_t t_s = 0;
  int64_t queued = 0;
  int64_t in_flight = 0;
  int64_t settled_default = 0;
  int64_t settled_fallback = 0;
  int64_t recovering = 0;  // payments of an earlier router run not yet resolved
  // Payments pending longer than the router's undecided bound (--undecided_after_ms, 30 s), and
  // the age of the oldest of them in ms (0: none).
  int64_t undecided = 0;
  int64_t oldest_undecided_ms = 0;
};

struct RunRecord {
  std::string test;
  std::string timeline;
  int64_t duration_s = 0;
  int max_vus = 0;
  int64_t amount_cents = 0;   // the test's payment amount
  int64_t started_at_ms = 0;  // wall clock at the start of the load
  std::vector<Stage> stages;
  std::vector<SecondStats> series;
  bool has_router_stats = false;
  std::vector<RouterSample> router;  // ascending t_s
  std::vector<AuditRecord> audits;
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t requests = 0;
  int64_t ok = 0;
  int64_t failed = 0;
  int64_t timeouts = 0;
  int64_t inconsistencies = 0;
  ProcessorTotals default_totals;
  ProcessorTotals fallback_totals;
  Score score;
  double loadgen_cpu_s = 0;
  int64_t loadgen_max_rss_kb = 0;
};

// The official final-results.json (same members and nesting; compact) plus "score".
std::string FinalResultsJson(const RunRecord& run, int64_t now_ms);

// run.json. Per-second router series are differences of the cumulative counters; router fields
// are absent without router samples. The summary holds the run's ceiling and the score's share of
// it (a fraction; null without a successful POST).
std::string RunJson(const RunRecord& run);

// The human-readable table printed at the end, the score also as a share of the run's ceiling.
std::string SummaryTable(const RunRecord& run);

// Writes DIR/final-results.json and DIR/run.json (creating DIR).
absl::Status WriteRunFiles(const std::string& dir, const RunRecord& run, int64_t now_ms);

}  // namespace rinha::contest
