#include "router/router_service.h"

#include <deque>

#include <mutex>

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
        std::lock_guard<std::mutex> lock(mu_);
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
      std::lock_guard<std::mutex> lock(mu_);
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
      std::lock_guard<std::mutex> lock(mu_);
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
  bool NextWrite() {
    if (writing_ || owed_.empty() || broken_) return false;
    ack_.set_batch_id(owed_.front());
    owed_.pop_front();
    writing_ = true;
    return true;
  }
  bool MayFinish() {
    if (finished_ || !reading_done_ || writing_ || (!owed_.empty() && !broken_)) return false;
    finished_ = true;
    return true;
  }

  Dispatcher& dispatcher_;
  rinha::v1::PaymentBatch batch_;  // reactions on reads are serialised by gRPC
  rinha::v1::PaymentAck ack_;      // one write at a time (writing_)
  std::mutex mu_;  // guards the fields below (std::mutex: visible to TSan)
  std::deque<uint64_t> owed_;
  bool writing_ = false;
  bool reading_done_ = false;
  bool broken_ = false;
  bool finished_ = false;
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
  const LedgerClient::Latency latency = ledger_.latency();
  response->set_settle_latency_count(latency.count);
  response->set_settle_latency_p50_us(latency.p50_us);
  response->set_settle_latency_p99_us(latency.p99_us);
  response->set_settle_latency_max_us(latency.max_us);
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
