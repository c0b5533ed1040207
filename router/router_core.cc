#include "router/router_core.h"

#include <algorithm>
#include <limits>

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
          absl::StatusOr<absl::Time> at = ParseIsoTime(value.string);
          if (!at.ok()) return at.status();
          *requested_at_ms = FloorMillis(*at);
          found = true;
        }
        return absl::OkStatus();
      });
  return status.ok() && found;
}

RouterCore::RouterCore(const RouterConfig& config, Transport& transport, SettlementSink& sink)
    : config_(config),
      transport_(transport),
      sink_(sink),
      ids_(config.max_remembered_ids),
      health_{ProcessorHealth(config.default_fee_bp, config.routing, config.retry),
              ProcessorHealth(config.fallback_fee_bp, config.routing, config.retry)},
      gates_{HealthPollGate(config.health.min_interval_ms),
             HealthPollGate(config.health.min_interval_ms)} {}

RouterCore::AcceptResult RouterCore::Accept(std::string_view correlation_id, int64_t amount_cents,
                                            int64_t received_us, uint64_t journal_handle) {
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
  p.amount_cents = amount_cents;
  p.received_us = received_us;
  p.journal_handle = journal_handle;
  ready_.push_back(seq);
  return AcceptResult::kAccepted;
}

RouterCore::AcceptResult RouterCore::Recover(std::string_view correlation_id, int64_t amount_cents,
                                             uint64_t journal_handle, Now now) {
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
  p.amount_cents = amount_cents;
  p.journal_handle = journal_handle;
  p.recovering = true;
  p.recovery_settle_at_ms = now.mono_ms + config_.retry.ambiguity_settle_ms;
  ++recovering_;
  ++recovered_total_;
  recovery_queue_.push_back(seq);
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
  const uint64_t token = next_token_++;
  p.phase = Phase::kPosting;
  // The only use of the wall clock: the timestamp the processor stores and the summary filters on.
  p.requested_at_ms = now.wall_ms;
  requests_[token] = Request{RequestKind::kPost, target, seq};
  ++posts_in_flight_;
  health(target).OnSent(token, now.mono_ms);
  transport_.PostPayment(token, target, PaymentRequestBody(p.id, p.amount_cents, now.wall_ms));
}

void RouterCore::StartLookup(uint64_t seq, Payment& p, const Now& now) {
  const int at_target = lookups_in_flight_at_[static_cast<int>(p.pinned_to)];
  if (at_target >= config_.routing.max_lookups_in_flight) {
    // Bounded: a burst of ambiguous payments must not flood the processor with lookups.
    ArmTimer(seq, p, now.mono_ms + config_.retry.initial_backoff_ms);
    return;
  }
  p.phase = Phase::kLookingUp;
  IssueLookup(seq, p, p.pinned_to, now);
}

void RouterCore::IssueLookup(uint64_t seq, const Payment& p, Target target, const Now& now) {
  ++lookups_in_flight_at_[static_cast<int>(target)];
  const uint64_t token = next_token_++;
  requests_[token] = Request{RequestKind::kLookup, target, seq, now.mono_ms};
  ++lookups_in_flight_;
  ++lookups_;
  transport_.GetPayment(token, target, p.id);
}

bool RouterCore::StartRecoveryLookups(uint64_t seq, Payment& p, const Now& now) {
  bool needed[kTargets];
  int count = 0;
  for (int t = 0; t < kTargets; ++t) {
    // A 404 counts only from a lookup made once the processors' insert window has passed.
    needed[t] = p.absent_since_ms[t] < p.recovery_settle_at_ms;
    if (!needed[t]) continue;
    if (lookups_in_flight_at_[t] >= config_.routing.max_lookups_in_flight) return false;
    ++count;
  }
  if (count == 0) {
    Free(seq, p);
    return true;
  }
  p.phase = Phase::kLookingUp;
  p.recovery_lookups = count;
  p.recovery_error = false;
  for (int t = 0; t < kTargets; ++t) {
    if (needed[t]) IssueLookup(seq, p, static_cast<Target>(t), now);
  }
  return true;
}

