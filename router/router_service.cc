#include "router/router_service.h"

#include <deque>
#include <mutex>
#include <utility>

namespace rinha::router {
namespace {

// Reads batches, hands each to the dispatcher and writes its acknowledgement once the
// dispatcher has answered (after journaling: see Dispatcher::Submit), in the order the answers
// come. Reads and writes proceed independently; one write is in progress at a time. Finishes once
// the client half-closes (or the call breaks), every batch handed over has been answered and
// every owed acknowledgement written; the dispatcher always answers (RETRY_LATER when stopping),
// so the reactor cannot be deleted while it still holds a callback to it.
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
      if (finish) FinishNow();
      return;
    }
    const uint64_t batch_id = batch_.batch_id();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++awaiting_;
    }
    dispatcher_.Submit(std::move(batch_),
                       [this, batch_id](rinha::v1::AckResult result, int invalid) {
                         OnAnswered(batch_id, result, invalid);
                       });
    batch_.Clear();
    StartRead(&batch_);
  }

  void OnWriteDone(bool ok) override {
    bool write = false;
    bool finish = false;
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
    }
    if (write) StartWrite(&ack_);
    if (finish) FinishNow();
  }

  void OnDone() override { delete this; }

 private:
  // The dispatcher's answer (loop thread, or the caller's while stopping).
  void OnAnswered(uint64_t batch_id, rinha::v1::AckResult result, int invalid) {
    bool write = false;
    bool finish = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --awaiting_;
      if (!broken_) {
        rinha::v1::PaymentAck ack;
        ack.set_batch_id(batch_id);
        ack.set_result(result);
        ack.set_invalid(invalid);
        owed_.push_back(std::move(ack));
      }
      write = NextWrite();
      finish = !write && MayFinish();
    }
    if (write) StartWrite(&ack_);
    if (finish) FinishNow();
  }

  void FinishNow() {
    bool broken;
    {
      std::lock_guard<std::mutex> lock(mu_);
      broken = broken_;
    }
    Finish(broken ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed") : grpc::Status::OK);
  }

  bool NextWrite() {
    if (writing_ || owed_.empty() || broken_) return false;
    ack_ = std::move(owed_.front());
    owed_.pop_front();
    writing_ = true;
    return true;
  }
  bool MayFinish() {
    if (finished_ || !reading_done_ || writing_ || awaiting_ > 0 || (!owed_.empty() && !broken_)) {
      return false;
    }
    finished_ = true;
    return true;
  }

  Dispatcher& dispatcher_;
  rinha::v1::PaymentBatch batch_;  // reactions on reads are serialised by gRPC
  rinha::v1::PaymentAck ack_;      // one write at a time (writing_)
  std::mutex mu_;                  // guards the fields below (std::mutex: visible to TSan)
  std::deque<rinha::v1::PaymentAck> owed_;
  int awaiting_ = 0;  // batches handed to the dispatcher and not yet answered
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
  response->set_recovering(s.recovering);
  response->set_recovered_total(s.recovered_total);
  if (journal_ != nullptr) {
    const Journal::Stats j = journal_->stats();
    response->set_journal_segments(j.segments);
    response->set_journal_live(j.live);
  }
  response->set_refused_batches(dispatcher_.refused_batches());
  response->set_double_payments_detected(s.double_payments_detected);
  response->set_double_checks_pending(s.double_checks);
  response->set_ambiguous(s.ambiguous);
  response->set_connect_failures(s.connect_failures);
  response->set_rejected(s.rejected);
  response->set_lookups(s.lookups);
  response->set_lookups_default(s.lookups_at[static_cast<int>(Target::kDefault)]);
  response->set_lookups_fallback(s.lookups_at[static_cast<int>(Target::kFallback)]);
  response->set_lookups_waiting(s.lookups_waiting);
  response->set_lookup_errors(s.lookup_errors);
  response->set_unreadable_echoes(s.unreadable_echoes);
  response->set_echo_mismatches(s.echo_mismatches);
  response->set_dispatch_journal_errors(s.dispatch_journal_errors);
  response->set_waiting_for_cheaper(s.waiting_for_cheaper);
  response->set_waited_then_cheaper(s.waited_then_cheaper);
  response->set_wait_expired(s.wait_expired);
  response->set_released_on_stop(s.released_on_stop);
  response->set_undecided(s.undecided);
  response->set_undecided_total(s.undecided_total);
  for (int i = 0; i < kPaymentStates; ++i) {
    rinha::v1::PaymentStateCount* state = response->add_states();
    state->set_state(std::string(PaymentStateName(static_cast<PaymentState>(i))));
    state->set_pending(s.by_state[i].pending);
    state->set_undecided(s.by_state[i].undecided);
    state->set_oldest_age_ms(s.by_state[i].oldest_ms);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* RouterService::Status(grpc::CallbackServerContext* context,
                                                const rinha::v1::PaymentStatusRequest* request,
                                                rinha::v1::PaymentStatus* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  dispatcher_.Status(request->correlation_id(), [reactor, response](const PaymentView& view) {
    using rinha::v1::PaymentStatus;
    switch (view.where) {
      case PaymentView::Where::kUnknown:
        response->set_state(PaymentStatus::STATE_UNKNOWN);
        break;
      case PaymentView::Where::kSettled:
        response->set_state(PaymentStatus::STATE_SETTLED);
        break;
      case PaymentView::Where::kPending:
        switch (view.state) {
          case PaymentState::kQueued:
            response->set_state(PaymentStatus::STATE_QUEUED);
            break;
          case PaymentState::kPosting:
            response->set_state(PaymentStatus::STATE_IN_FLIGHT);
            break;
          case PaymentState::kAmbiguous:
            response->set_state(PaymentStatus::STATE_AMBIGUOUS);
            break;
          case PaymentState::kRecovering:
            response->set_state(PaymentStatus::STATE_RECOVERING);
            break;
        }
        response->set_amount_cents(view.amount_cents);
        response->set_pending_ms(view.pending_ms);
        if (view.has_processor) response->set_processor(ToProto(view.processor));
        break;
    }
    reactor->Finish(grpc::Status::OK);
  });
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
