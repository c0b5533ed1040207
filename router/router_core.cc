#include "router/router_core.h"

#include <algorithm>
#include <limits>

#include "common/backoff.h"
#include "common/iso_time.h"
#include "common/json.h"
#include "common/log.h"
#include "common/money.h"
#include "router/retry_backoff.h"
#include "router/routing_policy.h"

namespace rinha::router {

rinha::v1::Processor ToProto(Target target) {
  return target == Target::kDefault ? rinha::v1::PROCESSOR_DEFAULT : rinha::v1::PROCESSOR_FALLBACK;
}

std::string_view TargetName(Target target) {
  return target == Target::kDefault ? "default" : "fallback";
}

std::string PaymentRequestBody(std::string_view correlation_id, int64_t amount_cents,
                               int64_t requested_at_ms) {
  std::string body;
  body.reserve(128);
  std::string amount;
  AppendCents(&amount, amount_cents);
  std::string at;
  AppendIsoMillis(&at, requested_at_ms);
  JsonWriter(&body)
      .BeginObject()
      .Key("correlationId")
      .String(correlation_id)
      .Key("amount")
      .Raw(amount)
      .Key("requestedAt")
      .String(at)
      .EndObject();
  return body;
}

bool ParseHealthBody(std::string_view body, bool* failing, int64_t* min_response_ms) {
  bool have_failing = false;
  bool have_min = false;
  const absl::Status status =
      ParseJsonObject(body, [&](std::string_view key, const JsonValue& value) -> absl::Status {
        if (key == "failing" && (value.type == JsonType::kTrue || value.type == JsonType::kFalse)) {
          *failing = value.type == JsonType::kTrue;
          have_failing = true;
        } else if (key == "minResponseTime" && value.type == JsonType::kNumber) {
          // An integer number of ms; read it as a decimal and drop any fraction.
          absl::StatusOr<int64_t> cents = ParseDecimalCents(value.raw, CentsRounding::kHalfEven);
          if (cents.ok()) {
            *min_response_ms = std::max<int64_t>(0, *cents / 100);
            have_min = true;
          }
        }
        return absl::OkStatus();
      });
  return status.ok() && have_failing && have_min;
}

bool ParseStoredRequestedAt(std::string_view body, int64_t* requested_at_ms) {
  bool found = false;
  const absl::Status status =
      ParseJsonObject(body, [&](std::string_view key, const JsonValue& value) -> absl::Status {
        if (key == "requestedAt" && value.type == JsonType::kString) {
          absl::StatusOr<absl::Time> at = ParseIsoTime(value.string, IsoZone::kAbsentIsUtc);
          if (!at.ok()) return at.status();
          *requested_at_ms = FloorMillis(*at);
          found = true;
        }
        return absl::OkStatus();
      });
  return status.ok() && found;
}

std::string_view PaymentStateName(PaymentState state) {
  switch (state) {
    case PaymentState::kQueued:
      return "queued";
    case PaymentState::kPosting:
      return "in_flight";
    case PaymentState::kAmbiguous:
      return "ambiguous";
    case PaymentState::kRecovering:
      return "recovering";
  }
  return "?";
}

namespace {

TokenBucket LookupBudget(const RoutingConfig& routing) {
  return TokenBucket(routing.max_lookups_per_s, std::max(1, routing.max_lookups_per_s / 5));
}

}  // namespace

RouterCore::RouterCore(const RouterConfig& config, Transport& transport, SettlementSink& sink,
                       DispatchLog* dispatch_log, CallObserver* observer)
    : config_(config),
      transport_(transport),
      sink_(sink),
      dispatch_log_(dispatch_log),
      observer_(observer),
      ids_(config.max_remembered_ids),
      health_{ProcessorHealth(config.default_fee_bp, config.routing, config.retry),
              ProcessorHealth(config.fallback_fee_bp, config.routing, config.retry)},
      gates_{HealthPollGate(config.health.min_interval_ms),
             HealthPollGate(config.health.min_interval_ms)},
      health_slots_(config.health.slot, config.health.slots, config.health.min_interval_ms,
                    config.health.slot_open_ms),
      lookup_budget_{LookupBudget(config.routing), LookupBudget(config.routing)},
      release_budget_(config.routing.release_per_s,
                      std::max(1, config.routing.release_per_s / 10)) {}

RouterCore::AcceptResult RouterCore::Accept(std::string_view correlation_id, int64_t amount_cents,
                                            int64_t received_us, uint64_t journal_handle, Now now) {
  if (correlation_id.empty() || amount_cents <= 0) return AcceptResult::kInvalid;
  switch (ids_.Insert(correlation_id)) {
    case CorrelationIdSet::InsertResult::kDuplicate:
      ++duplicates_;
      return AcceptResult::kDuplicate;
    case CorrelationIdSet::InsertResult::kFull:
      return AcceptResult::kFull;
    case CorrelationIdSet::InsertResult::kNew:
      break;
  }
  const uint64_t seq = next_seq_++;
  Payment& p = payments_[seq];
  p.id = std::string(correlation_id);
  seq_by_id_[p.id] = seq;
  p.amount_cents = amount_cents;
  p.received_us = received_us;
  if (now.mono_ms >= 0) last_mono_ms_ = std::max(last_mono_ms_, now.mono_ms);
  p.since_ms = last_mono_ms_;
  last_accept_ms_ = last_mono_ms_;
  if (was_waiting_) MarkWaiting(p);
  if (journal_handle != 0) p.journal_handles.push_back(journal_handle);
  ready_.push_back(seq);
  return AcceptResult::kAccepted;
}

RouterCore::AcceptResult RouterCore::Recover(const RecoveredPayment& recovered, Now now) {
  if (recovered.correlation_id.empty() || recovered.amount_cents <= 0) {
    return AcceptResult::kInvalid;
  }
  switch (ids_.Insert(recovered.correlation_id)) {
    case CorrelationIdSet::InsertResult::kDuplicate:
      ++duplicates_;
      return AcceptResult::kDuplicate;
    case CorrelationIdSet::InsertResult::kFull:
      return AcceptResult::kFull;
    case CorrelationIdSet::InsertResult::kNew:
      break;
  }
  last_mono_ms_ = std::max(last_mono_ms_, now.mono_ms);
  const uint64_t seq = next_seq_++;
  Payment& p = payments_[seq];
  p.id = recovered.correlation_id;
  seq_by_id_[p.id] = seq;
  p.amount_cents = recovered.amount_cents;
  p.since_ms = now.mono_ms;
  p.journal_handles = recovered.journal_handles;
  p.recovering = true;
  ++recovering_;
  ++recovered_total_;
  for (int t = 0; t < kTargets; ++t) {
    p.sent_at_ms[t] = recovered.sent_at_ms[t];
    p.recovery_needed[t] = !recovered.sends_known || recovered.sent_at_ms[t] >= 0;
    // A 404 is final from a lookup made once the processor's insert window after the last send
    // there has passed: measured on the wall clock (the only one two runs share), and never
    // longer than the whole window from now (a wall clock that stepped back).
    int64_t window = config_.retry.ambiguity_settle_ms;
    if (recovered.sent_at_ms[t] >= 0) {
      window = std::clamp<int64_t>(
          recovered.sent_at_ms[t] + config_.retry.ambiguity_settle_ms - now.wall_ms, 0, window);
    }
    p.recovery_settle_at_ms[t] = now.mono_ms + window;
  }
  StartRecoveryLookups(seq, p);
  return AcceptResult::kAccepted;
}

RouterCore::AcceptResult RouterCore::Remember(std::string_view correlation_id) {
  switch (ids_.Insert(correlation_id)) {
    case CorrelationIdSet::InsertResult::kDuplicate:
      return AcceptResult::kDuplicate;
    case CorrelationIdSet::InsertResult::kFull:
      return AcceptResult::kFull;
    case CorrelationIdSet::InsertResult::kNew:
      break;
  }
  return AcceptResult::kAccepted;
}

void RouterCore::StartPost(uint64_t seq, Payment& p, Target target, const Now& now) {
  const int t = static_cast<int>(target);
  const uint64_t token = next_token_++;
  p.phase = Phase::kPosting;
  p.posted_at_ms = now.mono_ms;
  p.posted_to = target;
  // While pinned to `target`, every POST there carries the same requestedAt, so that whichever
  // of them it stores, it holds what we sent. Otherwise the only use of the wall clock: the
  // timestamp the processor stores and the summary filters on.
  const bool resend = p.pinned && p.pinned_to == target && p.sent_at_ms[t] >= 0;
  const int64_t requested_at_ms = resend ? p.sent_at_ms[t] : now.wall_ms;
  p.last_post_resend = resend;
  requests_[token] = Request{RequestKind::kPost, target, seq, now.mono_ms};
  ++posts_in_flight_;
  health(target).OnSent(token, now.mono_ms);
  outbox_.push_back(OutgoingPost{token, seq, target, requested_at_ms, resend});
}

void RouterCore::FlushPosts(const Now& now) {
  if (outbox_.empty()) return;
  std::vector<OutgoingPost> posts;
  posts.swap(outbox_);
  bool journaled = true;
  uint64_t handle = 0;
  if (dispatch_log_ != nullptr) {
    std::vector<DispatchLog::Entry> entries;
    entries.reserve(posts.size());
    for (const OutgoingPost& post : posts) {
      if (post.journaled) continue;
      entries.push_back(
          DispatchLog::Entry{payments_.at(post.seq).id, post.target, post.requested_at_ms});
    }
    if (!entries.empty()) {
      absl::StatusOr<uint64_t> recorded = dispatch_log_->Record(entries);
      journaled = recorded.ok();
      if (journaled) {
        handle = *recorded;
        if (dispatch_failures_ > 0) {
          RINHA_LOG_WARNING("router: the journal takes POSTs again after %d failed writes",
                            dispatch_failures_);
        }
        dispatch_failures_ = 0;
      } else {
        if (dispatch_failures_ == 0) {
          RINHA_LOG_ERROR(
              "router: cannot journal POSTs (%s): payments are held back until it can; retrying "
              "with backoff",
              recorded.status().message());
        }
        ++dispatch_failures_;
        dispatch_journal_errors_ += static_cast<int64_t>(entries.size());
        dispatch_retry_at_ms_ = now.mono_ms + RetryDelayMs(config_.retry, dispatch_failures_);
      }
    }
  }
  // Sent in order; held back in reverse so that the oldest is first in line again.
  for (const OutgoingPost& post : posts) {
    if (!journaled && !post.journaled) continue;
    Payment& p = payments_.at(post.seq);
    p.sent_at_ms[static_cast<int>(post.target)] = post.requested_at_ms;
    if (!post.journaled && handle != 0) p.journal_handles.push_back(handle);
    transport_.PostPayment(post.token, post.target,
                           PaymentRequestBody(p.id, p.amount_cents, post.requested_at_ms));
  }
  for (auto it = posts.rbegin(); it != posts.rend(); ++it) {
    if (journaled || it->journaled) continue;
    requests_.erase(it->token);
    --posts_in_flight_;
    health(it->target).OnCancelled(it->token);
    Payment& p = payments_.at(it->seq);
    if (p.pinned) {
      RetryPinnedLater(it->seq, p, now);
    } else {
      p.phase = Phase::kWaiting;
      if (was_waiting_) MarkWaiting(p);
      ready_.push_front(it->seq);
    }
  }
}

void RouterCore::StartLookup(uint64_t seq, Payment& p) {
  p.phase = Phase::kLookingUp;
  lookup_wait_[static_cast<int>(p.pinned_to)].push_back(
      LookupWant{false, seq, ++p.lookup_generation});
}

void RouterCore::RunLookups(const Now& now, int64_t* next) {
  for (int t = 0; t < kTargets; ++t) {
    std::deque<LookupWant>& wait = lookup_wait_[t];
    while (!wait.empty()) {
      const LookupWant want = wait.front();
      std::string_view id;
      if (want.double_check) {
        auto it = checks_.find(want.seq);
        if (it == checks_.end()) {
          wait.pop_front();
          continue;
        }
        id = it->second.id;
      } else {
        auto it = payments_.find(want.seq);
        if (it == payments_.end() || it->second.phase != Phase::kLookingUp ||
            it->second.lookup_generation != want.generation) {
          wait.pop_front();
          continue;
        }
        id = it->second.id;
      }
      if (lookups_in_flight_at_[t] >= config_.routing.max_lookups_in_flight) break;  // an answer
      if (!lookup_budget_[t].TryTake(now.mono_ms)) {                                 // wakes us
        *next = std::min(*next, lookup_budget_[t].NextTokenMs(now.mono_ms));
        break;
      }
      wait.pop_front();
      IssueLookup(want.double_check ? RequestKind::kDoubleCheck : RequestKind::kLookup, want.seq,
                  id, static_cast<Target>(t), now);
    }
  }
}

void RouterCore::IssueLookup(RequestKind kind, uint64_t seq, std::string_view id, Target target,
                             const Now& now) {
  const int t = static_cast<int>(target);
  ++lookups_in_flight_at_[t];
  ++lookups_in_flight_;
  ++lookups_;
  ++lookups_at_[t];
  const uint64_t token = next_token_++;
  requests_[token] = Request{kind, target, seq, now.mono_ms};
  transport_.GetPayment(token, target, id);
}

void RouterCore::StartRecoveryLookups(uint64_t seq, Payment& p) {
  bool needed[kTargets];
  int count = 0;
  for (int t = 0; t < kTargets; ++t) {
    // A 404 counts only from a lookup made once the processor's insert window has passed.
    needed[t] = p.recovery_needed[t] && p.absent_since_ms[t] < p.recovery_settle_at_ms[t];
    count += needed[t] ? 1 : 0;
  }
  if (count == 0) {
    Free(seq, p);
    return;
  }
  p.phase = Phase::kLookingUp;
  p.recovery_lookups = count;
  p.recovery_error = false;
  ++p.lookup_generation;
  for (int t = 0; t < kTargets; ++t) {
    if (needed[t]) lookup_wait_[t].push_back(LookupWant{false, seq, p.lookup_generation});
  }
}

bool RouterCore::HeldRequestedAt(std::string_view id, Target target, int64_t sent_at_ms,
                                 bool echo_decides, std::string_view body,
                                 int64_t* requested_at_ms) {
  const int t = static_cast<int>(target);
  int64_t echoed = 0;
  if (!ParseStoredRequestedAt(body, &echoed)) {
    ++unreadable_echoes_;
    if (!said_unreadable_[t]) {
      said_unreadable_[t] = true;
      RINHA_LOG_ERROR(
          "router: %s answered GET /payments/%s with 200 and a body we cannot read (%d bytes: "
          "'%s'); the payment is held there and is recorded with the requestedAt we sent "
          "(counted as unreadable_echoes; said once)",
          TargetName(target), id, body.size(), body.substr(0, 120));
    }
    if (sent_at_ms < 0) return false;
    *requested_at_ms = sent_at_ms;
    return true;
  }
  if (sent_at_ms < 0 || echo_decides) {
    *requested_at_ms = echoed;
    return true;
  }
  if (echoed != sent_at_ms) {
    ++echo_mismatches_;
    if (!said_mismatch_[t]) {
      said_mismatch_[t] = true;
      RINHA_LOG_ERROR(
          "router: %s holds %s with requestedAt %s, we sent %s; recorded with what we sent "
          "(counted as echo_mismatches; said once)",
          TargetName(target), id, FormatIsoMillis(echoed), FormatIsoMillis(sent_at_ms));
    }
  }
  *requested_at_ms = sent_at_ms;
  return true;
}

void RouterCore::OnRecoveryLookupDone(uint64_t seq, Payment& p, Target target, int64_t started_ms,
                                      const HttpOutcome& outcome, const Now& now) {
  --p.recovery_lookups;
  const int t = static_cast<int>(target);
  if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 200) {
    int64_t requested_at_ms = 0;
    if (HeldRequestedAt(p.id, target, p.sent_at_ms[t], false, outcome.body, &requested_at_ms)) {
      // Held by `target`: paid there by an earlier run. (The other lookup's answer, if still
      // to come, finds no payment and is dropped.)
      SettleAndForget(seq, target, requested_at_ms, now);
      return;
    }
    ++lookup_errors_;
    p.recovery_error = true;
  } else if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 404) {
    p.absent_since_ms[t] = started_ms;
  } else {
    ++lookup_errors_;
    p.recovery_error = true;
  }
  if (p.recovery_lookups > 0) return;  // the other processor's answer decides
  bool absent_everywhere = true;
  int64_t final_at = now.mono_ms;
  for (int i = 0; i < kTargets; ++i) {
    if (!p.recovery_needed[i] || p.absent_since_ms[i] >= p.recovery_settle_at_ms[i]) continue;
    absent_everywhere = false;
    final_at = std::max(final_at, p.recovery_settle_at_ms[i]);
  }
  if (absent_everywhere) {
    Free(seq, p);
    return;
  }
  if (p.recovery_error) {
    ++p.failures;
    ArmTimer(seq, p,
             now.mono_ms + BackoffDelay(config_.retry.initial_backoff_ms,
                                        config_.retry.max_lookup_backoff_ms, p.failures));
  } else {
    ArmTimer(seq, p, final_at);
  }
}

