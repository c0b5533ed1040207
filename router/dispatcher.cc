#include "router/dispatcher.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"

namespace rinha::router {

absl::StatusOr<std::unique_ptr<Dispatcher>> Dispatcher::Start(const RouterConfig& config,
                                                              SettlementSink& sink, Clock& clock) {
  std::unique_ptr<Dispatcher> d(new Dispatcher(config, sink, clock));
  absl::StatusOr<std::unique_ptr<HttpTransport>> transport =
      HttpTransport::Create(config.default_url, config.fallback_url, config.timeouts);
  if (!transport.ok()) return transport.status();
  d->transport_ = *std::move(transport);
  d->core_ = std::make_unique<RouterCore>(d->config_, *d->transport_, d->sink_);
  d->thread_ = std::thread([raw = d.get()] { raw->Loop(); });
  return d;
}

Dispatcher::Dispatcher(const RouterConfig& config, SettlementSink& sink, Clock& clock)
    : config_(config), sink_(sink), clock_(clock) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
    purged_.notify_all();
  }
  if (transport_ != nullptr) transport_->Wake();
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::Submit(const rinha::v1::PaymentBatch& batch) {
  const int64_t now_us = SteadyMicros();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const rinha::v1::Payment& p : batch.payments()) {
      inbox_.push_back(Arrival{p.correlation_id(), p.amount_cents(), now_us});
    }
  }
  transport_->Wake();
}

int64_t Dispatcher::Purge() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t ticket = ++purges_requested_;
  transport_->Wake();
  purged_.wait(lock, [this, ticket] { return purges_done_ >= ticket || stop_; });
  return last_purge_count_;
}

RouterCoreStats Dispatcher::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Dispatcher::Report(int64_t now_ms) {
  const RouterCoreStats s = core_->stats();
  if (s.queued == 0 && s.in_flight == 0 && s.settled_default == last_reported_settled_[0] &&
      s.settled_fallback == last_reported_settled_[1]) {
    return;  // idle: nothing to say
  }
  last_reported_settled_[0] = s.settled_default;
  last_reported_settled_[1] = s.settled_fallback;
  const ProcessorSignals d = core_->signals(Target::kDefault, now_ms);
  const ProcessorSignals f = core_->signals(Target::kFallback, now_ms);
  RINHA_LOG_INFO(
      "router: queued=%d in_flight=%d settled=%d/%d ambiguous=%d connect_failures=%d "
      "rejected=%d lookups=%d default{failing=%d latency=%d in_flight=%d} "
      "fallback{failing=%d latency=%d in_flight=%d} http_in_flight=%d connections=%d",
      s.queued, s.in_flight, s.settled_default, s.settled_fallback, s.ambiguous,
      s.connect_failures, s.rejected, s.lookups, d.failing, d.latency_ms, d.in_flight, f.failing,
      f.latency_ms, f.in_flight, transport_->in_flight(), transport_->open_connections());
}

void Dispatcher::Loop() {
  int64_t next_report_ms = 0;
  std::vector<Arrival> arrived;
  const auto on_done = [this](uint64_t token, const HttpOutcome& outcome) {
    core_->OnHttpDone(token, outcome, clock_.NowMillis());
  };
  for (;;) {
    uint64_t purge_to = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      arrived.swap(inbox_);
      if (purges_requested_ > purges_done_) purge_to = purges_requested_;
    }
    for (const Arrival& a : arrived) {
      const std::string& id = a.id;
      const int64_t amount = a.amount_cents;
      switch (core_->Accept(id, amount, a.received_us)) {
        case RouterCore::AcceptResult::kAccepted:
        case RouterCore::AcceptResult::kDuplicate:
          break;
        case RouterCore::AcceptResult::kInvalid:
          RINHA_LOG_ERROR("router: dropped invalid payment id='%s' amount_cents=%d", id, amount);
          break;
        case RouterCore::AcceptResult::kFull:
          RINHA_LOG_ERROR("router: dedup memory full (%d ids), dropped payment %s",
                          config_.max_remembered_ids, id);
          break;
      }
    }
    arrived.clear();
    if (purge_to != 0) {
      const int64_t forgotten = core_->Purge();
      std::lock_guard<std::mutex> lock(mu_);
      last_purge_count_ = forgotten;
      purges_done_ = purge_to;
      purged_.notify_all();
    }
    const int64_t now = clock_.NowMillis();
    const int64_t next = core_->Run(now);
    if (now >= next_report_ms) {
      next_report_ms = now + kReportIntervalMs;
      Report(now);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_ = core_->stats();
    }
    const int64_t wait_ms = std::clamp<int64_t>(next - now, 0, 1000);
    transport_->Poll(wait_ms, on_done);
  }
}

}  // namespace rinha::router
