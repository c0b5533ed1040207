// Delivers settled payments to the ledger: settlements go in batches over one long-lived Settle
// stream (a BatchStream, common/batch_stream.h: batch window, acknowledgements, resend after a
// reconnect; the ledger is idempotent by correlation id), and each is kept until the ledger has
// acknowledged it. Then the payment's record in the router's journal is released: the ledger
// holds the promise now. Also reads the ledger's settled ids back after a restart.
//
// Threading: every method may be called from any thread. The stream's sender thread writes; the
// thread that polls the stream's queue takes acknowledgements.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/batch_stream.h"
#include "common/journal.h"
#include "common/metrics.h"
#include "payments.grpc.pb.h"
#include "router/latency_histogram.h"
#include "router/router_core.h"

namespace rinha::router {

class LedgerClient final : public SettlementSink {
 public:
  struct Options {
    // Most settlements per SettlementBatch.
    int max_batch = 1000;
    // How long a settlement may wait for others before it is written (unless max_batch are
    // waiting): one gRPC write and one SQLite transaction in the ledger then carry several.
    // Zero: write at once.
    int64_t batch_window_us = 0;
    // Wait before reopening a stream that ended (doubles up to max, reset by an ack).
    int64_t reconnect_initial_ms = 50;
    int64_t reconnect_max_ms = 1000;
    // Also observes each settlement's receipt-to-acknowledgement latency in µs (may be null).
    metrics::Histogram* settle_latency = nullptr;
  };

  // `target` is a gRPC target: "unix:/run/rinha/ledger.sock" or "127.0.0.1:50052". Does not wait
  // for the ledger: settlements are held until it answers. `journal` (may be null) must outlive
  // the client; the handles given to Settle are released in it. `queue` (may be null: the
  // stream then has a queue and a thread of its own) is a completion queue the caller polls, as
  // BatchStream::Start says, until Shutdown has returned: the router's server's, so that one
  // thread of the router waits inside gRPC.
  static std::unique_ptr<LedgerClient> Start(const std::string& target, const Options& options,
                                             Journal* journal = nullptr,
                                             grpc::CompletionQueue* queue = nullptr);
  static std::unique_ptr<LedgerClient> Start(const std::string& target) {
    return Start(target, Options());
  }
  ~LedgerClient() override;  // Shutdown(absl::ZeroDuration())
  LedgerClient(const LedgerClient&) = delete;
  LedgerClient& operator=(const LedgerClient&) = delete;

  void Settle(const rinha::v1::Settlement& settlement, int64_t received_us,
              absl::Span<const uint64_t> journal_handles) override;

  // Every correlation id the ledger holds (paged through Ledger/List). Retries while the ledger
  // is unreachable, for up to `timeout`.
  absl::StatusOr<absl::flat_hash_set<std::string>> SettledIds(absl::Duration timeout);

  // The ledger's summary over [from_ms, to_ms] (inclusive), within `deadline` (the self-audit).
  absl::StatusOr<rinha::v1::SummaryResponse> Summary(int64_t from_ms, int64_t to_ms,
                                                     absl::Duration deadline);

  // Waits up to `drain` for every settlement to be acknowledged, then stops the stream. What is
  // not acknowledged stays in the journal (the next start finds it at the processor). Idempotent.
  void Shutdown(absl::Duration drain);

  struct Latency {
    int64_t count = 0;
    int64_t p50_us = 0;
    int64_t p99_us = 0;
    int64_t max_us = 0;
  };
  // Receipt (by the router) to acknowledgement (by the ledger), over every settlement so far.
  Latency latency() const;

  // Settlements handed over and not yet acknowledged by the ledger.
  int64_t unacknowledged() const;
  int64_t acknowledged() const;
  // Acknowledged with CONFLICT or INVALID: bugs upstream, logged.
  int64_t rejected() const;
  int64_t streams_opened() const;
  // SettlementBatch writes started, resends included.
  int64_t batches_written() const;

 private:
  struct Tag {
    int64_t received_us = 0;
    JournalHandles journal_handles;
  };
  using Stream =
      BatchStream<rinha::v1::Settlement, rinha::v1::SettlementBatch, rinha::v1::SettlementAck, Tag>;

  LedgerClient(const std::string& target, Journal* journal);
  // The thread that polls the stream's queue.
  Stream::Verdict OnAck(const rinha::v1::SettlementBatch& batch,
                        const rinha::v1::SettlementAck& ack, const std::vector<Tag>& tags);

  Journal* const journal_;
  metrics::Histogram* settle_latency_ = nullptr;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<rinha::v1::Ledger::Stub> stub_;
  std::unique_ptr<Stream> stream_;

  // std::mutex (not absl::Mutex): visible to TSan with Debian's uninstrumented Abseil.
  mutable std::mutex mu_;  // guards the fields below
  LatencyHistogram latency_;
  int64_t acknowledged_ = 0;
  int64_t rejected_ = 0;
};

}  // namespace rinha::router
