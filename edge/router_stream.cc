#include "edge/router_stream.h"

#include <grpcpp/grpcpp.h>

#include <string>
#include <utility>
#include <vector>

#include "common/log.h"

namespace rinha::edge {
namespace {

// Releases journal records by segment: one call per run of equal handles.
void ReleaseAll(Journal& journal, const std::vector<Journal::Handle>& handles) {
  size_t i = 0;
  while (i < handles.size()) {
    size_t j = i;
    while (j < handles.size() && handles[j] == handles[i]) ++j;
    journal.Release(handles[i], static_cast<int64_t>(j - i));
    i = j;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouterStream>> RouterStream::Start(
    std::shared_ptr<grpc::Channel> channel, const Options& options) {
  std::unique_ptr<RouterStream> rs(new RouterStream());
  rs->max_pending_ = options.max_pending;
  std::vector<Journal::Record> recovered;
  if (!options.journal_dir.empty()) {
    Journal::Options journal_options;
    journal_options.dir = options.journal_dir;
    journal_options.sync = options.journal_sync;
    absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(journal_options, &recovered);
    if (!journal.ok()) return journal.status();
    rs->journal_ = *std::move(journal);
  }
  rs->stub_ = rinha::v1::Router::NewStub(std::move(channel));

  Stream::Options stream_options;
  stream_options.name = options.name;
  stream_options.max_pending = options.max_pending;
  stream_options.max_batch = options.max_batch;
  stream_options.batch_window = options.batch_window;
  stream_options.initial_backoff = options.initial_backoff;
  stream_options.max_backoff = options.max_backoff;
  Stream::Hooks hooks;
  rinha::v1::Router::Stub* stub = rs->stub_.get();
  hooks.open = [stub](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
    return stub->PrepareAsyncSubmit(context, cq);
  };
  hooks.add = [](rinha::v1::PaymentBatch& batch, rinha::v1::Payment&& payment) {
    *batch.add_payments() = std::move(payment);
  };
  Journal* journal = rs->journal_.get();
  hooks.on_ack = [journal](const rinha::v1::PaymentBatch& batch, const rinha::v1::PaymentAck& ack,
                           const std::vector<Journal::Handle>& handles) {
    if (ack.result() == rinha::v1::ACK_RESULT_RETRY_LATER) return Stream::Verdict::kRetryLater;
    if (ack.invalid() > 0) {
      RINHA_LOG_ERROR("edge: the router refused %d malformed payments of batch %d (a bug)",
                      ack.invalid(), batch.batch_id());
    }
    if (journal != nullptr) ReleaseAll(*journal, handles);
    return Stream::Verdict::kDone;
  };
  rs->stream_ = Stream::Start(stream_options, std::move(hooks));

  for (Journal::Record& record : recovered) {
    rinha::v1::Payment payment;
    if (!payment.ParseFromString(record.payload) || payment.correlation_id().empty()) {
      RINHA_LOG_ERROR("edge: unreadable journal record (%d bytes) dropped", record.payload.size());
      rs->journal_->Release(record.handle);
      continue;
    }
    rs->stream_->EnqueueUnbounded(std::move(payment), record.handle);
    ++rs->recovered_;
  }
  if (rs->recovered_ > 0) {
    RINHA_LOG_WARNING(
        "edge: resending %d payments that an earlier run accepted and the router "
        "had not acknowledged",
        rs->recovered_);
  }
  return rs;
}

RouterStream::~RouterStream() { Shutdown(absl::ZeroDuration()); }

bool RouterStream::Enqueue(rinha::v1::Payment payment) {
  if (journal_ == nullptr) {
    if (stream_->Enqueue(std::move(payment), 0)) return true;
    queue_full_.fetch_add(1, std::memory_order_relaxed);  // or shutting down
    return false;
  }
  // Cheap early refusal, so that a full edge does not journal what it will refuse anyway (the
  // stream enforces the bound exactly).
  if (static_cast<size_t>(stream_->stats().pending) >= max_pending_) {
    queue_full_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const std::string record = payment.SerializeAsString();
  absl::StatusOr<Journal::Handle> handle = journal_->Append(record);
  if (!handle.ok()) {
    if (journal_errors_.fetch_add(1) % 1000 == 0) {
      RINHA_LOG_ERROR("edge: refusing payments: %s", handle.status().ToString());
    }
    return false;
  }
  if (!stream_->Enqueue(std::move(payment), *handle)) {
    journal_->Release(*handle);
    queue_full_.fetch_add(1, std::memory_order_relaxed);  // or shutting down
    return false;
  }
  return true;
}

bool RouterStream::Holds(std::string_view correlation_id) const {
  return stream_->AnyHeld(
      [correlation_id](const rinha::v1::Payment& p) {
        return p.correlation_id() == correlation_id;
      },
      [correlation_id](const rinha::v1::PaymentBatch& batch) {
        for (const rinha::v1::Payment& p : batch.payments()) {
          if (p.correlation_id() == correlation_id) return true;
        }
        return false;
      });
}

RouterStream::Stats RouterStream::stats() const {
  Stats s;
  s.stream = stream_->stats();
  if (journal_ != nullptr) s.journal = journal_->stats();
  s.recovered = recovered_;
  s.journal_errors = journal_errors_.load();
  s.queue_full = queue_full_.load(std::memory_order_relaxed);
  return s;
}

void RouterStream::Shutdown(absl::Duration drain) {
  if (stream_ != nullptr) stream_->Shutdown(drain);
}

}  // namespace rinha::edge
