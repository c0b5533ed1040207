// One mechanism for "deliver everything, exactly as handed over, to the next hop": items are
// queued in memory, sent in batches over one long-lived bidirectional gRPC stream, and each batch
// is kept until the peer acknowledges it. When the stream breaks, everything unacknowledged is
// sent again on the next one (peers deduplicate, so a resend is harmless); when the peer answers
// "not now" (Verdict::kRetryLater) the batch is sent again after a delay. The edge -> router
// (Payment) and router -> ledger (Settlement) streams are both this class.
//
// Each item carries a Tag that comes back with the acknowledgement: the caller's bookkeeping for
// the item (a journal handle, a receipt time), so that it can release what the peer now holds.
//
// Threading: Enqueue, stats, AnyHeld and Shutdown from any thread (Shutdown not from the hooks,
// nor, on a queue the caller polls, from any event of that queue: the sender would wait for its
// own poller).
// One sender thread owns the stream: it opens it, builds the batches and starts their writes. The
// stream is gRPC's asynchronous API on a completion queue, and the one thread that takes that
// queue's events runs the stream's: the acknowledgements (Hooks::on_ack, outside the lock) and the
// ends of writes. By default the queue and that thread (`stream-poller`) are the BatchStream's
// own. A process that already has a polled queue (the router: its server's, common/grpc_server.h)
// hands it to Start instead, so that one thread in the process waits inside gRPC: in gRPC 1.51
// every thread waiting inside gRPC takes turns at the one epoll set, and each turn is handed over
// with a wake-up (the router's server poller and its ledger stream's poller did that at every
// acknowledgement: docs/results.md). With the synchronous API the sender (in Write) and a reader
// (in Read) both waited inside gRPC.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/async_stream.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/backoff.h"
#include "common/cq_tag.h"
#include "common/log.h"

namespace rinha {

template <typename Item, typename Batch, typename Ack, typename Tag = uint64_t>
class BatchStream {
 public:
  using ReaderWriter = ::grpc::ClientAsyncReaderWriterInterface<Batch, Ack>;
  // The name of the thread that takes the events of a queue of the stream's own.
  static constexpr char kPollerThreadName[] = "stream-poller";

  enum class Verdict {
    kDone,        // the peer holds the batch: forget it
    kRetryLater,  // the peer took none of it: send it again after Options::retry_later_delay
  };

  struct Options {
    std::string name = "stream";  // in log lines
    // Upper bound on items held (queued + unacknowledged); Enqueue refuses beyond it, so the
    // bound is enforced at the door and nothing accepted is ever dropped.
    size_t max_pending = 100'000;
    size_t max_batch = 256;
    // After the first item of a batch is queued, wait this long (or until max_batch are queued)
    // before sending: one write and one acknowledgement then carry several items. Zero: at once.
    absl::Duration batch_window = absl::Milliseconds(20);
    absl::Duration initial_backoff = absl::Milliseconds(20);
    absl::Duration max_backoff = absl::Seconds(1);
    absl::Duration retry_later_delay = absl::Milliseconds(200);
  };

  struct Hooks {
    // Prepares one stream on `context` and `cq` without starting it (a stub's PrepareAsync...);
    // the stream's lifetime is the context's.
    std::function<std::unique_ptr<ReaderWriter>(grpc::ClientContext*, grpc::CompletionQueue*)> open;
    // Appends an item to a batch being built.
    std::function<void(Batch&, Item&&)> add;
    // An acknowledgement of `batch`; `tags` are its items', in order. Runs on the poller thread,
    // outside the stream's lock; must not block for long. Null: every ack is kDone.
    std::function<Verdict(const Batch&, const Ack&, const std::vector<Tag>& tags)> on_ack;
  };

  struct Stats {
    int64_t pending = 0;  // queued + unacknowledged
    int64_t unacked = 0;  // items in batches built and not yet acknowledged
    int64_t streams = 0;  // streams opened so far
    int64_t batches_sent = 0;
    int64_t batches_acked = 0;
    int64_t resent = 0;         // batch writes after a broken stream or a kRetryLater
    int64_t retried_later = 0;  // kRetryLater verdicts
    int64_t refused = 0;        // Enqueue calls refused (full or shut down)
    // A stream is open: opened, and neither broken nor cancelled yet (the peer may still be
    // unreachable: a stream opens before its channel connects).
    bool open = false;
  };

