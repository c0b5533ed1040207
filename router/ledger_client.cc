#include "router/ledger_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"

namespace rinha::router {
namespace {

void KeepUntilExit(std::shared_ptr<grpc::Channel> channel) {
  static std::mutex mu;
  static auto* kept = new std::vector<std::shared_ptr<grpc::Channel>>();
  std::lock_guard<std::mutex> lock(mu);
  kept->push_back(std::move(channel));
}

}  // namespace

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
  if (options.batch_window_us > 0) {
    client->flusher_ = std::thread([raw = client.get()] { raw->FlusherLoop(); });
  }
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
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    context = context_;
  }
  changed_.notify_all();
  flush_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (context != nullptr) context->TryCancel();
  {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return stream_ == nullptr; });
  }
  connector_.join();
  // The channel outlives the client, until the process exits. The stream's last reaction
  // (OnDone) runs on a thread of gRPC's callback completion queue, and gRPC drops its own
  // reference to the call, and with it to the channel, only after that reaction returns. If
  // that is the last reference to the last callback-API channel, Debian's gRPC 1.51 shuts the
  // callback queue down from its own thread and frees it twice (ASan: double-free in
  // grpc_cq_internal_unref). One channel per client, and clients live as long as the router.
  KeepUntilExit(std::move(channel_));
  std::lock_guard<std::mutex> lock(mu_);
  if (unacked_count_ > 0) {
    RINHA_LOG_WARNING("router: %d settlements not acknowledged by the ledger at exit",
                      unacked_count_);
  }
}

void LedgerClient::ConnectorLoop() {
  int64_t backoff_ms = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [this] { return shutdown_ || stream_ == nullptr; });
      if (shutdown_) return;
      // Back off only when the previous stream ended without an acknowledgement.
      backoff_ms = acked_since_connect_ || streams_opened_ == 0
                       ? 0
                       : std::clamp<int64_t>(backoff_ms * 2, options_.reconnect_initial_ms,
                                             options_.reconnect_max_ms);
      if (backoff_ms > 0) {
        changed_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return shutdown_; });
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
        Unacked& u = it->second;
        for (int i = u.batch.settlements_size() - 1; i >= 0; --i) {
          unsent_.push_front(Unsent{std::move(*u.batch.mutable_settlements(i)), u.received_us[i]});
        }
      }
      unacked_.clear();
    }
    // Begin outside the lock: reactions may run as soon as the call starts. Until `started` is
    // set, no write is attempted on it; OnDone cannot run before its hold is released, and it
    // clears stream_ before deleting the stream, so stream_ == stream proves it still exists.
    Stream* stream;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream = stream_;
    }
    stream->Begin(stub_.get());
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stream_ == stream) stream->started = true;
    }
    WriteOrWakeFlusher();
  }
}

void LedgerClient::FlusherLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutdown_) {
    if (unsent_.empty() || !CanWriteLocked()) {
      flush_.wait(lock);
      continue;
    }
    const int64_t due_us = unsent_.front().queued_us + options_.batch_window_us;
    const int64_t now_us = SteadyMicros();
    if (static_cast<int>(unsent_.size()) < options_.max_batch && now_us < due_us) {
      flush_.wait_for(lock, std::chrono::microseconds(due_us - now_us));
      continue;
    }
    lock.unlock();
    TryWrite();
    lock.lock();
  }
}

bool LedgerClient::CanWriteLocked() const {
  return stream_ != nullptr && stream_->started && !stream_->broken && !stream_->writing;
}

void LedgerClient::WriteOrWakeFlusher() {
  if (options_.batch_window_us <= 0) {
    TryWrite();
    return;
  }
  flush_.notify_all();
}

void LedgerClient::Settle(const rinha::v1::Settlement& settlement, int64_t received_us) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    unsent_.push_back(Unsent{settlement, received_us, SteadyMicros()});
    ++unacked_count_;
    // The flusher sleeps through the window; it needs waking only for a first settlement
    // (its window starts) or a full batch.
    if (options_.batch_window_us > 0 && unsent_.size() != 1 &&
        static_cast<int>(unsent_.size()) != options_.max_batch) {
      return;
    }
  }
  WriteOrWakeFlusher();
}

void LedgerClient::TryWrite() {
  Stream* stream = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!CanWriteLocked() || unsent_.empty()) return;
    stream = stream_;
    stream->writing = true;
    Unacked& u = unacked_[next_batch_id_];
    u.batch.set_batch_id(next_batch_id_++);
    const int n = std::min<int>(options_.max_batch, static_cast<int>(unsent_.size()));
    u.received_us.reserve(n);
    for (int i = 0; i < n; ++i) {
      *u.batch.add_settlements() = std::move(unsent_.front().settlement);
      u.received_us.push_back(unsent_.front().received_us);
      unsent_.pop_front();
    }
    stream->write_buffer = u.batch;
    ++batches_written_;
  }
  stream->StartWrite(&stream->write_buffer);
}

void LedgerClient::OnWriteDone(Stream* stream, bool ok) {
  bool release = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
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
  WriteOrWakeFlusher();
}

void LedgerClient::OnAck(Stream* /*stream*/, const rinha::v1::SettlementAck& ack) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = unacked_.find(ack.batch_id());
  if (it == unacked_.end()) return;  // acknowledged before, on an earlier stream
  const rinha::v1::SettlementBatch& batch = it->second.batch;
  const int64_t now_us = SteadyMicros();
  for (int64_t received : it->second.received_us) {
    if (received > 0) latency_.Record(now_us - received);
  }
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
    std::lock_guard<std::mutex> lock(mu_);
    stream->broken = true;
    if (!stream->writing && !stream->released) {
      stream->released = true;
      release = true;
    }
  }
  if (release) stream->Release();
}

void LedgerClient::OnStreamDone(Stream* stream) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream_ == stream) {
      stream_ = nullptr;
      context_.reset();
    }
  }
  changed_.notify_all();
}

}  // namespace rinha::router

namespace rinha::router {

int64_t LedgerClient::unacknowledged() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unacked_count_;
}

LedgerClient::Latency LedgerClient::latency() const {
  std::lock_guard<std::mutex> lock(mu_);
  Latency l;
  l.count = latency_.count();
  l.p50_us = latency_.Percentile(0.50);
  l.p99_us = latency_.Percentile(0.99);
  l.max_us = latency_.max();
  return l;
}

int64_t LedgerClient::acknowledged() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acknowledged_;
}

int64_t LedgerClient::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

int64_t LedgerClient::streams_opened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_opened_;
}

int64_t LedgerClient::batches_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_written_;
}

}  // namespace rinha::router