void RouterCore::ArmTimer(uint64_t seq, Payment& p, int64_t due_ms) {
  p.phase = Phase::kWaiting;
  ++p.timer_generation;
  ++waiting_pinned_;
  timers_.push(Timer{due_ms, seq, p.timer_generation});
}

void RouterCore::Free(uint64_t seq, Payment& p) {
  if (p.recovering) {
    p.recovering = false;
    --recovering_;
  }
  p.phase = Phase::kWaiting;
  p.pinned = false;
  p.confirmed = false;
  p.echo_decides = false;
  p.failures = 0;
  // Back in line while the policy waits for the cheaper processor: it waits too (only the front
  // is looked at while holding, so it is marked here).
  if (was_waiting_) MarkWaiting(p);
  // Older than anything that arrived since: first in line.
  ready_.push_front(seq);
}

void RouterCore::RetryPinnedLater(uint64_t seq, Payment& p, const Now& now) {
  ++p.failures;
  ArmTimer(seq, p, now.mono_ms + RetryDelayMs(config_.retry, p.failures));
}

void RouterCore::RetryLookupLater(uint64_t seq, Payment& p, const Now& now) {
  ++p.failures;
  ArmTimer(seq, p,
           now.mono_ms + BackoffDelay(config_.retry.initial_backoff_ms,
                                      config_.retry.max_lookup_backoff_ms, p.failures));
}