  // Starts the sender thread, and the poller thread of a queue of the stream's own; the sender
  // connects lazily and keeps retrying while the peer is away.
  static std::unique_ptr<BatchStream> Start(const Options& options, Hooks hooks) {
    std::unique_ptr<BatchStream> stream(
        new BatchStream(options, std::move(hooks), std::make_unique<grpc::CompletionQueue>()));
    stream->poller_ = std::thread([s = stream.get()] { s->Poll(); });
    stream->sender_ = std::thread([s = stream.get()] { s->Run(); });
    return stream;
  }
  // The same on `queue`, which the caller polls (its tags are CqTag: Done(ok) for each event)
  // from before this call until Shutdown has returned, and shuts down only after that.
  static std::unique_ptr<BatchStream> Start(const Options& options, Hooks hooks,
                                            grpc::CompletionQueue* queue) {
    std::unique_ptr<BatchStream> stream(new BatchStream(options, std::move(hooks), queue));
    stream->sender_ = std::thread([s = stream.get()] { s->Run(); });
    return stream;
  }

  ~BatchStream() { Shutdown(absl::ZeroDuration()); }
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  // Never blocks on the network. False (item not taken) when max_pending items are held or
  // after Shutdown.
  bool Enqueue(Item item, Tag tag) { return Push(std::move(item), std::move(tag), true); }
  // Ignores max_pending (still false after Shutdown): for items that were promised already,
  // e.g. read back from a journal after a restart.
  bool EnqueueUnbounded(Item item, Tag tag) { return Push(std::move(item), std::move(tag), false); }

