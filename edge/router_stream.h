// Hands accepted payments to the router without ever losing one: the HTTP thread journals the
// payment (one write(2), see common/journal.h) and queues it in memory, then answers; the
// payments go to the router in batches over a BatchStream (common/batch_stream.h), and a
// payment's journal record is released once the router acknowledges its batch, i.e. once the
// router has journaled it in turn. After a crash, the next start reads the journal back and sends
// again whatever the router had not acknowledged (the router deduplicates by correlation id).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/batch_stream.h"
#include "common/journal.h"
#include "payments.grpc.pb.h"

namespace grpc {
class Channel;
}

namespace rinha::edge {

class RouterStream {
 public:
  struct Options {
    // Names the stream in the log ("edge: router stream 1" for shard 1 of several).
    std::string name = "edge: router stream";
    // Upper bound on payments held (queued + sent but unacknowledged). Above it Enqueue refuses
    // new payments (the HTTP answer is then 503): the bound is enforced at the door. About
    // 150 bytes each in memory (see bench/edge), plus their journal records on disk.
    size_t max_pending = 100'000;
    // Payments per PaymentBatch at most.
    size_t max_batch = 256;
    // After the first payment of a batch arrives, the sender waits this long (or until
    // max_batch are queued) before sending: one gRPC write and one acknowledgement then carry
    // several payments, which costs far less CPU than one each. Delivery, not the HTTP answer,
    // is delayed by this much (harmless: the audit looks at windows ending 2 s ago). Zero: send
    // at once. bench/edge at 600 req/s, 0.3 CPU: 5 ms cost 308 us of edge CPU per request,
    // 20 ms 256 us (median of 3 runs each).
    absl::Duration batch_window = absl::Milliseconds(20);
    absl::Duration initial_backoff = absl::Milliseconds(20);
    absl::Duration max_backoff = absl::Seconds(1);
    // Directory of the edge's journal; empty: no journal (a payment accepted and not yet
    // acknowledged by the router dies with the process).
    std::string journal_dir;
    Journal::Sync journal_sync = Journal::Sync::kNone;
  };

  using Stream = BatchStream<rinha::v1::Payment, rinha::v1::PaymentBatch, rinha::v1::PaymentAck,
                             Journal::Handle>;
  struct Stats {
    Stream::Stats stream;
    Journal::Stats journal;
    int64_t recovered = 0;       // payments read back from the journal at start
    int64_t journal_errors = 0;  // Enqueue refusals because the journal could not be written
    int64_t queue_full = 0;      // Enqueue refusals because max_pending payments were held
  };

  // Opens the journal (resending what an earlier run left in it) and starts the sender; it
  // connects lazily and keeps retrying while the router is away. `channel` must reach a
  // rinha.v1.Router. Fails when the journal cannot be opened.
  static absl::StatusOr<std::unique_ptr<RouterStream>> Start(std::shared_ptr<grpc::Channel> channel,
                                                             const Options& options);
  ~RouterStream();  // Shutdown(absl::ZeroDuration())
  RouterStream(const RouterStream&) = delete;
  RouterStream& operator=(const RouterStream&) = delete;

  // Any thread; never blocks on the network. True once the payment is journaled and queued:
  // from then on it is the edge's promise. False (nothing taken) when max_pending payments are
  // held, the journal cannot be written, or after Shutdown.
  bool Enqueue(rinha::v1::Payment payment);

  Stats stats() const;

  // Any thread. Whether the payment with this (canonical) id is held here: accepted and not yet
  // acknowledged by the router. Scans what is held under the stream's lock, which Enqueue waits
  // for (microseconds for the usual few dozen payments, about a millisecond for 100,000): for
  // GET /payments/{id}, never for the hot path.
  bool Holds(std::string_view correlation_id) const;

  // Refuses new payments, waits up to `drain` for everything held to be acknowledged, then
  // stops. What is still held stays in the journal for the next start. Idempotent.
  void Shutdown(absl::Duration drain);

 private:
  RouterStream() = default;

  std::unique_ptr<Journal> journal_;  // null without a journal
  std::unique_ptr<rinha::v1::Router::Stub> stub_;
  std::unique_ptr<Stream> stream_;
  size_t max_pending_ = 0;
  int64_t recovered_ = 0;
  std::atomic<int64_t> journal_errors_{0};
  std::atomic<int64_t> queue_full_{0};
};

}  // namespace rinha::edge