void RouterCore::SettleAndForget(uint64_t seq, Target target, int64_t requested_at_ms,
                                 const Now& now) {
  auto it = payments_.find(seq);
  rinha::v1::Settlement s;
  s.set_correlation_id(it->second.id);
  s.set_amount_cents(it->second.amount_cents);
  s.set_processor(ToProto(target));
  s.set_requested_at_ms(requested_at_ms);
  ++settled_[static_cast<int>(target)];
  if (it->second.waited) ++waited_then_cheaper_;  // still set: it went to the cheaper one
  const int64_t received_us = it->second.received_us;
  const JournalHandles handles = std::move(it->second.journal_handles);
  if (it->second.recovering) --recovering_;
  StartDoubleChecks(it->second, target, now);  // their lookups start in Run, after this Settle
  seq_by_id_.erase(it->second.id);
  payments_.erase(it);
  sink_.Settle(s, received_us, handles);
}

void RouterCore::StartDoubleChecks(const Payment& p, Target settled_at, const Now& now) {
  for (int t = 0; t < kTargets; ++t) {
    if (t == static_cast<int>(settled_at) || p.failed_5xx_at_ms[t] < 0) continue;
    const uint64_t check = next_check_++;
    checks_[check] = DoubleCheck{p.id,
                                 p.amount_cents,
                                 static_cast<Target>(t),
                                 p.sent_at_ms[t],
                                 p.failed_5xx_at_ms[t] + config_.retry.ambiguity_settle_ms,
                                 0};
    check_timers_.push(Timer{now.mono_ms, check, 0});
  }
}

