#include "ledger/ledger_service.h"

#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/grpc_server.h"
#include "common/uuid.h"

namespace rinha::ledger {
namespace {

using rinha::v1::SettlementAck;
using rinha::v1::SettlementBatch;

rinha::v1::SettlementOutcome ToProto(SettleOutcome outcome) {
  switch (outcome) {
    case SettleOutcome::kStored:
      return rinha::v1::SETTLEMENT_OUTCOME_STORED;
    case SettleOutcome::kDuplicate:
      return rinha::v1::SETTLEMENT_OUTCOME_DUPLICATE;
    case SettleOutcome::kConflict:
      return rinha::v1::SETTLEMENT_OUTCOME_CONFLICT;
    case SettleOutcome::kInvalid:
      return rinha::v1::SETTLEMENT_OUTCOME_INVALID;
  }
  return rinha::v1::SETTLEMENT_OUTCOME_UNSPECIFIED;
}

void ToProto(const Totals& totals, rinha::v1::ProcessorTotals* out) {
  out->set_total_requests(totals.count);
  out->set_total_amount_cents(totals.amount_cents);
}

// One Settle stream, from the request that takes it to its deletion. Every event (on the
// polling thread) and every store callback (on the writer thread) decides what to do next under
// mu_ and acts after releasing it. Finish is decided exactly once, when nothing is in flight (no
// store callback pending, no write outstanding). The object deletes itself once Finish has
// completed, the call is done (AsyncNotifyWhenDone) and no operation or store callback is
// outstanding, so no thread can still hold a pointer to it. One Write is outstanding at a time;
// later acks wait in acks_.
class SettleCall {
 public:
  // Requests the next Settle call; the object owns itself from here.
  static void Request(LedgerService* service, LedgerStore* store, int max_unacked,
                      grpc::ServerCompletionQueue* cq, LiveCalls* live) {
    auto* call = new SettleCall(service, store, max_unacked, cq, live);
    call->context_.AsyncNotifyWhenDone(&call->done_tag_);
    service->RequestSettle(&call->context_, &call->stream_, cq, cq, &call->requested_tag_);
  }

 private:
  SettleCall(LedgerService* service, LedgerStore* store, int max_unacked,
             grpc::ServerCompletionQueue* cq, LiveCalls* live)
      : live_(live), service_(service), store_(*store), max_unacked_(max_unacked), cq_(cq) {}

  void OnRequested(bool ok) {
    if (!ok) {  // the server is shutting down; an unmatched call gets no done event
      delete this;
      return;
    }
    Request(service_, &store_, max_unacked_, cq_, live_.calls());  // the next stream
    {
      std::lock_guard<std::mutex> lock(mu_);
      call_open_ = true;
      read_in_flight_ = true;
    }
    stream_.Read(&incoming_, &read_tag_);
  }

  void OnReadDone(bool ok) {
    if (!ok) {
      Action action;
      {
        std::lock_guard<std::mutex> lock(mu_);
        read_in_flight_ = false;
        reads_done_ = true;  // half-close, cancellation or Finish after an error
        action = NextActionLocked();
      }
      Run(action);
      return;
    }
    const uint64_t batch_id = incoming_.batch_id();
    std::vector<Settlement> batch;
    batch.reserve(incoming_.settlements_size());
    for (const rinha::v1::Settlement& s : incoming_.settlements()) {
      // recorded_at_ms is the ledger's to set, whatever the sender wrote.
      batch.push_back(Settlement{s.correlation_id(), s.amount_cents(),
                                 static_cast<Processor>(s.processor()), s.requested_at_ms(),
                                 s.double_payment(), /*recorded_at_ms=*/0});
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      // read_in_flight_ stays set until the batch is queued: nobody else may start a read.
      if (finish_started_) {  // an error already finished the stream; drop what arrived
        read_in_flight_ = false;
        Action action = NextActionLocked();
        lock.unlock();
        Run(action);
        return;
      }
      ++pending_;
    }
    // Queued before the next read starts, so batches reach the store in stream order.
    store_.Settle(std::move(batch), [this, batch_id](absl::StatusOr<std::vector<SettleOutcome>> r) {
      OnSettled(batch_id, std::move(r));
    });
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      read_in_flight_ = false;
      const bool start_read = ResumeReadingLocked();
      action = NextActionLocked();
      action.start_read = start_read;
    }
    Run(action);
  }

  void OnWriteDone(bool ok) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      write_in_flight_ = false;
      if (ok) {
        acks_.pop_front();
      } else {
        write_failed_ = true;  // the stream is broken: nobody will read further acks
        acks_.clear();
      }
      // A delivered ack frees a slot under the unacknowledged-batch limit.
      const bool start_read = ResumeReadingLocked();
      action = NextActionLocked();
      action.start_read = start_read;
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

