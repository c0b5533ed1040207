#include "ledger/ledger_service.h"

#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
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

// One Settle stream. Every reaction and every store callback decides what to do next under mu_
// and acts after releasing it; Finish is decided exactly once, when nothing is in flight (no
// store callback pending, no write outstanding), so the reactor cannot be deleted (OnDone) while
// the writer thread still holds a pointer to it. One Write is outstanding at a time; later acks
// wait in acks_.
class SettleReactor final : public grpc::ServerBidiReactor<SettlementBatch, SettlementAck> {
 public:
  SettleReactor(LedgerStore& store, int max_unacked) : store_(store), max_unacked_(max_unacked) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      read_in_flight_ = true;
    }
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
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
      std::lock_guard<std::mutex> lock(mu_);
      // read_in_flight_ stays set until the batch is queued: nobody else may start a read.
      if (finished_) {  // an error already finished the stream; drop what arrived
        read_in_flight_ = false;
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

  void OnWriteDone(bool ok) override {
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

  void OnCancel() override {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      ResumeReadingLocked();  // if reading was paused, no OnReadDone will come: reading ends
      action = NextActionLocked();
    }
    Run(action);
  }

  void OnDone() override {
    // gRPC guarantees no reaction runs after OnDone, and Finish was only called with nothing in
    // flight; taking the lock once more orders every earlier access (made under it, on other
    // threads) before the destruction, in a way TSan can see.
    { std::lock_guard<std::mutex> lock(mu_); }
    delete this;
  }

 private:
  struct Action {
    bool start_read = false;
    const SettlementAck* write = nullptr;
    // More acks are queued behind this one: let gRPC buffer it and send them together.
    bool more_acks_follow = false;
    bool finish = false;
    grpc::Status status;
  };

  // Store writer thread.
  void OnSettled(uint64_t batch_id, absl::StatusOr<std::vector<SettleOutcome>> result) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --pending_;
      if (!result.ok()) {
        if (error_.ok()) error_ = ToGrpcStatus(result.status());
      } else if (!write_failed_) {
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
  // slot. A cancelled stream instead ends reading, as no OnReadDone will come.
  bool ResumeReadingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (read_in_flight_ || reads_done_ || finished_) return false;
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
    if (finished_) return action;
    if (!write_in_flight_ && !write_failed_ && !acks_.empty()) {
      write_in_flight_ = true;
      action.write = &acks_.front();  // deque: stays valid while later acks are appended
      // The last queued ack is never hinted, so the buffer is always flushed.
      action.more_acks_follow = acks_.size() > 1;
      return action;
    }
    const bool idle = pending_ == 0 && !write_in_flight_ && acks_.empty();
    // After a store error the stream ends even with a read outstanding: gRPC fails that read.
    if (idle && (reads_done_ || !error_.ok())) {
      finished_ = true;
      action.finish = true;
      action.status = !error_.ok() ? error_
                      : cancelled_ ? grpc::Status::CANCELLED
                                   : grpc::Status::OK;
    }
    return action;
  }

  // Called without mu_. Finish comes last: after it the reactor may already be deleted.
  void Run(Action& action) {
    if (action.start_read) StartRead(&incoming_);
    if (action.write != nullptr) {
      grpc::WriteOptions options;
      if (action.more_acks_follow) options.set_buffer_hint();
      StartWrite(action.write, options);
    }
    if (action.finish) Finish(std::move(action.status));
  }

  LedgerStore& store_;
  const int max_unacked_;
  // Only the reaction that follows a StartRead touches it.
  SettlementBatch incoming_;

  std::mutex mu_;  // std::mutex: see the TSan note in ledger_store.h
  std::deque<SettlementAck> acks_ ABSL_GUARDED_BY(mu_);
  int pending_ ABSL_GUARDED_BY(mu_) = 0;  // batches handed to the store, callback not yet run
  bool read_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::ServerBidiReactor<SettlementBatch, SettlementAck>* LedgerService::Settle(
    grpc::CallbackServerContext* /*context*/) {
  return new SettleReactor(store_, options_.max_unacked_batches_per_stream);
}

grpc::ServerUnaryReactor* LedgerService::Summary(grpc::CallbackServerContext* context,
                                                 const rinha::v1::SummaryRequest* request,
                                                 rinha::v1::SummaryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  SummaryRange range;
  if (request->has_from_ms()) range.from_ms = request->from_ms();
  if (request->has_to_ms()) range.to_ms = request->to_ms();
  // Inline on purpose: an index-only read on its own connection, bounded (about a millisecond
  // for a contest-sized window) and never waiting for the writer.
  absl::StatusOr<SummaryTotals> totals = store_.Summary(range);
  if (totals.ok()) {
    ToProto(totals->default_totals, response->mutable_default_totals());
    ToProto(totals->fallback_totals, response->mutable_fallback_totals());
  }
  reactor->Finish(ToGrpcStatus(totals.status()));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::Purge(grpc::CallbackServerContext* context,
                                               const rinha::v1::PurgeRequest* /*request*/,
                                               rinha::v1::PurgeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Through the writer, so a purge is ordered with the settlements queued before it.
  store_.Purge([reactor, response](absl::StatusOr<int64_t> deleted) {
    if (deleted.ok()) response->set_deleted(*deleted);
    reactor->Finish(ToGrpcStatus(deleted.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::List(grpc::CallbackServerContext* context,
                                              const rinha::v1::ListRequest* request,
                                              rinha::v1::ListResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
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
  reactor->Finish(ToGrpcStatus(page.status()));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::Get(grpc::CallbackServerContext* context,
                                             const rinha::v1::PaymentStatusRequest* request,
                                             rinha::v1::PaymentStatus* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!IsCanonicalUuid(request->correlation_id())) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "correlation_id is not a canonical UUID"));
    return reactor;
  }
  absl::StatusOr<std::vector<Settlement>> rows = store_.Get(request->correlation_id());
  if (rows.ok()) *response = ToPaymentStatus(*rows);
  reactor->Finish(ToGrpcStatus(rows.status()));
  return reactor;
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