void RouterCore::RunDoubleChecks(const Now& now, int64_t* next) {
  while (!check_timers_.empty() && check_timers_.top().due_ms <= now.mono_ms) {
    const uint64_t check = check_timers_.top().seq;
    check_timers_.pop();
    auto it = checks_.find(check);
    if (it == checks_.end()) continue;
    lookup_wait_[static_cast<int>(it->second.target)].push_back(LookupWant{true, check, 0});
  }
  if (!check_timers_.empty()) *next = std::min(*next, check_timers_.top().due_ms);
}

void RouterCore::OnDoubleCheckDone(uint64_t check, Target target, int64_t started_ms,
                                   const HttpOutcome& outcome, const Now& now) {
  auto it = checks_.find(check);
  if (it == checks_.end()) return;
  DoubleCheck& c = it->second;
  if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 200) {
    int64_t requested_at_ms = 0;
    if (HeldRequestedAt(c.id, target, c.sent_at_ms, false, outcome.body, &requested_at_ms)) {
      rinha::v1::Settlement s;
      s.set_correlation_id(c.id);
      s.set_amount_cents(c.amount_cents);
      s.set_processor(ToProto(target));
      s.set_requested_at_ms(requested_at_ms);
      s.set_double_payment(true);
      ++double_payments_detected_;
      RINHA_LOG_WARNING(
          "router: DOUBLE PAYMENT detected: %s is held by %s as well, which had answered it 500; "
          "recorded",
          c.id, TargetName(target));
      checks_.erase(it);
      sink_.Settle(s, 0, {});
      return;
    }
  } else if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 404) {
    if (started_ms >= c.final_at_ms) {
      checks_.erase(it);  // absent, and past the time it could still be inserted
    } else {
      check_timers_.push(Timer{c.final_at_ms, check, 0});  // once more, after its window
    }
    return;
  }
  ++lookup_errors_;
  if (++c.errors > kMaxDoubleCheckErrors) {
    RINHA_LOG_ERROR(
        "router: gave up looking for a double payment of %s at %s (%d lookups without an answer)",
        c.id, TargetName(target), c.errors);
    checks_.erase(it);
    return;
  }
  check_timers_.push(
      Timer{now.mono_ms + BackoffDelay(config_.retry.initial_backoff_ms,
                                       config_.retry.max_lookup_backoff_ms, c.errors),
            check, 0});
}

