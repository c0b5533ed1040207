// Delivers settled payments to the ledger over one long-lived Settle stream: settlements are
// batched (whatever accumulated while the previous write was in flight, or during a short
// batch window after the first one arrived), each batch is kept
// until the ledger acknowledges it, and when the stream breaks every unacknowledged batch is
// sent again on the next stream (the ledger is idempotent by correlation id). Nothing is dropped
// while the process lives.
//
// Threading: Settle() and the accessors may be called from any thread. gRPC reactions run on
// gRPC's threads; a connector thread (re)opens the stream; with a batch window, a flusher thread
// starts the writes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
    // Zero: write at once (whatever accumulated while the previous write was in flight).
    int64_t batch_window_us = 0;
    // Wait before reopening a stream that ended (doubles up to max, reset by an ack).
    int64_t reconnect_initial_ms = 50;
    int64_t reconnect_max_ms = 1000;
  };

  // `target` is a gRPC target: "unix:/run/rinha/ledger.sock" or "127.0.0.1:50052". Does not wait
  // for the ledger: settlements are buffered until it answers.
  static std::unique_ptr<LedgerClient> Start(const std::string& target, const Options& options);
  static std::unique_ptr<LedgerClient> Start(const std::string& target) {
    return Start(target, Options());
  }
  ~LedgerClient() override;
  LedgerClient(const LedgerClient&) = delete;
  LedgerClient& operator=(const LedgerClient&) = delete;

  void Settle(const rinha::v1::Settlement& settlement, int64_t received_us) override;

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
  class Stream;
  LedgerClient(const std::string& target, const Options& options);
  void ConnectorLoop();
  void FlusherLoop();
  // Starts a write of what is unsent when the stream can take one.
  void TryWrite();
  // After something changed that may allow a write: writes at once without a batch window,
  // else wakes the flusher.
  void WriteOrWakeFlusher();
  bool CanWriteLocked() const;
  // Reactions of the current stream.
  void OnWriteDone(Stream* stream, bool ok);
  void OnAck(Stream* stream, const rinha::v1::SettlementAck& ack);
  void OnReadFailed(Stream* stream);
  void OnStreamDone(Stream* stream);

  const Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<rinha::v1::Ledger::Stub> stub_;
  std::thread connector_;
  std::thread flusher_;  // only with a batch window

  // std::mutex (not absl::Mutex): visible to TSan with Debian's uninstrumented Abseil. Guards
  // everything below, and the per-stream flags in Stream.
  mutable std::mutex mu_;
  std::condition_variable changed_;  // stream_ ended or shutdown_ set
  std::condition_variable flush_;    // unsent_ or the stream's writability changed, or shutdown_
  bool shutdown_ = false;
  Stream* stream_ = nullptr;
  std::shared_ptr<grpc::ClientContext> context_;
  struct Unsent {
    rinha::v1::Settlement settlement;
    int64_t received_us;
    int64_t queued_us = 0;  // steady clock, when Settle() took it (the batch window's start)
  };
  struct Unacked {
    rinha::v1::SettlementBatch batch;
    std::vector<int64_t> received_us;
  };
  std::deque<Unsent> unsent_;
  std::map<uint64_t, Unacked> unacked_;
  LatencyHistogram latency_;
  int64_t unacked_count_ = 0;
  uint64_t next_batch_id_ = 1;
  int64_t acknowledged_ = 0;
  int64_t rejected_ = 0;
  int64_t streams_opened_ = 0;
  int64_t batches_written_ = 0;
  bool acked_since_connect_ = false;
};

}  // namespace rinha::router
