#include "router/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <string_view>
#include <utility>

#include "common/log.h"

namespace rinha::router {

Now ReadNow(const Clock& clock) { return Now{clock.MonotonicMillis(), clock.NowMillis()}; }

absl::StatusOr<std::unique_ptr<Dispatcher>> Dispatcher::Start(const RouterConfig& config,
                                                              SettlementSink& sink, Clock& clock,
                                                              Journal* journal, Recovery recovery,
                                                              CallObserver* observer) {
  std::unique_ptr<Dispatcher> d(new Dispatcher(config, sink, clock, journal));
  d->resolver_ = std::make_unique<GetaddrinfoResolver>();
  absl::StatusOr<std::unique_ptr<HttpTransport>> transport =
      HttpTransport::Create(config.default_url, config.fallback_url, config.timeouts,
                            config.resolve, *d->resolver_, clock);
  if (!transport.ok()) return transport.status();
  d->transport_ = *std::move(transport);
  if (journal != nullptr) d->dispatch_log_ = std::make_unique<JournalDispatchLog>(*journal);
  d->core_ = std::make_unique<RouterCore>(d->config_, *d->transport_, d->sink_,
                                          d->dispatch_log_.get(), observer);
  d->thread_ = std::thread([raw = d.get(), recovery = std::move(recovery)]() mutable {
    raw->Loop(std::move(recovery));
  });
  return d;
}

Dispatcher::Dispatcher(const RouterConfig& config, SettlementSink& sink, Clock& clock,
                       Journal* journal)
    : config_(config), sink_(sink), clock_(clock), journal_(journal) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Stop() {
  std::vector<Arrival> unanswered;
  std::vector<std::pair<std::string, StatusDone>> unanswered_status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
    purged_.notify_all();
    drained_.notify_all();
  }
  if (transport_ != nullptr) transport_->Wake();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    unanswered.swap(inbox_);
    unanswered_status.swap(status_inbox_);
  }
  for (Arrival& a : unanswered) a.done(rinha::v1::ACK_RESULT_RETRY_LATER, 0);
  for (auto& [id, done] : unanswered_status) done(PaymentView{});
}

void Dispatcher::Submit(rinha::v1::PaymentBatch batch, SubmitDone done) {
  const int64_t now_us = SteadyMicros();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_) {
      inbox_.push_back(Arrival{std::move(batch), now_us, std::move(done)});
      done = nullptr;
    }
  }
  if (done != nullptr) {
    done(rinha::v1::ACK_RESULT_RETRY_LATER, 0);
    return;
  }
  transport_->Wake();
}

void Dispatcher::Status(std::string correlation_id, StatusDone done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_) {
      status_inbox_.emplace_back(std::move(correlation_id), std::move(done));
      done = nullptr;
    }
  }
  if (done != nullptr) {
    done(PaymentView{});
    return;
  }
  transport_->Wake();
}

void Dispatcher::Drain(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  draining_ = true;
  transport_->Wake();
  drained_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                    [this] { return drained_in_flight_zero_ || stop_; });
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

int64_t Dispatcher::refused_batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_batches_;
}

void Dispatcher::Report(int64_t mono_ms) {
  const RouterCoreStats s = core_->stats();
  if (s.queued == 0 && s.in_flight == 0 && s.double_checks == 0 &&
      s.settled_default == last_reported_settled_[0] &&
      s.settled_fallback == last_reported_settled_[1]) {
    return;  // idle: nothing to say
  }
  last_reported_settled_[0] = s.settled_default;
  last_reported_settled_[1] = s.settled_fallback;
  const ProcessorSignals d = core_->signals(Target::kDefault, mono_ms);
  const ProcessorSignals f = core_->signals(Target::kFallback, mono_ms);
  RINHA_LOG_INFO(
      "router: queued=%d in_flight=%d settled=%d/%d ambiguous=%d connect_failures=%d "
      "rejected=%d lookups=%d lookups_waiting=%d recovering=%d undecided=%d double_payments=%d "
      "double_checks=%d "
      "default{failing=%d latency=%d in_flight=%d} "
      "fallback{failing=%d latency=%d in_flight=%d} http_in_flight=%d connections=%d",
      s.queued, s.in_flight, s.settled_default, s.settled_fallback, s.ambiguous, s.connect_failures,
      s.rejected, s.lookups, s.lookups_waiting, s.recovering, s.undecided,
      s.double_payments_detected, s.double_checks, d.failing, d.latency_ms, d.in_flight, f.failing,
      f.latency_ms, f.in_flight, transport_->in_flight(), transport_->open_connections());
}