void RouterCore::OnHttpDone(uint64_t token, const HttpOutcome& outcome, Now now) {
  last_mono_ms_ = std::max(last_mono_ms_, now.mono_ms);
  auto node = requests_.extract(token);
  if (node.empty()) {
    RINHA_LOG_ERROR("router: answer for unknown request token %d", token);
    return;
  }
  const Request req = node.mapped();
  if (observer_ != nullptr) {
    const CallObserver::Call call = req.kind == RequestKind::kPost ? CallObserver::Call::kPayment
                                    : req.kind == RequestKind::kHealth
                                        ? CallObserver::Call::kHealth
                                        : CallObserver::Call::kLookup;
    observer_->OnCallDone(req.target, call, outcome, now.mono_ms - req.started_ms);
  }
  switch (req.kind) {
    case RequestKind::kHealth:
      OnHealthDone(req.target, outcome, now);
      break;
    case RequestKind::kPost:
      --posts_in_flight_;
      OnPostDone(req.seq, req.target, token, outcome, now);
      break;
    case RequestKind::kLookup:
      --lookups_in_flight_;
      --lookups_in_flight_at_[static_cast<int>(req.target)];
      OnLookupDone(req.seq, req.target, req.started_ms, outcome, now);
      break;
    case RequestKind::kDoubleCheck:
      --lookups_in_flight_;
      --lookups_in_flight_at_[static_cast<int>(req.target)];
      OnDoubleCheckDone(req.seq, req.target, req.started_ms, outcome, now);
      break;
  }
  FlushPosts(now);
}

void RouterCore::OnHealthDone(Target target, const HttpOutcome& outcome, const Now& now) {
  gates_[static_cast<int>(target)].OnFinish();
  if (outcome.kind != HttpOutcome::Kind::kResponse || outcome.status != 200) return;
  bool failing = false;
  int64_t min_response_ms = 0;
  if (!ParseHealthBody(outcome.body, &failing, &min_response_ms)) {
    RINHA_LOG_WARNING("router: unreadable health answer from %s", TargetName(target));
    return;
  }
  health(target).OnPoll(now.mono_ms, failing, min_response_ms);
}

