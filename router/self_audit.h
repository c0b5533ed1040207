// The system's own audit of its books: the ledger's summary against each processor's
// GET /admin/payments-summary, over windows of requestedAt that have closed, as the contest's
// auditor does (docs/operations.md, "Self-audit"). Off unless the processors' admin token is
// given: the contest's rules forbid a backend to call the admin endpoints, so it is never on in
// the contest; it is for running the system against processors one operates or emulates.
//
// Windows are [k*window_ms, (k+1)*window_ms - 1] ms (inclusive, like the summaries), each
// checked once its end is settle_ms in the past: a window that differs is counted, logged once,
// and checked again every round until it matches (counted and logged as cleared) or is older
// than max_recheck_age_ms. Calls stay rare: per round (one window_ms), one window and at most
// max_rechecks_per_round mismatched ones, each one admin call per processor and one ledger
// Summary.
//
// SelfAudit is the decision (no I/O, no thread: tests drive it with fake sources and times);
// SelfAuditThread runs it every window_ms on a thread of its own, over HTTP and gRPC.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "router/ledger_client.h"
#include "router/router_core.h"

namespace rinha::router {

struct SelfAuditConfig {
  std::string admin_token;  // X-Rinha-Token of the processors' admin endpoints; empty: off
  int64_t window_ms = 20'000;
  int64_t settle_ms = 30'000;
  int64_t max_recheck_age_ms = 600'000;
  int max_rechecks_per_round = 3;
};

struct AuditTotals {
  int64_t requests = 0;
  int64_t cents = 0;
  bool operator==(const AuditTotals& o) const { return requests == o.requests && cents == o.cents; }
};

// Where the totals come from (the I/O seam).
class AuditSource {
 public:
  virtual ~AuditSource() = default;
  // One processor's admin summary over [from_ms, to_ms] (inclusive).
  virtual absl::StatusOr<AuditTotals> ProcessorTotals(Target target, int64_t from_ms,
                                                      int64_t to_ms) = 0;
  // The ledger's summary over the same window, per processor (indexed by Target).
  virtual absl::StatusOr<std::array<AuditTotals, kTargets>> LedgerTotals(int64_t from_ms,
                                                                         int64_t to_ms) = 0;
};

struct SelfAuditStats {
  int64_t windows_checked = 0;     // checks made (a recheck counts again)
  int64_t mismatched_now = 0;      // windows that differ and are still being rechecked
  int64_t mismatched_total = 0;    // windows found different
  int64_t cleared_total = 0;       // of them, found equal later
  int64_t abandoned_total = 0;     // of them, still different at max_recheck_age_ms
  int64_t errors = 0;              // checks that could not complete (a call failed)
  int64_t last_window_end_ms = 0;  // end of the newest window checked
};

class SelfAudit {
 public:
  SelfAudit(const SelfAuditConfig& config, AuditSource& source);

  // One round at wall time `now_ms`: the next closed window (catching up at most a few if the
  // rounds fell behind), then mismatched windows again. Not thread-safe: one caller.
  void RunRound(int64_t now_ms);

  // Any thread.
  SelfAuditStats stats() const;

 private:
  struct Open {
    int64_t from_ms;
    int64_t to_ms;
    int64_t found_at_ms;
  };
  enum class Verdict { kEqual, kDifferent, kError };
  Verdict Check(int64_t from_ms, int64_t to_ms, std::string* detail);

  const SelfAuditConfig config_;
  AuditSource& source_;
  int64_t next_from_ms_ = -1;  // start of the next window to check first (-1: not yet set)
  std::deque<Open> open_;      // mismatched windows being rechecked, oldest first

  mutable std::mutex mu_;  // guards stats_
  SelfAuditStats stats_;
};

// AuditSource over the processors' admin HTTP endpoints and the ledger's Summary.
class HttpAuditSource final : public AuditSource {
 public:
  HttpAuditSource(std::string default_url, std::string fallback_url, std::string admin_token,
                  LedgerClient& ledger);
  absl::StatusOr<AuditTotals> ProcessorTotals(Target target, int64_t from_ms,
                                              int64_t to_ms) override;
  absl::StatusOr<std::array<AuditTotals, kTargets>> LedgerTotals(int64_t from_ms,
                                                                 int64_t to_ms) override;

 private:
  const std::string urls_[kTargets];
  const std::string admin_token_;
  LedgerClient& ledger_;
};

// Runs a SelfAudit round every window_ms (the first one at once) until destroyed.
class SelfAuditThread {
 public:
  SelfAuditThread(const SelfAuditConfig& config, std::unique_ptr<AuditSource> source,
                  const Clock& clock);
  ~SelfAuditThread();
  SelfAuditThread(const SelfAuditThread&) = delete;
  SelfAuditThread& operator=(const SelfAuditThread&) = delete;

  SelfAuditStats stats() const { return audit_.stats(); }

 private:
  void Loop();

  const SelfAuditConfig config_;
  std::unique_ptr<AuditSource> source_;
  const Clock& clock_;
  SelfAudit audit_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// Parses a processor's admin summary body: totalRequests and totalAmount (any decimal scale).
absl::StatusOr<AuditTotals> ParseAdminSummary(std::string_view body);

}  // namespace rinha::router