  Stats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  // Whether an item held (queued, or in a batch not yet acknowledged) matches: `in_item(const
  // Item&)` is asked of the queued items, `in_batch(const Batch&)` of the unacknowledged batches
  // (their items were moved into them). A scan under the stream's lock, which Enqueue waits for:
  // for rare questions only.
  template <typename InItem, typename InBatch>
  bool AnyHeld(InItem in_item, InBatch in_batch) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Queued& q : queued_) {
      if (in_item(q.item)) return true;
    }
    for (const auto& [id, u] : unacked_) {
      if (in_batch(*u.batch)) return true;
    }
    return false;
  }

  // Refuses new items, waits up to `drain` for everything held to be acknowledged, then cancels
  // the stream and joins the sender. Items still held are logged. Idempotent.
  void Shutdown(absl::Duration drain) {
    int64_t left = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      accepting_ = false;
      wake_.notify_all();  // a sender waiting out its batch window sends now
      if (drain > absl::ZeroDuration()) {
        drained_.wait_for(lock, absl::ToChronoNanoseconds(drain),
                          [&] { return stats_.pending == 0; });
      }
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
      left = stats_.pending;
    }
    wake_.notify_all();
    if (sender_.joinable()) {
      sender_.join();
      if (left > 0) {
        RINHA_LOG_WARNING("%s: stopped with %d items not acknowledged", options_.name, left);
      }
    }
    // The sender has waited for every operation of its last stream to come back: nothing of the
    // stream's is left in the queue.
    if (poller_.joinable()) {
      own_cq_->Shutdown();
      poller_.join();
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Queued {
    Item item;
    Tag tag;
    Clock::time_point at;
  };
  struct Unacked {
    std::shared_ptr<const Batch> batch;
    std::vector<Tag> tags;
    bool needs_send = false;  // not (or no longer) on the current stream
    Clock::time_point send_at;
  };

  BatchStream(const Options& options, Hooks hooks, std::unique_ptr<grpc::CompletionQueue> own)
      : options_(options), hooks_(std::move(hooks)), own_cq_(std::move(own)), cq_(own_cq_.get()) {}
  BatchStream(const Options& options, Hooks hooks, grpc::CompletionQueue* queue)
      : options_(options), hooks_(std::move(hooks)), cq_(queue) {}

  bool Push(Item item, Tag tag, bool bounded) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!accepting_ || (bounded && static_cast<size_t>(stats_.pending) >= options_.max_pending)) {
        ++stats_.refused;
        return false;
      }
      queued_.push_back(Queued{std::move(item), std::move(tag), Clock::now()});
      wake = queued_.size() == 1 || queued_.size() == options_.max_batch;
      ++stats_.pending;
    }
    if (wake) wake_.notify_all();
    return true;
  }

  void Run() {
    int failures = 0;
    while (true) {
      grpc::Status status;
      failures = RunStream(&status) ? 1 : failures + 1;
      // Once per outage (and then now and then), not once per attempt.
      if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED &&
          (failures == 1 || failures % 60 == 0)) {
        RINHA_LOG_WARNING("%s: stream failed (%d in a row): %s", options_.name, failures,
                          status.error_message());
      }
      const absl::Duration delay =
          BackoffDelay(options_.initial_backoff, options_.max_backoff, failures);
      std::unique_lock<std::mutex> lock(mu_);
      if (wake_.wait_for(lock, absl::ToChronoNanoseconds(delay), [&] { return stopping_; })) {
        return;
      }
    }
  }

  // mu_ held. The earliest unacknowledged batch due to be (re)sent, or nullptr; *next_due is
  // set to the earliest later due time, if any.
  Unacked* DueResendLocked(Clock::time_point now, Clock::time_point* next_due) {
    Unacked* due = nullptr;
    *next_due = Clock::time_point::max();
    for (auto& [id, u] : unacked_) {
      if (!u.needs_send) continue;
      if (u.send_at <= now) {
        if (due == nullptr) due = &u;
      } else {
        *next_due = std::min(*next_due, u.send_at);
      }
    }
    return due;
  }

  // One stream from open to failure or shutdown; *status is how it ended. True when the peer
  // acknowledged something on it. Returns only once every operation started on the stream has
  // come back from the poller, so the context and the stream can go.
  bool RunStream(grpc::Status* status) {
    grpc::ClientContext context;
    std::unique_ptr<ReaderWriter> stream;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        *status = grpc::Status::CANCELLED;
        return false;
      }
      context_ = &context;
      stream_broken_ = false;
      started_ = false;
      acked_any_ = false;
      ++stats_.streams;
      stats_.open = true;
      // Whatever an earlier stream carried goes again, first (the map is in batch order).
      for (auto& [id, u] : unacked_) {
        if (!u.needs_send) {
          u.needs_send = true;
          u.send_at = Clock::time_point::min();
        }
      }
      stream = hooks_.open(&context, cq_);
      stream_ = stream.get();
      start_pending_ = true;
    }
    stream->StartCall(&start_tag_);

    while (true) {
      std::shared_ptr<const Batch> to_write;
      {
        std::unique_lock<std::mutex> lock(mu_);
        Clock::time_point next_due;
        Unacked* due = nullptr;
        for (;;) {
          if (stream_broken_ || stopping_) break;
          if (started_ && !write_pending_) {
            due = DueResendLocked(Clock::now(), &next_due);
            if (due != nullptr || !queued_.empty()) break;
          } else {
            next_due = Clock::time_point::max();  // woken by the start or the write ending
          }
          if (next_due == Clock::time_point::max()) {
            wake_.wait(lock);
          } else {
            wake_.wait_until(lock, next_due);
          }
        }
        if (stream_broken_ || stopping_) break;
        if (due != nullptr) {
          due->needs_send = false;
          to_write = due->batch;
          ++stats_.resent;
          ++stats_.batches_sent;
        } else {
          if (options_.batch_window > absl::ZeroDuration() && queued_.size() < options_.max_batch &&
              accepting_) {
            // Push wakes the sender only on empty -> non-empty and on a full batch, so this
            // sleeps out the window unless the batch fills up or the stream ends.
            const Clock::time_point window_end =
                queued_.front().at + absl::ToChronoNanoseconds(options_.batch_window);
            wake_.wait_until(lock, window_end, [&] {
              return queued_.size() >= options_.max_batch || stream_broken_ || stopping_ ||
                     !accepting_;
            });
            if (stream_broken_ || stopping_) break;
          }
          auto batch = std::make_shared<Batch>();
          Unacked u;
          const size_t n = std::min(queued_.size(), options_.max_batch);
          u.tags.reserve(n);
          for (size_t i = 0; i < n; ++i) {
            hooks_.add(*batch, std::move(queued_.front().item));
            u.tags.push_back(std::move(queued_.front().tag));
            queued_.pop_front();
          }
          batch->set_batch_id(next_batch_id_++);
          u.batch = batch;
          to_write = batch;
          unacked_.emplace(batch->batch_id(), std::move(u));
          stats_.unacked += static_cast<int64_t>(n);
          ++stats_.batches_sent;
        }
        write_pending_ = true;
      }
      // Outside the lock: producers keep enqueueing. Write serializes the batch at once; the
      // batch itself stays in unacked_ until acknowledged.
      stream->Write(*to_write, &write_tag_);
    }

    // Cancel, wait for every outstanding operation to come back, then collect the status.
    {
      std::unique_lock<std::mutex> lock(mu_);
      context.TryCancel();
      wake_.wait(lock, [&] { return !start_pending_ && !read_pending_ && !write_pending_; });
      finish_pending_ = true;
    }
    stream->Finish(status, &finish_tag_);
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return !finish_pending_; });
      context_ = nullptr;
      stream_ = nullptr;
      stats_.open = false;
      return acked_any_;
    }
  }

  // The poller thread of the stream's own queue: every event of the stream's operations.
  void Poll() {
    ::pthread_setname_np(::pthread_self(), kPollerThreadName);
    void* tag = nullptr;
    bool ok = false;
    while (own_cq_->Next(&tag, &ok)) static_cast<CqTag*>(tag)->Done(ok);
  }

  void OnStarted(bool ok) {
    ReaderWriter* stream = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      start_pending_ = false;
      if (!ok) {  // cancelled before it started (shutdown)
        stream_broken_ = true;
        stats_.open = false;
        wake_.notify_all();
        return;
      }
      started_ = true;
      read_pending_ = true;
      stream = stream_;
      wake_.notify_all();
    }
    stream->Read(&ack_, &read_tag_);
  }

  void OnRead(bool ok) {
    if (!ok) {  // the stream broke, was cancelled or the peer finished it
      std::lock_guard<std::mutex> lock(mu_);
      read_pending_ = false;
      stream_broken_ = true;
      stats_.open = false;
      wake_.notify_all();
      return;
    }
    std::shared_ptr<const Batch> batch;
    std::vector<Tag> tags;
    bool known = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      acked_any_ = true;
      auto it = unacked_.find(ack_.batch_id());
      // Stale or duplicate acks are skipped.
      if (it != unacked_.end() && !it->second.needs_send) {
        known = true;
        batch = it->second.batch;
        tags = it->second.tags;
      }
    }
    if (known) {
      const Verdict verdict = hooks_.on_ack ? hooks_.on_ack(*batch, ack_, tags) : Verdict::kDone;
      std::lock_guard<std::mutex> lock(mu_);
      auto it = unacked_.find(ack_.batch_id());
      if (it != unacked_.end()) {
        if (verdict == Verdict::kRetryLater) {
          ++stats_.retried_later;
          it->second.needs_send = true;
          it->second.send_at = Clock::now() + absl::ToChronoNanoseconds(options_.retry_later_delay);
          wake_.notify_all();
        } else {
          const int64_t n = static_cast<int64_t>(it->second.tags.size());
          unacked_.erase(it);
          stats_.pending -= n;
          stats_.unacked -= n;
          ++stats_.batches_acked;
          if (stats_.pending == 0) drained_.notify_all();  // a draining Shutdown waits for this
        }
      }
    }
    ReaderWriter* stream = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream = stream_;  // read_pending_ stays set: the next read goes on
    }
    stream->Read(&ack_, &read_tag_);
  }

  void OnWritten(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    write_pending_ = false;
    if (!ok) {
      stream_broken_ = true;
      stats_.open = false;
    }
    // The sender waits for this only when it has something to write next (or a resend to time)
    // or the stream is over; otherwise the next Push wakes it. At a low rate most batches are
    // alone, and a wake-up for nothing is a context switch.
    if (stream_broken_ || stopping_ || !queued_.empty() || AnyToResendLocked()) wake_.notify_all();
  }

  // mu_ held. Whether an unacknowledged batch waits to be sent (again), due or not.
  bool AnyToResendLocked() const {
    for (const auto& [id, u] : unacked_) {
      if (u.needs_send) return true;
    }
    return false;
  }

  void OnFinished(bool /*ok*/) {
    std::lock_guard<std::mutex> lock(mu_);
    finish_pending_ = false;
    wake_.notify_all();
  }

  const Options options_;
  const Hooks hooks_;

  // std::mutex rather than absl::Mutex: Debian's Abseil is not TSan-instrumented.
  mutable std::mutex mu_;
  std::condition_variable wake_;     // sender: work queued or due, stream broken, stopping
  std::condition_variable drained_;  // a draining Shutdown: nothing is held any more
  std::deque<Queued> queued_;
  std::map<uint64_t, Unacked> unacked_;  // by batch id: resend order
  uint64_t next_batch_id_ = 1;
  bool stream_broken_ = false;
  bool accepting_ = true;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;  // the live stream, to cancel
  ReaderWriter* stream_ = nullptr;          // the live stream, for the poller's reads
  // The live stream's operations started and not yet back from the poller.
  bool start_pending_ = false;
  bool read_pending_ = false;
  bool write_pending_ = false;
  bool finish_pending_ = false;
  bool started_ = false;    // the stream's start came back ok: reads and writes may go
  bool acked_any_ = false;  // the peer acknowledged something on the live stream
  Stats stats_;

  const std::unique_ptr<grpc::CompletionQueue> own_cq_;  // null: the queue is the caller's
  grpc::CompletionQueue* const cq_;                      // where the stream's operations complete
  Ack ack_;                                              // the poller's only: the read in flight
  MemberTag<BatchStream> start_tag_{this, &BatchStream::OnStarted};
  MemberTag<BatchStream> read_tag_{this, &BatchStream::OnRead};
  MemberTag<BatchStream> write_tag_{this, &BatchStream::OnWritten};
  MemberTag<BatchStream> finish_tag_{this, &BatchStream::OnFinished};

  std::thread poller_;
  std::thread sender_;
};

}  // namespace rinha