void RouterCore::OnPostDone(uint64_t seq, Target target, uint64_t token, const HttpOutcome& outcome,
                            const Now& now) {
  auto it = payments_.find(seq);
  if (it == payments_.end()) return;  // cannot happen: a posting payment is never settled
  Payment& p = it->second;
  ProcessorHealth& h = health(target);
  const int t = static_cast<int>(target);

  if (outcome.kind == HttpOutcome::Kind::kResponse) {
    if (outcome.status >= 200 && outcome.status < 300) {
      h.OnSuccess(token, now.mono_ms);
      SettleAndForget(seq, target, p.sent_at_ms[t], now);
      return;
    }
    if (outcome.status == 422) {
      h.OnSuccess(token, now.mono_ms);
      p.pinned = true;
      p.pinned_to = target;
      p.confirmed = true;
      p.echo_decides = !p.last_post_resend;
      StartLookup(seq, p);
      return;
    }
    // 500 (failure mode), 429 (limiter full), anything else: nothing was stored.
    if (outcome.status != 500 && outcome.status != 429) {
      RINHA_LOG_WARNING("router: %s answered POST /payments with %d", TargetName(target),
                        outcome.status);
    }
    ++rejected_;
    // A 5xx should mean "nothing stored"; if this processor stored it all the same and the
    // payment settles elsewhere, it is a double payment to detect (see above).
    if (outcome.status >= 500 && outcome.status < 600) p.failed_5xx_at_ms[t] = now.mono_ms;
    h.OnFailure(token, now.mono_ms);
    if (p.pinned) {
      RetryPinnedLater(seq, p, now);
    } else {
      Free(seq, p);
    }
    return;
  }

  h.OnFailure(token, now.mono_ms);
  if (outcome.kind == HttpOutcome::Kind::kConnectFailed) {
    ++connect_failures_;
    if (p.pinned) {
      RetryPinnedLater(seq, p, now);
    } else {
      Free(seq, p);
    }
    return;
  }
  // Timeout or connection lost: the processor may still insert it. The window in which it may
  // starts now, and lasts longer when its polled delay exceeds what we waited.
  ++ambiguous_;
  p.pinned = true;
  p.pinned_to = target;
  p.confirmed = false;
  p.echo_decides = false;
  p.resend_ok = outcome.kind == HttpOutcome::Kind::kConnectionLost;
  p.settle_at_ms = std::max(now.mono_ms, p.posted_at_ms + h.polled_delay_ms()) +
                   config_.retry.ambiguity_settle_ms;
  RetryPinnedLater(seq, p, now);
}

void RouterCore::OnLookupDone(uint64_t seq, Target target, int64_t started_ms,
                              const HttpOutcome& outcome, const Now& now) {
  auto it = payments_.find(seq);
  if (it == payments_.end()) return;
  Payment& p = it->second;
  if (p.recovering) {
    OnRecoveryLookupDone(seq, p, target, started_ms, outcome, now);
    return;
  }
  if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 200) {
    int64_t requested_at_ms = 0;
    if (HeldRequestedAt(p.id, target, p.sent_at_ms[static_cast<int>(target)], p.echo_decides,
                        outcome.body, &requested_at_ms)) {
      SettleAndForget(seq, target, requested_at_ms, now);
      return;
    }
  } else if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 404) {
    if (p.confirmed) {
      // A 422 said it was there; a 404 now means the processor was purged. Sending it again is
      // what a fresh run would do.
      RINHA_LOG_WARNING("router: %s forgot a payment it had (purged?)", TargetName(target));
    } else if (started_ms < p.settle_at_ms) {
      // Not there yet, but the ambiguous attempt may still be inserted: it stays pinned.
      ResendOrLookLater(seq, p, now);
      return;
    }
    Free(seq, p);
    return;
  }
  // No clear answer: ask again later.
  ++lookup_errors_;
  RetryLookupLater(seq, p, now);
}

void RouterCore::OnPinnedDue(uint64_t seq, Payment& p) {
  if (p.recovering) {
    StartRecoveryLookups(seq, p);
    return;
  }
  // Looked up before anything else: a processor that stored it and then broke its answer (reset,
  // truncated body, a head slower than the timeout) is found at once, where sending it again
  // would only get the same broken answer to a 422.
  StartLookup(seq, p);
}

void RouterCore::ResendOrLookLater(uint64_t seq, Payment& p, const Now& now) {
  const Target t = p.pinned_to;
  const ProcessorSignals s = health(t).Signals(now.mono_ms);
  // Sending it again to the same processor is safe (200 or 422) and pays it sooner when the
  // first POST never arrived (a lost connection) and the processor answers well within our
  // timeout. After a timeout, or while it is slow, another POST would only time out as well.
  const bool fast = s.latency_ms < config_.timeouts.payment_ms / 2;
  if (p.resend_ok && fast && (!s.failing || s.probe_ready) &&
      s.in_flight < config_.routing.max_in_flight) {
    StartPost(seq, p, t, now);
    return;
  }
  // Look again after a backoff, and once the ambiguity has settled at the latest (that lookup's
  // 404 releases it).
  ++p.failures;
  ArmTimer(seq, p, std::min(p.settle_at_ms, now.mono_ms + RetryDelayMs(config_.retry, p.failures)));
}

PaymentState RouterCore::StateOf(const Payment& p) const {
  if (p.recovering) return PaymentState::kRecovering;
  if (p.phase == Phase::kPosting) return PaymentState::kPosting;
  if (p.pinned) return PaymentState::kAmbiguous;
  return PaymentState::kQueued;
}

