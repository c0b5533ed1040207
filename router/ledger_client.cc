#include "router/ledger_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_channel.h"
#include "common/log.h"

namespace rinha::router {

std::unique_ptr<LedgerClient> LedgerClient::Start(const std::string& target, const Options& options,
                                                  Journal* journal, grpc::CompletionQueue* queue) {
  std::unique_ptr<LedgerClient> client(new LedgerClient(target, journal));
  client->settle_latency_ = options.settle_latency;
  Stream::Options stream_options;
  stream_options.name = "router: ledger stream";
  // A settlement is never refused: the payment is settled at a processor already.
  stream_options.max_pending = SIZE_MAX;
  stream_options.max_batch = static_cast<size_t>(std::max(1, options.max_batch));
  stream_options.batch_window = absl::Microseconds(options.batch_window_us);
  stream_options.initial_backoff = absl::Milliseconds(options.reconnect_initial_ms);
  stream_options.max_backoff = absl::Milliseconds(options.reconnect_max_ms);
  Stream::Hooks hooks;
  rinha::v1::Ledger::Stub* stub = client->stub_.get();
  hooks.open = [stub](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
    // Waits for the ledger to be reachable instead of failing at once; no deadline: the stream
    // lives as long as the process (each batch's acknowledgement is what we await).
    context->set_wait_for_ready(true);
    return stub->PrepareAsyncSettle(context, cq);
  };
  hooks.add = [](rinha::v1::SettlementBatch& batch, rinha::v1::Settlement&& s) {
    *batch.add_settlements() = std::move(s);
  };
  LedgerClient* raw = client.get();
  hooks.on_ack = [raw](const rinha::v1::SettlementBatch& batch, const rinha::v1::SettlementAck& ack,
                       const std::vector<Tag>& tags) { return raw->OnAck(batch, ack, tags); };
  client->stream_ = queue != nullptr ? Stream::Start(stream_options, std::move(hooks), queue)
                                     : Stream::Start(stream_options, std::move(hooks));
  return client;
}

LedgerClient::LedgerClient(const std::string& target, Journal* journal) : journal_(journal) {
  grpc::ChannelArguments args;
  // The ledger restarting must not leave us backing off for up to two minutes (gRPC's default).
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS stays unset: gRPC core takes it as the connect timeout,
  // and 100 ms fails connects whose HTTP/2 handshake is merely slow on a loaded machine (as the
  // edge's did).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A ledger restarted at a new address (a Swarm task under DNS round robin) is looked up again
  // within a second of a failed connect, not gRPC's default 30 s.
  args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 1000);
  AddNetworkKeepalive(target, &args);
  // Pages of settled ids (ListResponse) are up to about 1 MB.
  args.SetMaxReceiveMessageSize(16 << 20);
  channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  stub_ = rinha::v1::Ledger::NewStub(channel_);
}

LedgerClient::~LedgerClient() { Shutdown(absl::ZeroDuration()); }

void LedgerClient::Shutdown(absl::Duration drain) {
  if (stream_ == nullptr) return;
  stream_->Shutdown(drain);
  const int64_t left = stream_->stats().pending;
  if (left > 0) {
    RINHA_LOG_WARNING(
        "router: %d settlements not acknowledged by the ledger at exit (they stay "
        "journaled)",
        left);
  }
}

void LedgerClient::Settle(const rinha::v1::Settlement& settlement, int64_t received_us,
                          absl::Span<const uint64_t> journal_handles) {
  stream_->EnqueueUnbounded(
      settlement, Tag{received_us, JournalHandles(journal_handles.begin(), journal_handles.end())});
}

LedgerClient::Stream::Verdict LedgerClient::OnAck(const rinha::v1::SettlementBatch& batch,
                                                  const rinha::v1::SettlementAck& ack,
                                                  const std::vector<Tag>& tags) {
  int64_t rejected = 0;
  for (int i = 0; i < ack.outcomes_size() && i < batch.settlements_size(); ++i) {
    const rinha::v1::SettlementOutcome outcome = ack.outcomes(i);
    if (outcome == rinha::v1::SETTLEMENT_OUTCOME_CONFLICT ||
        outcome == rinha::v1::SETTLEMENT_OUTCOME_INVALID) {
      ++rejected;
      RINHA_LOG_ERROR("router: ledger rejected settlement %s (outcome %d)",
                      batch.settlements(i).correlation_id(), static_cast<int>(outcome));
    }
  }
  if (journal_ != nullptr) {
    for (const Tag& tag : tags) {
      for (uint64_t handle : tag.journal_handles) journal_->Release(handle);
    }
  }
  const int64_t now_us = SteadyMicros();
  std::lock_guard<std::mutex> lock(mu_);
  for (const Tag& tag : tags) {
    if (tag.received_us <= 0) continue;
    latency_.Record(now_us - tag.received_us);
    if (settle_latency_ != nullptr) settle_latency_->Observe(now_us - tag.received_us);
  }
  acknowledged_ += static_cast<int64_t>(tags.size());
  rejected_ += rejected;
  return Stream::Verdict::kDone;
}

absl::StatusOr<rinha::v1::SummaryResponse> LedgerClient::Summary(int64_t from_ms, int64_t to_ms,
                                                                 absl::Duration deadline) {
  rinha::v1::SummaryRequest request;
  request.set_from_ms(from_ms);
  request.set_to_ms(to_ms);
  rinha::v1::SummaryResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  const grpc::Status status = stub_->Summary(&context, request, &response);
  if (!status.ok()) return absl::UnavailableError("Ledger/Summary: " + status.error_message());
  return response;
}

absl::StatusOr<absl::flat_hash_set<std::string>> LedgerClient::SettledIds(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Time next_log = absl::Now() + absl::Seconds(5);
  absl::flat_hash_set<std::string> ids;
  std::string after;
  for (;;) {
    rinha::v1::ListRequest request;
    request.set_after_correlation_id(after);
    rinha::v1::ListResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    context.set_wait_for_ready(true);
    const grpc::Status status = stub_->List(&context, request, &response);
    if (!status.ok()) {
      if (absl::Now() >= deadline) {
        return absl::UnavailableError(
            absl::StrCat("ledger: cannot list settled ids: ", status.error_message()));
      }
      if (absl::Now() >= next_log) {
        RINHA_LOG_WARNING("router: waiting for the ledger to list settled ids: %s",
                          status.error_message());
        next_log = absl::Now() + absl::Seconds(5);
      }
      absl::SleepFor(absl::Milliseconds(200));
      continue;
    }
    for (const rinha::v1::Settlement& s : response.settlements()) ids.insert(s.correlation_id());
    if (!response.more() || response.settlements_size() == 0) return ids;
    after = response.settlements(response.settlements_size() - 1).correlation_id();
  }
}

int64_t LedgerClient::unacknowledged() const { return stream_->stats().pending; }

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

int64_t LedgerClient::streams_opened() const { return stream_->stats().streams; }

int64_t LedgerClient::batches_written() const { return stream_->stats().batches_sent; }

}  // namespace rinha::router