void RouterCore::OnRecoveryLookupDone(uint64_t seq, Payment& p, Target target, int64_t started_ms,
                                      const HttpOutcome& outcome, const Now& now) {
  --p.recovery_lookups;
  if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 200) {
    int64_t requested_at_ms = 0;
    if (ParseStoredRequestedAt(outcome.body, &requested_at_ms)) {
      // Held by `target`: paid there by an earlier run. (The other lookup's answer, if still
      // to come, finds no payment and is dropped.)
      SettleAndForget(seq, target, requested_at_ms, now);
      return;
    }
    RINHA_LOG_ERROR("router: unreadable GET /payments/{id} answer from %s", TargetName(target));
    p.recovery_error = true;
  } else if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 404) {
    p.absent_since_ms[static_cast<int>(target)] = started_ms;
  } else {
    p.recovery_error = true;
  }
  if (p.recovery_lookups > 0) return;  // the other processor's answer decides
  bool absent_everywhere = true;
  for (int t = 0; t < kTargets; ++t) {
    absent_everywhere = absent_everywhere && p.absent_since_ms[t] >= p.recovery_settle_at_ms;
  }
  if (absent_everywhere) {
    Free(seq, p);
    return;
  }
  if (p.recovery_error) {
    ++p.failures;
    ArmTimer(seq, p, now.mono_ms + RetryDelayMs(config_.retry, p.failures));
  } else {
    ArmTimer(seq, p, std::max(now.mono_ms, p.recovery_settle_at_ms));
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
  p.failures = 0;
  // Older than anything that arrived since: first in line.
  ready_.push_front(seq);
}

void RouterCore::RetryPinnedLater(uint64_t seq, Payment& p, const Now& now) {
  ++p.failures;
  ArmTimer(seq, p, now.mono_ms + RetryDelayMs(config_.retry, p.failures));
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
  const int64_t received_us = it->second.received_us;
  const uint64_t journal_handle = it->second.journal_handle;
  if (it->second.recovering) --recovering_;
  StartDoubleChecks(it->second, target, now);  // their lookups start in Run, after this Settle
  payments_.erase(it);
  sink_.Settle(s, received_us, journal_handle);
}

void RouterCore::StartDoubleChecks(const Payment& p, Target settled_at, const Now& now) {
  for (int t = 0; t < kTargets; ++t) {
    if (t == static_cast<int>(settled_at) || p.failed_5xx_at_ms[t] < 0) continue;
    const uint64_t check = next_check_++;
    checks_[check] = DoubleCheck{p.id, p.amount_cents, static_cast<Target>(t),
                                 p.failed_5xx_at_ms[t] + config_.retry.ambiguity_settle_ms, 0};
    check_timers_.push(Timer{now.mono_ms, check, 0});
  }
}

void RouterCore::RunDoubleChecks(const Now& now, int64_t* next) {
  while (!check_timers_.empty() && check_timers_.top().due_ms <= now.mono_ms) {
    const uint64_t check = check_timers_.top().seq;
    check_timers_.pop();
    auto it = checks_.find(check);
    if (it == checks_.end()) continue;
    const Target target = it->second.target;
    const int t = static_cast<int>(target);
    if (lookups_in_flight_at_[t] >= config_.routing.max_lookups_in_flight) {
      check_timers_.push(Timer{now.mono_ms + config_.retry.initial_backoff_ms, check, 0});
      continue;
    }
    ++lookups_in_flight_at_[t];
    ++lookups_in_flight_;
    ++lookups_;
    const uint64_t token = next_token_++;
    requests_[token] = Request{RequestKind::kDoubleCheck, target, check, now.mono_ms};
    transport_.GetPayment(token, target, it->second.id);
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
    if (ParseStoredRequestedAt(outcome.body, &requested_at_ms)) {
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
      sink_.Settle(s, 0, 0);
      return;
    }
    RINHA_LOG_ERROR("router: unreadable GET /payments/{id} answer from %s", TargetName(target));
  } else if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 404) {
    if (started_ms >= c.final_at_ms) {
      checks_.erase(it);  // absent, and past the time it could still be inserted
    } else {
      check_timers_.push(Timer{c.final_at_ms, check, 0});  // once more, after its window
    }
    return;
  }
  if (++c.errors > kMaxDoubleCheckErrors) {
    RINHA_LOG_ERROR(
        "router: gave up looking for a double payment of %s at %s (%d lookups without an answer)",
        c.id, TargetName(target), c.errors);
    checks_.erase(it);
    return;
  }
  check_timers_.push(Timer{now.mono_ms + RetryDelayMs(config_.retry, c.errors), check, 0});
}