void RouterCore::ScanUndecided(const Now& now) {
  if (now.mono_ms < next_scan_ms_) return;
  next_scan_ms_ = now.mono_ms + 1000;
  // Each newly undecided payment is logged once; at most this many lines a scan, the rest in the
  // next scans (still once each).
  constexpr int kMaxLinesPerScan = 20;
  int lines = 0;
  int64_t unlisted = 0;
  PaymentStateStats by_state[kPaymentStates];
  int64_t undecided = 0;
  for (auto& [seq, p] : payments_) {
    const PaymentState state = StateOf(p);
    PaymentStateStats& s = by_state[static_cast<int>(state)];
    const int64_t age = std::max<int64_t>(0, now.mono_ms - p.since_ms);
    ++s.pending;
    s.oldest_ms = std::max(s.oldest_ms, age);
    // A queued payment may be waiting for the cheaper processor by design (routing_policy.h),
    // and so may the one out as its probe, or one that went on after waiting: undecided only
    // once it has waited its bound and the usual time on top.
    const int64_t bound = state == PaymentState::kQueued || p.ever_waited
                              ? config_.undecided_after_ms + config_.routing.default_wait_ms
                              : config_.undecided_after_ms;
    if (age < bound) continue;
    ++s.undecided;
    ++undecided;
    if (p.reported_undecided) continue;
    if (lines == kMaxLinesPerScan) {
      ++unlisted;
      continue;
    }
    ++lines;
    p.reported_undecided = true;
    ++undecided_total_;
    const bool at = p.pinned || p.phase == Phase::kPosting;
    RINHA_LOG_WARNING(
        "router: payment %s undecided for %d s: %s%s%s (retried with backoff; said once)", p.id,
        age / 1000, PaymentStateName(state), at ? " at " : "",
        at ? TargetName(p.pinned ? p.pinned_to : p.posted_to) : "");
  }
  if (unlisted > 0) {
    RINHA_LOG_WARNING("router: %d more payments undecided; listed in the next seconds", unlisted);
  }
  std::copy(std::begin(by_state), std::end(by_state), std::begin(by_state_));
  undecided_ = undecided;
}

int64_t RouterCore::Run(Now now) {
  const int64_t mono_ms = now.mono_ms;
  last_mono_ms_ = std::max(last_mono_ms_, mono_ms);
  int64_t next = std::numeric_limits<int64_t>::max();
  ScanUndecided(now);
  next = std::min(next, next_scan_ms_);
  if (draining_) return next;  // answers still come in through OnHttpDone

  // Due timers of pinned and recovering payments.
  while (!timers_.empty() && timers_.top().due_ms <= mono_ms) {
    const Timer timer = timers_.top();
    timers_.pop();
    auto it = payments_.find(timer.seq);
    if (it == payments_.end() || it->second.timer_generation != timer.generation ||
        it->second.phase != Phase::kWaiting) {
      continue;
    }
    --waiting_pinned_;
    ++it->second.timer_generation;
    OnPinnedDue(timer.seq, it->second);
  }
  if (!timers_.empty()) next = std::min(next, timers_.top().due_ms);
  RunDoubleChecks(now, &next);
  RunLookups(now, &next);

  // Health polls: the gate's interval on the monotonic clock and, with shards, this shard's
  // slots of the wall clock (HealthSlots), the one clock shards on different hosts share.
  for (int i = 0; i < kTargets; ++i) {
    if (gates_[i].MayStart(mono_ms) && health_slots_.Open(now.wall_ms)) {
      gates_[i].OnStart(mono_ms);
      const uint64_t token = next_token_++;
      requests_[token] = Request{RequestKind::kHealth, static_cast<Target>(i), 0, mono_ms};
      transport_.GetHealth(token, static_cast<Target>(i));
    }
    if (!gates_[i].outstanding()) {
      // When the gate allows the next call, then when this shard's slot opens after that.
      const int64_t gate_ms = std::max(gates_[i].NextStartMs(), mono_ms);
      const int64_t slot_wall_ms = health_slots_.NextOpenMs(now.wall_ms + (gate_ms - mono_ms));
      next = std::min(next, mono_ms + (slot_wall_ms - now.wall_ms));
    }
  }

  // Free payments, oldest first, for as long as a processor can take one (and the journal can
  // record the POSTs).
  if (!ready_.empty() && mono_ms < dispatch_retry_at_ms_) {
    next = std::min(next, dispatch_retry_at_ms_);
  }
  bool waiting = false;
  while (!ready_.empty() && mono_ms >= dispatch_retry_at_ms_) {
    auto oldest = payments_.find(ready_.front());
    if (oldest == payments_.end()) {
      ready_.pop_front();
      continue;
    }
    const ProcessorSignals d = health(Target::kDefault).Signals(mono_ms);
    const ProcessorSignals f = health(Target::kFallback).Signals(mono_ms);
    const Backlog backlog{
        .oldest_wait_ms = mono_ms - oldest->second.since_ms,
        .load_stopped = mono_ms - last_accept_ms_ >= config_.routing.load_stopped_after_ms,
        .queued = static_cast<int64_t>(ready_.size())};
    const Route route = ChooseRoute(d, f, backlog, config_.routing);
    const bool waits = WaitingForCheaper(d, f, backlog, config_.routing);
    if (waits && !waiting) {
      waiting = true;
      // Waiting starts: everything in line waits. What enters the line while it lasts is marked
      // where it enters (Accept, Free, FlushPosts).
      if (!was_waiting_) {
        for (uint64_t seq : ready_) {
          if (auto it = payments_.find(seq); it != payments_.end()) MarkWaiting(it->second);
        }
      }
    }
    if (route == Route::kHold) {
      if (waits) {
        // Wake when the oldest payment's wait ends, or when the load may have stopped.
        next = std::min(next, oldest->second.since_ms + config_.routing.default_wait_ms);
        next = std::min(
            next, std::max(mono_ms + 1, last_accept_ms_ + config_.routing.load_stopped_after_ms));
      }
      // Wake for the next probe; answers wake us anyway.
      if (d.failing && d.in_flight < config_.routing.probe_in_flight) {
        next = std::min(next, health(Target::kDefault).next_probe_ms());
      }
      if (f.failing && f.in_flight < config_.routing.probe_in_flight) {
        next = std::min(next, health(Target::kFallback).next_probe_ms());
      }
      break;
    }
    Payment& p = oldest->second;
    const Target target = route == Route::kDefault ? Target::kDefault : Target::kFallback;
    const Target other = target == Target::kDefault ? Target::kFallback : Target::kDefault;
    const bool to_cheaper = health(target).fee_bp() <= health(other).fee_bp();
    // What waited goes to the cheaper processor paced, while the load goes on.
    if (p.waited && to_cheaper && !waits && !backlog.load_stopped &&
        !release_budget_.TryTake(mono_ms)) {
      next = std::min(next, release_budget_.NextTokenMs(mono_ms));
      break;
    }
    const uint64_t seq = ready_.front();
    ready_.pop_front();
    // A payment that waited keeps its mark while it goes to the cheaper processor (a probe may
    // fail and bring it back), and is counted when it settles there; one that goes to the
    // dearer one after all is counted now, with why.
    if (p.waited && !to_cheaper) {
      p.waited = false;
      ++(backlog.load_stopped ? released_on_stop_ : wait_expired_);
    }
    StartPost(seq, p, target, now);
  }
  was_waiting_ = waiting;
  waiting_for_cheaper_ = waiting ? static_cast<int64_t>(ready_.size()) : 0;
  FlushPosts(now);
  return next;
}

