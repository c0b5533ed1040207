// The router's event loop: one thread that owns the RouterCore and the HttpTransport, takes
// payments from gRPC threads through a small inbox, and runs the core whenever a payment
// arrives, an HTTP call ends or a timer is due. Nothing else touches the core.
//
// Crash safety: a batch is acknowledged (SubmitDone with TAKEN) only after every new payment in
// it is in the router's journal, and every POST is journaled before it leaves (RouterCore's
// DispatchLog: router_journal.h); a payment's records are released once the ledger holds its
// settlement (the sink does that). At start the loop first takes over what an earlier run left
// in the journal (RouterCore::Recover) and remembers the ledger's settled ids, before it looks
// at any new batch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/journal.h"
#include "payments.pb.h"
#include "router/http_transport.h"
#include "router/resolver.h"
#include "router/router_config.h"
#include "router/router_core.h"
#include "router/router_journal.h"

namespace rinha::router {

// Both readings of `clock` for RouterCore: monotonic for its timers, wall for requestedAt.
Now ReadNow(const Clock& clock);

class Dispatcher {
 public:
  // What an earlier run left: its journal's records (router_journal.h) and the ids the ledger
  // holds.
  struct Recovery {
    std::vector<Journal::Record> journal;
    absl::flat_hash_set<std::string> settled_ids;
  };

  // `sink` receives settlements on the loop thread and must outlive the dispatcher. `journal`
  // (may be null: no crash safety) must outlive it too.
  // `observer` (may be null) hears every outbound call's end, on the loop thread.
  static absl::StatusOr<std::unique_ptr<Dispatcher>> Start(const RouterConfig& config,
                                                           SettlementSink& sink, Clock& clock,
                                                           Journal* journal = nullptr,
                                                           Recovery recovery = {},
                                                           CallObserver* observer = nullptr);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // The answer to one batch: TAKEN (with the count of malformed payments refused) or
  // RETRY_LATER (none taken). Called once, on the loop thread (or on the caller's at Stop).
  using SubmitDone = std::function<void(rinha::v1::AckResult result, int invalid)>;

  // Any thread; never blocks on the network. The loop deduplicates the batch's payments,
  // journals the new ones, takes them, and only then answers TAKEN through `done`; it answers
  // RETRY_LATER when it cannot take them all (memory of ids full, journal not writable,
  // stopping).
  void Submit(rinha::v1::PaymentBatch batch, SubmitDone done);

  // Graceful stop, first half: no new POST, lookup or poll starts; waits up to `timeout` for
  // those in flight to be answered. Any thread but the loop's.
  void Drain(absl::Duration timeout);

  // Any thread but the loop's. Forgets the ids of settled payments; returns how many.
  int64_t Purge();

  // Any thread; never blocks. Where a payment is, answered through `done` on the loop thread
  // (or on the caller's, as unknown, once stopped).
  using StatusDone = std::function<void(const PaymentView& view)>;
  void Status(std::string correlation_id, StatusDone done);

  // Any thread. A snapshot taken by the loop at its last iteration.
  RouterCoreStats Stats() const;
  // Any thread. Batches answered RETRY_LATER so far.
  int64_t refused_batches() const;

  // Stops the loop. Payments still pending stay in the journal for the next start; batches not
  // yet answered get RETRY_LATER.
  void Stop();

 private:
  struct Arrival {
    rinha::v1::PaymentBatch batch;
    int64_t received_us;
    SubmitDone done;
  };

  Dispatcher(const RouterConfig& config, SettlementSink& sink, Clock& clock, Journal* journal);
  void Loop(Recovery recovery);
  // Loop thread: takes over an earlier run's payments.
  void TakeOver(Recovery recovery);
  // Loop thread: deduplicates, journals and takes one batch, then answers it.
  void Take(Arrival& arrival);
  // Logs a one-line summary (loop thread), at most every kReportIntervalMs while busy.
  void Report(int64_t mono_ms);
  static constexpr int64_t kReportIntervalMs = 1000;
  int64_t last_reported_settled_[2] = {0, 0};  // loop thread only

  const RouterConfig config_;
  SettlementSink& sink_;
  Clock& clock_;
  Journal* const journal_;
  std::unique_ptr<GetaddrinfoResolver> resolver_;     // processor names, for the transport
  std::unique_ptr<HttpTransport> transport_;          // loop thread only (but Wake)
  std::unique_ptr<JournalDispatchLog> dispatch_log_;  // over journal_, when there is one
  std::unique_ptr<RouterCore> core_;                  // loop thread only
  std::thread thread_;

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with TSan, so hand-offs
  // through it would be invisible to the TSan build. Guards everything below.
  mutable std::mutex mu_;
  std::condition_variable purged_;
  std::condition_variable drained_;
  std::vector<Arrival> inbox_;
  std::vector<std::pair<std::string, StatusDone>> status_inbox_;
  bool stop_ = false;
  bool draining_ = false;
  bool drained_in_flight_zero_ = false;
  uint64_t purges_requested_ = 0;
  uint64_t purges_done_ = 0;
  int64_t last_purge_count_ = 0;
  int64_t refused_batches_ = 0;
  RouterCoreStats stats_;
};

}  // namespace rinha::router
