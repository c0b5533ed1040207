// Hands accepted payments to the router: HTTP threads enqueue in memory and return at once; one
// sender thread owns a bidirectional Submit stream, sends whatever is queued as a batch, keeps
// every batch until the router acknowledges it and resends the unacknowledged ones on the next
// stream after a failure (the router deduplicates by correlation id).
#pragma once

#include <cstddef>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "payments.grpc.pb.h"

namespace grpc {
class Channel;
class ClientContext;
class Status;
}  // namespace grpc

namespace rinha::edge {

// Delay before the next stream attempt after `failures` consecutive failed attempts (>= 1):
// initial, 2 x initial, 4 x initial, ... capped at max. 0 failures -> zero.
absl::Duration ReconnectBackoff(absl::Duration initial, absl::Duration max, int failures);

class RouterStream {
 public:
  struct Options {
    // Upper bound on payments held (queued + sent but unacknowledged). Above it Enqueue refuses
    // new payments (the HTTP answer is then 503): an accepted payment is never dropped, so the
    // bound is enforced at the door. About 150 bytes each (see bench/edge).
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
  };

  struct Stats {
    int64_t pending = 0;      // queued + unacknowledged
    int64_t unacked = 0;      // payments in batches sent and not yet acknowledged
    int64_t streams = 0;      // streams opened so far
    int64_t batches_sent = 0;
    int64_t batches_acked = 0;
    int64_t resent = 0;       // batches sent again on a later stream
    int64_t refused = 0;      // Enqueue calls refused because the queue was full
  };

  // Starts the sender thread; it connects lazily and keeps retrying while the router is away.
  // `channel` must reach a rinha.v1.Router.
  static std::unique_ptr<RouterStream> Start(std::shared_ptr<grpc::Channel> channel,
                                             const Options& options);
  ~RouterStream();  // Shutdown(absl::ZeroDuration())
  RouterStream(const RouterStream&) = delete;
  RouterStream& operator=(const RouterStream&) = delete;

  // Any thread; never blocks on the network. False (payment not taken) when max_pending
  // payments are already held or after Shutdown.
  bool Enqueue(rinha::v1::Payment payment);

  // Any thread.
  Stats stats() const;

  // Refuses new payments, waits up to `drain` for everything held to be acknowledged, then
  // cancels the stream and joins the sender. Payments still held are logged as undelivered.
  // Idempotent; any thread but the sender.
  void Shutdown(absl::Duration drain);

 private:
  using BatchPtr = std::shared_ptr<const rinha::v1::PaymentBatch>;

  RouterStream(std::shared_ptr<grpc::Channel> channel, const Options& options);
  void Run();  // the sender thread
  // One stream from open to failure or shutdown; *status is how it ended. True when the router
  // acknowledged something on it.
  bool RunStream(grpc::Status* status);

  const Options options_;
  std::unique_ptr<rinha::v1::Router::Stub> stub_;

  // std::mutex rather than absl::Mutex: Debian's Abseil is not TSan-instrumented.
  mutable std::mutex mu_;
  std::condition_variable wake_;  // sender: work queued, stream broken, stopping, drained
  std::deque<rinha::v1::Payment> queued_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, BatchPtr> unacked_ ABSL_GUARDED_BY(mu_);  // by batch id: resend order
  uint64_t next_batch_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stream_broken_ ABSL_GUARDED_BY(mu_) = false;
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;  // the live stream, to cancel
  Stats stats_ ABSL_GUARDED_BY(mu_);

  std::thread sender_;
};

}  // namespace rinha::edge
