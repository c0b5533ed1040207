#include "router/ledger_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "common/log.h"

namespace rinha::router {

// One Settle call. Its lifetime: created by the connector, deleted in OnDone. A hold keeps OnDone
// from running while a write may still be started from outside a reaction: it is released only
// once the stream is broken and no write is in progress (both decided under the owner's mutex).
class LedgerClient::Stream final
    : public grpc::ClientBidiReactor<rinha::v1::SettlementBatch, rinha::v1::SettlementAck> {
 public:
  Stream(LedgerClient* owner, std::shared_ptr<grpc::ClientContext> context)
      : owner_(owner), context_(std::move(context)) {}

  void Begin(rinha::v1::Ledger::Stub* stub) {
    stub->async()->Settle(context_.get(), this);
    AddHold();
    StartRead(&ack_);
    StartCall();
  }

  void OnWriteDone(bool ok) override { owner_->OnWriteDone(this, ok); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      owner_->OnReadFailed(this);
      return;
    }
    owner_->OnAck(this, ack_);
    StartRead(&ack_);
  }
  void OnDone(const grpc::Status& status) override {
    if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
      RINHA_LOG_WARNING("router: ledger stream ended: %s", status.error_message());
    }
    owner_->OnStreamDone(this);
    delete this;
  }

  // Guarded by the owner's mutex.
  bool started = false;
  bool writing = false;
  bool broken = false;
  bool released = false;
  rinha::v1::SettlementBatch write_buffer;

  void Release() { RemoveHold(); }

 private:
  LedgerClient* const owner_;
  std::shared_ptr<grpc::ClientContext> context_;
  rinha::v1::SettlementAck ack_;
};

std::unique_ptr<LedgerClient> LedgerClient::Start(const std::string& target,
                                                  const Options& options) {
  std::unique_ptr<LedgerClient> client(new LedgerClient(target, options));
  client->connector_ = std::thread([raw = client.get()] { raw->ConnectorLoop(); });
  return client;
}

LedgerClient::LedgerClient(const std::string& target, const Options& options)
    : options_(options) {
  grpc::ChannelArguments args;
  // The ledger restarting must not leave us backing off for up to two minutes (gRPC's default).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  stub_ = rinha::v1::Ledger::NewStub(channel_);
}

LedgerClient::~LedgerClient() {
  std::shared_ptr<grpc::ClientContext> context;
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    context = context_;
  }
  if (context != nullptr) context->TryCancel();
  {
    absl::MutexLock lock(&mu_);
    auto gone = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stream_ == nullptr; };
    mu_.Await(absl::Condition(&gone));
  }
  connector_.join();
  absl::MutexLock lock(&mu_);
  if (unacked_count_ > 0) {
    RINHA_LOG_WARNING("router: %d settlements not acknowledged by the ledger at exit",
                      unacked_count_);
  }
}

void LedgerClient::ConnectorLoop() {
  int64_t backoff_ms = 0;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto need = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shutdown_ || stream_ == nullptr;
      };
      mu_.Await(absl::Condition(&need));
      if (shutdown_) return;
      // Back off only when the previous stream ended without an acknowledgement.
      backoff_ms = acked_since_connect_ || streams_opened_ == 0
                       ? 0
                       : std::clamp<int64_t>(backoff_ms * 2, options_.reconnect_initial_ms,
                                             options_.reconnect_max_ms);
      if (backoff_ms > 0) {
        auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return shutdown_; };
        mu_.AwaitWithTimeout(absl::Condition(&stopping), absl::Milliseconds(backoff_ms));
        if (shutdown_) return;
      }
      auto context = std::make_shared<grpc::ClientContext>();
      // Waits for the ledger to be reachable instead of failing at once; no deadline: this
      // stream lives as long as the process (each batch's acknowledgement is what we await).
      context->set_wait_for_ready(true);
      context_ = context;
      stream_ = new Stream(this, context);
      ++streams_opened_;
      acked_since_connect_ = false;
      // Everything not acknowledged goes again, in order, before newer settlements.
      for (auto it = unacked_.rbegin(); it != unacked_.rend(); ++it) {
        for (int i = it->second.settlements_size() - 1; i >= 0; --i) {
          unsent_.push_front(std::move(*it->second.mutable_settlements(i)));
        }
      }
      unacked_.clear();
    }
    // Begin outside the lock: reactions may run as soon as the call starts. Until `started` is
    // set, no write is attempted on it; OnDone cannot run before its hold is released, and it
    // clears stream_ before deleting the stream, so stream_ == stream proves it still exists.
    Stream* stream;
    {
      absl::MutexLock lock(&mu_);
      stream = stream_;
    }
    stream->Begin(stub_.get());
    {
      absl::MutexLock lock(&mu_);
      if (stream_ == stream) stream->started = true;
    }
    TryWrite();
  }
}

