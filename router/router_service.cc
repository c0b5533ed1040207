#include "router/router_service.h"

#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace rinha::router {
namespace {

// Reads batches and writes one acknowledgement per batch, in order. Reads and writes proceed
// independently; only one write is in progress at a time. Finishes once the client half-closes
// (or the call breaks) and every owed acknowledgement has been written.
class SubmitReactor final
    : public grpc::ServerBidiReactor<rinha::v1::PaymentBatch, rinha::v1::PaymentAck> {
 public:
  explicit SubmitReactor(Dispatcher& dispatcher) : dispatcher_(dispatcher) { StartRead(&batch_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      bool finish = false;
      {
        absl::MutexLock lock(&mu_);
        reading_done_ = true;
        finish = MayFinish();
      }
      if (finish) Finish(grpc::Status::OK);
      return;
    }
    // Queued in the router's memory before it is acknowledged.
    dispatcher_.Submit(batch_);
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      owed_.push_back(batch_.batch_id());
      write = NextWrite();
    }
    if (write) StartWrite(&ack_);
    StartRead(&batch_);
  }

  void OnWriteDone(bool ok) override {
    bool write = false;
    bool finish = false;
    bool broken = false;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        // The client is gone; it resends what was not acknowledged on its next stream.
        owed_.clear();
        broken_ = true;
      }
      write = NextWrite();
      finish = !write && MayFinish();
      broken = broken_;
    }
    if (write) StartWrite(&ack_);
    if (finish) Finish(broken ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed")
                               : grpc::Status::OK);
  }

  void OnDone() override { delete this; }

 private:
  bool NextWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || owed_.empty() || broken_) return false;
    ack_.set_batch_id(owed_.front());
    owed_.pop_front();
    writing_ = true;
    return true;
  }
  bool MayFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || !reading_done_ || writing_ || (!owed_.empty() && !broken_)) return false;
    finished_ = true;
    return true;
  }

  Dispatcher& dispatcher_;
  rinha::v1::PaymentBatch batch_;  // reactions on reads are serialised by gRPC
  rinha::v1::PaymentAck ack_;      // one write at a time (writing_)
  absl::Mutex mu_;
  std::deque<uint64_t> owed_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerBidiReactor<rinha::v1::PaymentBatch, rinha::v1::PaymentAck>* RouterService::Submit(
    grpc::CallbackServerContext* /*context*/) {
  return new SubmitReactor(dispatcher_);
}

grpc::ServerUnaryReactor* RouterService::Stats(grpc::CallbackServerContext* context,
                                               const rinha::v1::RouterStatsRequest* /*request*/,
                                               rinha::v1::RouterStatsResponse* response) {
  const RouterCoreStats s = dispatcher_.Stats();
  response->set_queued(s.queued);
  response->set_in_flight(s.in_flight);
  response->set_unsettled(ledger_.unacknowledged());
  response->set_settled_default(s.settled_default);
  response->set_settled_fallback(s.settled_fallback);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* RouterService::Purge(grpc::CallbackServerContext* context,
                                               const rinha::v1::PurgeRequest* /*request*/,
                                               rinha::v1::PurgeResponse* response) {
  response->set_deleted(dispatcher_.Purge());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace rinha::router