void Dispatcher::TakeOver(Recovery recovery) {
  int64_t remembered = 0;
  for (const std::string& id : recovery.settled_ids) {
    if (core_->Remember(id) == RouterCore::AcceptResult::kFull) {
      RINHA_LOG_ERROR("router: memory of ids full (%d) while reading the ledger's ids",
                      config_.max_remembered_ids);
      break;
    }
    ++remembered;
  }
  int64_t settled = 0;
  int64_t taken = 0;
  int64_t unknown_sends = 0;
  const Now now = ReadNow(clock_);
  JournalReplay replay = ReplayJournal(recovery.journal);
  auto release = [this](absl::Span<const uint64_t> handles) {
    for (uint64_t h : handles) journal_->Release(h);
  };
  if (replay.unreadable > 0) {
    RINHA_LOG_ERROR("router: %d unreadable journal records dropped", replay.unreadable);
  }
  release(replay.orphans);
  for (const RecoveredPayment& p : replay.payments) {
    if (recovery.settled_ids.contains(p.correlation_id)) {
      ++settled;  // the ledger holds it: this promise was kept
      release(p.journal_handles);
      continue;
    }
    switch (core_->Recover(p, now)) {
      case RouterCore::AcceptResult::kAccepted:
        ++taken;
        unknown_sends += p.sends_known ? 0 : 1;
        break;
      case RouterCore::AcceptResult::kDuplicate:
        release(p.journal_handles);  // cannot happen: ReplayJournal groups by id
        break;
      case RouterCore::AcceptResult::kInvalid:
      case RouterCore::AcceptResult::kFull:
        RINHA_LOG_ERROR("router: could not take over journaled payment %s; it stays journaled",
                        p.correlation_id);
        break;
    }
  }
  if (!recovery.journal.empty() || remembered > 0) {
    RINHA_LOG_WARNING(
        "router: took over %d payments of an earlier run (each looked up where the journal says it "
        "was sent, %d of them at both processors for want of a record of their POSTs, before "
        "anything else); %d journaled ones were already in the ledger; %d settled ids remembered",
        taken, unknown_sends, settled, remembered);
  }
}

void Dispatcher::Take(Arrival& arrival) {
  int invalid = 0;
  std::vector<const rinha::v1::Payment*> fresh;
  fresh.reserve(arrival.batch.payments_size());
  for (const rinha::v1::Payment& p : arrival.batch.payments()) {
    if (p.correlation_id().empty() || p.amount_cents() <= 0) {
      ++invalid;
      RINHA_LOG_ERROR("router: refused malformed payment id='%s' amount_cents=%d",
                      p.correlation_id(), p.amount_cents());
      continue;
    }
    if (core_->Knows(p.correlation_id())) continue;  // a resend: already ours (or settled)
    bool repeated = false;                           // the same id twice in one batch
    for (const rinha::v1::Payment* f : fresh)
      repeated = repeated || f->correlation_id() == p.correlation_id();
    if (!repeated) fresh.push_back(&p);
  }
  auto refuse = [&](const char* why) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++refused_batches_;
    }
    RINHA_LOG_WARNING("router: batch of %d payments not taken (%s); the edge sends it again",
                      arrival.batch.payments_size(), why);
    arrival.done(rinha::v1::ACK_RESULT_RETRY_LATER, 0);
  };
  if (!core_->HasRoomFor(static_cast<int64_t>(fresh.size()))) {
    refuse("memory of ids full");
    return;
  }
  uint64_t handle = 0;
  if (journal_ != nullptr && !fresh.empty()) {
    std::vector<std::string> records;
    records.reserve(fresh.size());
    for (const rinha::v1::Payment* p : fresh) records.push_back(EncodeAcceptedRecord(*p));
    std::vector<std::string_view> views(records.begin(), records.end());
    absl::StatusOr<Journal::Handle> appended = journal_->Append(views);
    if (!appended.ok()) {
      refuse(std::string(appended.status().message()).c_str());
      return;
    }
    handle = *appended;
  }
  const Now now = ReadNow(clock_);
  for (const rinha::v1::Payment* p : fresh) {
    core_->Accept(p->correlation_id(), p->amount_cents(), arrival.received_us, handle, now);
  }
  arrival.done(rinha::v1::ACK_RESULT_TAKEN, invalid);
}

void Dispatcher::Loop(Recovery recovery) {
  TakeOver(std::move(recovery));
  int64_t next_report_ms = 0;  // monotonic
  std::vector<Arrival> arrived;
  std::vector<std::pair<std::string, StatusDone>> asked;
  const auto on_done = [this](uint64_t token, const HttpOutcome& outcome) {
    core_->OnHttpDone(token, outcome, ReadNow(clock_));
  };
  for (;;) {
    uint64_t purge_to = 0;
    bool draining = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      arrived.swap(inbox_);
      asked.swap(status_inbox_);
      if (purges_requested_ > purges_done_) purge_to = purges_requested_;
      draining = draining_;
    }
    for (Arrival& a : arrived) Take(a);
    arrived.clear();
    if (purge_to != 0) {
      const int64_t forgotten = core_->Purge();
      std::lock_guard<std::mutex> lock(mu_);
      last_purge_count_ = forgotten;
      purges_done_ = purge_to;
      purged_.notify_all();
    }
    core_->set_draining(draining);
    const Now now = ReadNow(clock_);
    for (auto& [id, done] : asked) done(core_->Find(id, now.mono_ms));
    asked.clear();
    const int64_t next = core_->Run(now);
    if (now.mono_ms >= next_report_ms) {
      next_report_ms = now.mono_ms + kReportIntervalMs;
      Report(now.mono_ms);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_ = core_->stats();
      if (draining && stats_.in_flight == 0) {
        drained_in_flight_zero_ = true;
        drained_.notify_all();
      }
    }
    const int64_t wait_ms = std::clamp<int64_t>(next - now.mono_ms, 0, 1000);
    transport_->Poll(wait_ms, on_done);
  }
}

}  // namespace rinha::router