void LedgerClient::Settle(const rinha::v1::Settlement& settlement) {
  {
    absl::MutexLock lock(&mu_);
    unsent_.push_back(settlement);
    ++unacked_count_;
  }
  TryWrite();
}

void LedgerClient::TryWrite() {
  Stream* stream = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (stream_ == nullptr || !stream_->started || stream_->broken || stream_->writing ||
        unsent_.empty()) {
      return;
    }
    stream = stream_;
    stream->writing = true;
    rinha::v1::SettlementBatch& batch = unacked_[next_batch_id_];
    batch.set_batch_id(next_batch_id_++);
    const int n = std::min<int>(options_.max_batch, static_cast<int>(unsent_.size()));
    for (int i = 0; i < n; ++i) {
      *batch.add_settlements() = std::move(unsent_.front());
      unsent_.pop_front();
    }
    stream->write_buffer = batch;
  }
  stream->StartWrite(&stream->write_buffer);
}

void LedgerClient::OnWriteDone(Stream* stream, bool ok) {
  bool release = false;
  {
    absl::MutexLock lock(&mu_);
    stream->writing = false;
    if (!ok) stream->broken = true;
    if (stream->broken && !stream->released) {
      stream->released = true;
      release = true;
    }
  }
  if (release) {
    stream->Release();
    return;
  }
  TryWrite();
}

void LedgerClient::OnAck(Stream* /*stream*/, const rinha::v1::SettlementAck& ack) {
  absl::MutexLock lock(&mu_);
  auto it = unacked_.find(ack.batch_id());
  if (it == unacked_.end()) return;  // acknowledged before, on an earlier stream
  const rinha::v1::SettlementBatch& batch = it->second;
  for (int i = 0; i < ack.outcomes_size() && i < batch.settlements_size(); ++i) {
    const rinha::v1::SettlementOutcome outcome = ack.outcomes(i);
    if (outcome == rinha::v1::SETTLEMENT_OUTCOME_CONFLICT ||
        outcome == rinha::v1::SETTLEMENT_OUTCOME_INVALID) {
      ++rejected_;
      RINHA_LOG_ERROR("router: ledger rejected settlement %s (outcome %d)",
                      batch.settlements(i).correlation_id(), static_cast<int>(outcome));
    }
  }
  acknowledged_ += batch.settlements_size();
  unacked_count_ -= batch.settlements_size();
  acked_since_connect_ = true;
  unacked_.erase(it);
}

void LedgerClient::OnReadFailed(Stream* stream) {
  bool release = false;
  {
    absl::MutexLock lock(&mu_);
    stream->broken = true;
    if (!stream->writing && !stream->released) {
      stream->released = true;
      release = true;
    }
  }
  if (release) stream->Release();
}

void LedgerClient::OnStreamDone(Stream* stream) {
  absl::MutexLock lock(&mu_);
  if (stream_ == stream) {
    stream_ = nullptr;
    context_.reset();
  }
}

}  // namespace rinha::router

namespace rinha::router {

int64_t LedgerClient::unacknowledged() const {
  absl::MutexLock lock(&mu_);
  return unacked_count_;
}

int64_t LedgerClient::acknowledged() const {
  absl::MutexLock lock(&mu_);
  return acknowledged_;
}

int64_t LedgerClient::rejected() const {
  absl::MutexLock lock(&mu_);
  return rejected_;
}

int64_t LedgerClient::streams_opened() const {
  absl::MutexLock lock(&mu_);
  return streams_opened_;
}

}  // namespace rinha::router