  // The call is over: finished, or cancelled (the client went away, or the server's shutdown
  // grace ran out) before that.
  void OnCallDone(bool /*ok*/) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      call_open_ = false;
      if (!finish_started_) {
        cancelled_ = true;
        ResumeReadingLocked();  // if reading was paused, no read will complete: reading ends
      }
      action = NextActionLocked();
    }
    Run(action);
  }

  struct Action {
    bool start_read = false;
    const SettlementAck* write = nullptr;
    // More acks are queued behind this one: let gRPC buffer it and send them together.
    bool more_acks_follow = false;
    bool finish = false;
    grpc::Status status;
    bool delete_self = false;
  };

  // Store writer thread.
  void OnSettled(uint64_t batch_id, absl::StatusOr<std::vector<SettleOutcome>> result) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --pending_;
      if (!result.ok()) {
        if (error_.ok()) error_ = ToGrpcStatus(result.status());
      } else if (!write_failed_ && !cancelled_) {
        SettlementAck& ack = acks_.emplace_back();
        ack.set_batch_id(batch_id);
        ack.mutable_outcomes()->Reserve(static_cast<int>(result->size()));
        for (SettleOutcome outcome : *result) ack.add_outcomes(ToProto(outcome));
      }
      // Reading may have paused on the unacknowledged-batch limit.
      const bool start_read = ResumeReadingLocked();
      action = NextActionLocked();
      action.start_read = start_read;
    }
    Run(action);
  }

  // With no read in flight and the stream still readable: starts a read (returns true, marking it
  // in flight) when the unacknowledged-batch limit allows, or stays paused until an ack frees a
  // slot. A cancelled stream instead ends reading, as no read would complete.
  bool ResumeReadingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (read_in_flight_ || reads_done_ || finish_started_) return false;
    if (cancelled_) {
      reads_done_ = true;
      return false;
    }
    if (!error_.ok()) return false;
    if (pending_ + static_cast<int>(acks_.size()) >= max_unacked_) return false;
    read_in_flight_ = true;
    return true;
  }

  Action NextActionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Action action;
    if (finish_started_) {
      action.delete_self = DeletableLocked();
      return action;
    }
    if (!write_in_flight_ && !write_failed_ && !cancelled_ && !acks_.empty()) {
      write_in_flight_ = true;
      action.write = &acks_.front();  // deque: stays valid while later acks are appended
      // The last queued ack is never hinted, so the buffer is always flushed.
      action.more_acks_follow = acks_.size() > 1;
      return action;
    }
    // Nobody will read them (the sender resends); the one being written goes when its write
    // completes.
    if (cancelled_ && !write_in_flight_) acks_.clear();
    const bool idle = pending_ == 0 && !write_in_flight_ && acks_.empty();
    // After a store error the stream ends even with a read outstanding: gRPC fails that read.
    if (idle && (reads_done_ || !error_.ok())) {
      finish_started_ = true;
      action.finish = true;
      action.status = !error_.ok() ? error_
                      : cancelled_ ? grpc::Status::CANCELLED
                                   : grpc::Status::OK;
    }
    return action;
  }

  // True once, when nothing can reach this object any more.
  bool DeletableLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (deleting_ || !finish_done_ || call_open_ || read_in_flight_ || write_in_flight_ ||
        pending_ > 0) {
      return false;
    }
    deleting_ = true;
    return true;
  }

  // Called without mu_. The deletion comes last and only when nothing else was started.
  void Run(Action& action) {
    if (action.start_read) stream_.Read(&incoming_, &read_tag_);
    if (action.write != nullptr) {
      grpc::WriteOptions options;
      if (action.more_acks_follow) options.set_buffer_hint();
      stream_.Write(*action.write, options, &write_tag_);
    }
    if (action.finish) stream_.Finish(action.status, &finish_tag_);
    if (action.delete_self) delete this;
  }

  LiveCalls::Token live_;  // first: destroyed last
  LedgerService* const service_;
  LedgerStore& store_;
  const int max_unacked_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<SettlementAck, SettlementBatch> stream_{&context_};
  MemberTag<SettleCall> requested_tag_{this, &SettleCall::OnRequested};
  MemberTag<SettleCall> read_tag_{this, &SettleCall::OnReadDone};
  MemberTag<SettleCall> write_tag_{this, &SettleCall::OnWriteDone};
  MemberTag<SettleCall> finish_tag_{this, &SettleCall::OnFinishDone};
  MemberTag<SettleCall> done_tag_{this, &SettleCall::OnCallDone};
  // Only the event that follows a read touches it.
  SettlementBatch incoming_;

  std::mutex mu_;  // std::mutex: see the TSan note in ledger_store.h
  std::deque<SettlementAck> acks_ ABSL_GUARDED_BY(mu_);
  int pending_ ABSL_GUARDED_BY(mu_) = 0;  // batches handed to the store, callback not yet run
  bool call_open_ ABSL_GUARDED_BY(mu_) = false;  // matched, and its done event not yet run
  bool read_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_started_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_done_ ABSL_GUARDED_BY(mu_) = false;
  bool deleting_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