void RouterCore::OnHttpDone(uint64_t token, const HttpOutcome& outcome, Now now) {
  auto node = requests_.extract(token);
  if (node.empty()) {
    RINHA_LOG_ERROR("router: answer for unknown request token %d", token);
    return;
  }
  const Request req = node.mapped();
  switch (req.kind) {
    case RequestKind::kHealth:
      OnHealthDone(req.target, outcome, now);
      return;
    case RequestKind::kPost:
      --posts_in_flight_;
      OnPostDone(req.seq, req.target, token, outcome, now);
      return;
    case RequestKind::kLookup:
      --lookups_in_flight_;
      --lookups_in_flight_at_[static_cast<int>(req.target)];
      OnLookupDone(req.seq, req.target, req.started_ms, outcome, now);
      return;
    case RequestKind::kDoubleCheck:
      --lookups_in_flight_;
      --lookups_in_flight_at_[static_cast<int>(req.target)];
      OnDoubleCheckDone(req.seq, req.target, req.started_ms, outcome, now);
      return;
  }
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

  if (outcome.kind == HttpOutcome::Kind::kResponse) {
    if (outcome.status >= 200 && outcome.status < 300) {
      h.OnSuccess(token, now.mono_ms);
      SettleAndForget(seq, target, p.requested_at_ms, now);
      return;
    }
    if (outcome.status == 422) {
      h.OnSuccess(token, now.mono_ms);
      p.pinned = true;
      p.pinned_to = target;
      p.confirmed = true;
      StartLookup(seq, p, now);
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
    if (outcome.status >= 500 && outcome.status < 600) {
      p.failed_5xx_at_ms[static_cast<int>(target)] = now.mono_ms;
    }
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
  // Timeout or connection lost: the processor may still insert it.
  ++ambiguous_;
  p.pinned = true;
  p.pinned_to = target;
  p.ambiguous_at_ms = now.mono_ms;
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
    if (ParseStoredRequestedAt(outcome.body, &requested_at_ms)) {
      SettleAndForget(seq, target, requested_at_ms, now);
      return;
    }
    RINHA_LOG_ERROR("router: unreadable GET /payments/{id} answer from %s", TargetName(target));
  } else if (outcome.kind == HttpOutcome::Kind::kResponse && outcome.status == 404) {
    if (p.confirmed) {
      // A 422 said it was there; a 404 now means the processor was purged. Sending it again is
      // what a fresh run would do.
      RINHA_LOG_WARNING("router: %s forgot a payment it had (purged?)", TargetName(target));
    } else if (started_ms < p.ambiguous_at_ms + config_.retry.ambiguity_settle_ms) {
      // Not there yet, but the ambiguous attempt may still be inserted: it stays pinned, and
      // sending it to the same processor again is safe (200 or 422) and pays it sooner.
      ResendPinned(seq, p, now);
      return;
    }
    Free(seq, p);
    return;
  }
  // Unknown: ask again later.
  RetryPinnedLater(seq, p, now);
}

void RouterCore::OnPinnedDue(uint64_t seq, Payment& p, const Now& now) {
  if (p.recovering) {
    recovery_queue_.push_back(seq);
    return;
  }
  // Looked up before anything else: a processor that stored it and then broke its answer (reset,
  // truncated body, a head slower than the timeout) is found at once, where sending it again
  // would only get the same broken answer to a 422.
  StartLookup(seq, p, now);
}

void RouterCore::ResendPinned(uint64_t seq, Payment& p, const Now& now) {
  const Target t = p.pinned_to;
  const int64_t settled_at = p.ambiguous_at_ms + config_.retry.ambiguity_settle_ms;
  const ProcessorSignals s = health(t).Signals(now.mono_ms);
  if ((!s.failing || s.probe_ready) && s.in_flight < config_.routing.max_in_flight) {
    StartPost(seq, p, t, now);
    return;
  }
  // The processor takes no payment now: look again after a backoff, and once the ambiguity has
  // settled at the latest (that lookup's 404 releases it).
  ++p.failures;
  ArmTimer(seq, p, std::min(settled_at, now.mono_ms + RetryDelayMs(config_.retry, p.failures)));
}

int64_t RouterCore::Run(Now now) {
  const int64_t mono_ms = now.mono_ms;
  int64_t next = std::numeric_limits<int64_t>::max();
  if (draining_) return next;  // answers still come in through OnHttpDone

  // Due timers of pinned payments.
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
    OnPinnedDue(timer.seq, it->second, now);
  }
  if (!timers_.empty()) next = std::min(next, timers_.top().due_ms);
  RunDoubleChecks(now, &next);

  // Payments of an earlier run, as far as the bound on lookups allows (each answer runs us
  // again).
  while (!recovery_queue_.empty()) {
    const uint64_t seq = recovery_queue_.front();
    auto it = payments_.find(seq);
    if (it == payments_.end() || !it->second.recovering || it->second.phase != Phase::kWaiting) {
      recovery_queue_.pop_front();
      continue;
    }
    if (!StartRecoveryLookups(seq, it->second, now)) break;
    recovery_queue_.pop_front();
  }

  // Health polls.
  for (int i = 0; i < kTargets; ++i) {
    if (gates_[i].MayStart(mono_ms)) {
      gates_[i].OnStart(mono_ms);
      const uint64_t token = next_token_++;
      requests_[token] = Request{RequestKind::kHealth, static_cast<Target>(i), 0};
      transport_.GetHealth(token, static_cast<Target>(i));
    }
    if (!gates_[i].outstanding()) next = std::min(next, gates_[i].NextStartMs());
  }

  // Free payments, oldest first, for as long as a processor can take one.
  while (!ready_.empty()) {
    const ProcessorSignals d = health(Target::kDefault).Signals(mono_ms);
    const ProcessorSignals f = health(Target::kFallback).Signals(mono_ms);
    const Route route = ChooseRoute(d, f, config_.routing);
    if (route == Route::kHold) {
      // Wake for the next probe; answers wake us anyway.
      if (d.failing && d.in_flight < config_.routing.probe_in_flight) {
        next = std::min(next, health(Target::kDefault).next_probe_ms());
      }
      if (f.failing && f.in_flight < config_.routing.probe_in_flight) {
        next = std::min(next, health(Target::kFallback).next_probe_ms());
      }
      break;
    }
    const uint64_t seq = ready_.front();
    ready_.pop_front();
    auto it = payments_.find(seq);
    if (it == payments_.end()) continue;
    StartPost(seq, it->second, route == Route::kDefault ? Target::kDefault : Target::kFallback,
              now);
  }
  return next;
}

int64_t RouterCore::Purge() {
  const int64_t before = ids_.size();
  ids_.Clear();
  for (const auto& [seq, p] : payments_) ids_.Insert(p.id);
  return before - ids_.size();
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
  return s;
}

}  // namespace rinha::router
