#include "router/router_service.h"

#include <deque>
#include <future>
#include <mutex>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "common/grpc_server.h"

namespace rinha::router {
namespace {

// One Submit stream, from the request that takes it to its deletion. Reads batches, hands each
// to the dispatcher and writes its acknowledgement once the dispatcher has answered (after
// journaling: see Dispatcher::Submit), in the order the answers come. Reads and writes proceed
// independently; one write is in progress at a time. Finishes once the client half-closes (or the
// call breaks), every batch handed over has been answered and every owed acknowledgement written.
// Deletes itself once Finish has completed, the call is done (AsyncNotifyWhenDone) and no
// operation or dispatcher answer is outstanding; the dispatcher always answers (RETRY_LATER when
// stopping), so no thread can still hold a pointer to it.
class SubmitCall {
 public:
  // Requests the next Submit call; the object owns itself from here.
  static void Request(RouterService* service, Dispatcher* dispatcher,
                      grpc::ServerCompletionQueue* cq, LiveCalls* live) {
    auto* call = new SubmitCall(service, dispatcher, cq, live);
    call->context_.AsyncNotifyWhenDone(&call->done_tag_);
    service->RequestSubmit(&call->context_, &call->stream_, cq, cq, &call->requested_tag_);
  }

 private:
  struct Action {
    bool write = false;
    bool finish = false;
    grpc::Status status;
    bool delete_self = false;
  };

  SubmitCall(RouterService* service, Dispatcher* dispatcher, grpc::ServerCompletionQueue* cq,
             LiveCalls* live)
      : live_(live), service_(service), dispatcher_(*dispatcher), cq_(cq) {}

  void OnRequested(bool ok) {
    if (!ok) {  // the server is shutting down; an unmatched call gets no done event
      delete this;
      return;
    }
    Request(service_, &dispatcher_, cq_, live_.calls());  // the next stream
    {
      std::lock_guard<std::mutex> lock(mu_);
      call_open_ = true;
      read_in_flight_ = true;
    }
    stream_.Read(&batch_, &read_tag_);
  }

  void OnReadDone(bool ok) {
    if (!ok) {
      Action action;
      {
        std::lock_guard<std::mutex> lock(mu_);
        read_in_flight_ = false;
        reading_done_ = true;  // half-close, cancellation or a broken call
        action = NextActionLocked();
      }
      Run(action);
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
    // read_in_flight_ stays set: the read goes on until the stream says there is no more.
    stream_.Read(&batch_, &read_tag_);
  }

  // The dispatcher's answer (loop thread, or the caller's while stopping).
  void OnAnswered(uint64_t batch_id, rinha::v1::AckResult result, int invalid) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --awaiting_;
      if (!broken_ && !cancelled_) {
        rinha::v1::PaymentAck& ack = owed_.emplace_back();
        ack.set_batch_id(batch_id);
        ack.set_result(result);
        ack.set_invalid(invalid);
      }
      action = NextActionLocked();
    }
    Run(action);
  }

  void OnWriteDone(bool ok) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (!ok) {
        // The client is gone; it resends what was not acknowledged on its next stream.
        owed_.clear();
        broken_ = true;
      }
      action = NextActionLocked();
    }
    Run(action);
  }

  // The call is over: finished, or cancelled (the client went away, or the server's shutdown
  // grace ran out) before that.
  void OnCallDone(bool /*ok*/) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      call_open_ = false;
      if (!finish_started_) cancelled_ = true;
      action = NextActionLocked();
    }
    Run(action);
  }

  void OnFinishDone(bool /*ok*/) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      finish_done_ = true;
      action = NextActionLocked();
    }
    Run(action);
  }

  Action NextActionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Action action;
    if (finish_started_) {
      action.delete_self = DeletableLocked();
      return action;
    }
    if (cancelled_) owed_.clear();  // nobody will read them; the client resends
    if (!writing_ && !owed_.empty() && !broken_) {
      ack_ = std::move(owed_.front());
      owed_.pop_front();
      writing_ = true;
      action.write = true;
      return action;
    }
    if (reading_done_ && !writing_ && awaiting_ == 0 && owed_.empty()) {
      finish_started_ = true;
      action.finish = true;
      action.status = broken_      ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed")
                      : cancelled_ ? grpc::Status::CANCELLED
                                   : grpc::Status::OK;
    }
    return action;
  }

  // True once, when nothing can reach this object any more.
  bool DeletableLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (deleting_ || !finish_done_ || call_open_ || read_in_flight_ || writing_ || awaiting_ > 0) {
      return false;
    }
    deleting_ = true;
    return true;
  }

  // Called without mu_. The deletion comes last and only when nothing else was started.
  void Run(const Action& action) {
    // ack_ is not touched again until this write completes; Write serializes it at once.
    if (action.write) stream_.Write(ack_, &write_tag_);
    if (action.finish) stream_.Finish(action.status, &finish_tag_);
    if (action.delete_self) delete this;
  }

  LiveCalls::Token live_;  // first: destroyed last
  RouterService* const service_;
  Dispatcher& dispatcher_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<rinha::v1::PaymentAck, rinha::v1::PaymentBatch> stream_{&context_};
  MemberTag<SubmitCall> requested_tag_{this, &SubmitCall::OnRequested};
  MemberTag<SubmitCall> read_tag_{this, &SubmitCall::OnReadDone};
  MemberTag<SubmitCall> write_tag_{this, &SubmitCall::OnWriteDone};
  MemberTag<SubmitCall> finish_tag_{this, &SubmitCall::OnFinishDone};
  MemberTag<SubmitCall> done_tag_{this, &SubmitCall::OnCallDone};
  rinha::v1::PaymentBatch batch_;  // only the event that follows a read touches it
  rinha::v1::PaymentAck ack_;      // one write at a time (writing_)

  std::mutex mu_;  // guards the fields below (std::mutex: visible to TSan)
  std::deque<rinha::v1::PaymentAck> owed_ ABSL_GUARDED_BY(mu_);
  int awaiting_ ABSL_GUARDED_BY(mu_) = 0;  // batches handed to the dispatcher, not yet answered
  bool call_open_ ABSL_GUARDED_BY(mu_) = false;  // matched, and its done event not yet run
  bool read_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_done_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_started_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_done_ ABSL_GUARDED_BY(mu_) = false;
  bool deleting_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

void RouterService::ServeSubmit(grpc::ServerCompletionQueue* cq) {
  SubmitCall::Request(this, &dispatcher_, cq, &live_calls_);
}

grpc::Status RouterService::Stats(grpc::ServerContext* /*context*/,
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
  return grpc::Status::OK;
}

grpc::Status RouterService::Status(grpc::ServerContext* /*context*/,
                                   const rinha::v1::PaymentStatusRequest* request,
                                   rinha::v1::PaymentStatus* response) {
  // The dispatcher always answers, on its loop (or here, as unknown, once it has stopped).
  std::promise<void> answered;
  std::future<void> answer = answered.get_future();
  dispatcher_.Status(request->correlation_id(), [&answered, response](const PaymentView& view) {
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
    answered.set_value();
  });
  answer.wait();
  return grpc::Status::OK;
}

grpc::Status RouterService::Purge(grpc::ServerContext* /*context*/,
                                  const rinha::v1::PurgeRequest* /*request*/,
                                  rinha::v1::PurgeResponse* response) {
  response->set_deleted(dispatcher_.Purge());
  return grpc::Status::OK;
}

}  // namespace rinha::router