void LedgerService::ServeSettle(grpc::ServerCompletionQueue* cq) {
  SettleCall::Request(this, &store_, options_.max_unacked_batches_per_stream, cq, &live_calls_);
}

grpc::Status LedgerService::Summary(grpc::ServerContext* /*context*/,
                                    const rinha::v1::SummaryRequest* request,
                                    rinha::v1::SummaryResponse* response) {
  SummaryRange range;
  if (request->has_from_ms()) range.from_ms = request->from_ms();
  if (request->has_to_ms()) range.to_ms = request->to_ms();
  // An index-only read on its own connection, bounded (about a millisecond for a contest-sized
  // window) and never waiting for the writer.
  absl::StatusOr<SummaryTotals> totals = store_.Summary(range);
  if (totals.ok()) {
    ToProto(totals->default_totals, response->mutable_default_totals());
    ToProto(totals->fallback_totals, response->mutable_fallback_totals());
  }
  return ToGrpcStatus(totals.status());
}

grpc::Status LedgerService::Purge(grpc::ServerContext* /*context*/,
                                  const rinha::v1::PurgeRequest* /*request*/,
                                  rinha::v1::PurgeResponse* response) {
  // Through the writer, so a purge is ordered with the settlements queued before it.
  absl::StatusOr<int64_t> deleted = store_.PurgeAndWait();
  if (deleted.ok()) response->set_deleted(*deleted);
  return ToGrpcStatus(deleted.status());
}

grpc::Status LedgerService::List(grpc::ServerContext* /*context*/,
                                 const rinha::v1::ListRequest* request,
                                 rinha::v1::ListResponse* response) {
  const int limit =
      request->limit() <= 0 || request->limit() > kListPageSize ? kListPageSize : request->limit();
  absl::StatusOr<std::vector<Settlement>> page =
      store_.List(request->after_correlation_id(), limit);
  if (page.ok()) {
    response->mutable_settlements()->Reserve(static_cast<int>(page->size()));
    for (const Settlement& s : *page) {
      rinha::v1::Settlement* out = response->add_settlements();
      out->set_correlation_id(s.correlation_id);
      out->set_amount_cents(s.amount_cents);
      out->set_processor(static_cast<rinha::v1::Processor>(s.processor));
      out->set_requested_at_ms(s.requested_at_ms);
      out->set_double_payment(s.double_payment);
      out->set_recorded_at_ms(s.recorded_at_ms);
    }
    // A page may hold a few more than `limit`: an id's rows are never split (LedgerStore::List).
    response->set_more(static_cast<int>(page->size()) >= limit);
  }
  return ToGrpcStatus(page.status());
}

grpc::Status LedgerService::Get(grpc::ServerContext* /*context*/,
                                const rinha::v1::PaymentStatusRequest* request,
                                rinha::v1::PaymentStatus* response) {
  if (!IsCanonicalUuid(request->correlation_id())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "correlation_id is not a canonical UUID");
  }
  absl::StatusOr<std::vector<Settlement>> rows = store_.Get(request->correlation_id());
  if (rows.ok()) *response = ToPaymentStatus(*rows);
  return ToGrpcStatus(rows.status());
}

rinha::v1::PaymentStatus ToPaymentStatus(const std::vector<Settlement>& rows) {
  rinha::v1::PaymentStatus status;
  if (rows.empty()) {
    status.set_state(rinha::v1::PaymentStatus::STATE_UNKNOWN);
    return status;
  }
  // LedgerStore::Get puts the first settlement first.
  const Settlement& first = rows.front();
  status.set_state(rinha::v1::PaymentStatus::STATE_SETTLED);
  status.set_processor(static_cast<rinha::v1::Processor>(first.processor));
  status.set_amount_cents(first.amount_cents);
  status.set_requested_at_ms(first.requested_at_ms);
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].processor != first.processor) {
      status.set_also_held_by(static_cast<rinha::v1::Processor>(rows[i].processor));
    }
  }
  return status;
}

}  // namespace rinha::ledger