int64_t RouterCore::Purge() {
  const int64_t before = ids_.size();
  ids_.Clear();
  for (const auto& [seq, p] : payments_) ids_.Insert(p.id);
  return before - ids_.size();
}

PaymentView RouterCore::Find(std::string_view correlation_id, int64_t now_mono_ms) const {
  PaymentView view;
  auto it = seq_by_id_.find(correlation_id);
  if (it == seq_by_id_.end()) {
    if (ids_.Contains(correlation_id)) view.where = PaymentView::Where::kSettled;
    return view;
  }
  const Payment& p = payments_.at(it->second);
  view.where = PaymentView::Where::kPending;
  view.state = StateOf(p);
  view.amount_cents = p.amount_cents;
  view.pending_ms = std::max<int64_t>(0, now_mono_ms - p.since_ms);
  if (p.pinned || p.phase == Phase::kPosting) {
    view.has_processor = true;
    view.processor = p.pinned ? p.pinned_to : p.posted_to;
  }
  return view;
}

RouterCoreStats RouterCore::stats() const {
  RouterCoreStats s;
  s.queued = static_cast<int64_t>(ready_.size()) + waiting_pinned_;
  s.in_flight = posts_in_flight_ + lookups_in_flight_;
  s.settled_default = settled_[0];
  s.settled_fallback = settled_[1];
  s.duplicates = duplicates_;
  s.ambiguous = ambiguous_;
  s.connect_failures = connect_failures_;
  s.rejected = rejected_;
  s.lookups = lookups_;
  s.recovering = recovering_;
  s.recovered_total = recovered_total_;
  s.double_payments_detected = double_payments_detected_;
  s.double_checks = static_cast<int64_t>(checks_.size());
  for (int t = 0; t < kTargets; ++t) {
    s.lookups_at[t] = lookups_at_[t];
    s.lookups_waiting += static_cast<int64_t>(lookup_wait_[t].size());
  }
  s.lookup_errors = lookup_errors_;
  s.unreadable_echoes = unreadable_echoes_;
  s.echo_mismatches = echo_mismatches_;
  s.dispatch_journal_errors = dispatch_journal_errors_;
  s.waiting_for_cheaper = waiting_for_cheaper_;
  s.waited_then_cheaper = waited_then_cheaper_;
  s.wait_expired = wait_expired_;
  s.released_on_stop = released_on_stop_;
  std::copy(std::begin(by_state_), std::end(by_state_), std::begin(s.by_state));
  s.undecided = undecided_;
  s.undecided_total = undecided_total_;
  for (int t = 0; t < kTargets; ++t) {
    s.signals[t] = health_[t].Signals(last_mono_ms_);
    s.polled_delay_ms[t] = health_[t].polled_delay_ms();
  }
  return s;
}

}  // namespace rinha::router
