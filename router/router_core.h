// The router's decisions, single-threaded and I/O-free: it owns every payment the router is
// responsible for, chooses where each goes (routing policy), drives each payment's settlement
// state machine, schedules health polls, and hands settled payments to a sink. HTTP calls go out
// through a Transport whose answers come back through OnHttpDone; time comes in as arguments
// (Now: the clock's monotonic reading for every timer, backoff, gate and latency, and its wall
// reading only for the requestedAt sent to the processors, so a clock step delays nothing).
//
// Settlement state machine of one payment (P = the processor a POST went to):
//   200 (any 2xx)   -> settled at P with the requestedAt we sent, whatever the body says (a 200
//                      we cannot read is a 200).
//   422             -> P already holds it: GET /payments/{id} at P, settled there.
//   500, 429, 4xx   -> P stored nothing: the payment is free again (any processor), unless an
//                      earlier attempt left it pinned to P. (A 5xx is remembered: see "Double
//                      payments after a 500" below.)
//   connect failure -> the request never left: as 500.
//   timeout, connection lost after sending (reset, close, a body shorter than announced)
//                   -> AMBIGUOUS: P may hold it, or still insert it after its delay. The payment
//                      is pinned to P and looked up there after a backoff (found -> settled at
//                      P). A 404 before the ambiguity has settled either sends it to P again
//                      (after a lost connection, while P answers well within our timeout: P
//                      answers 200 or 422, and it is paid sooner) or looks again later (after a
//                      timeout: P is slow, and another POST would only time out too). It is
//                      released to the other processor only when a GET at P, made once the
//                      ambiguity has settled (RetryConfig::ambiguity_settle_ms after the
//                      ambiguous outcome, longer when P's polled delay exceeds our timeout),
//                      answers 404.
//
// What a lookup's 200 means: P holds the payment, whatever its body says. It is recorded with the
// requestedAt we sent to P (every POST of a payment pinned to P carries the same requestedAt, and
// a POST to P after a definite "not stored" is the only other one P can hold, so the last
// requestedAt sent to P is the one P holds). The body's requestedAt (docs/contest.md: no zone,
// 0-6 fraction digits) is read only when we have no record of a send (a journal of an older
// version), and compared otherwise: a difference is counted and said once.
//
// Every POST is made durable before it leaves (DispatchLog: the router's journal), so that a
// restart knows which processors each payment may be held by and the requestedAt each would hold,
// without reading an echo.
//
// Lookups (pinned payments, recovery, double checks) wait in a queue per processor and start
// while that processor has fewer than RoutingConfig::max_lookups_in_flight in flight and its
// TokenBucket (max_lookups_per_s) has a token: whatever happens, lookups at a processor stay
// bounded in number and rate. A lookup without a clear answer backs off, per payment, up to
// RetryConfig::max_lookup_backoff_ms. Nothing spins.
//
// Undecided payments: a payment pending longer than RouterConfig::undecided_after_ms is counted
// (stats(): by state, with the oldest age per state) and logged once with its id.
//
// Double payments after a 500: by the contest's rules a 500 stores nothing, so a payment answered
// 500 by P is free at once and usually goes to the other processor, Q. A processor that stores a
// payment and still answers 500 (the emulator's store_then_500) makes that a double payment, and
// no order of calls prevents it without waiting. It is detected instead: once the payment is
// settled at Q, every other processor P that answered one of its POSTs with a 5xx is looked up,
// at once and once more when P's insert window (ambiguity_settle_ms after that answer) has passed.
// Found -> a detected double payment, recorded as a second settlement of the id, flagged
// double_payment, at P with the requestedAt sent to P, so that the ledger's summary still equals
// what each processor holds. Bounded: two lookups per processor and payment, plus at most
// kMaxDoubleCheckErrors retries of a lookup without a clear answer. Not journaled: a crash
// forgets the checks in progress. The alternative, keeping the payment pinned to P after a 500
// until a lookup made after P's window answers 404, would prevent the double payment but cost
// that window's latency (10 s by default) on every real 500 of the contest, where a 500 stores
// nothing: the payments a failing default answers would wait instead of moving to the fallback
// at once, and those still waiting when the test ends are lost.
//
// Recovery (Recover): a payment an earlier run of the router took and did not see recorded in
// the ledger may be held by a processor it was sent to, and may still be inserted there (the
// processors insert after their delay, even when the caller has gone). The journal says which
// processors it was sent to and with what requestedAt: each of them is looked up (both, for a
// record of an older journal that does not say). Found at P -> settled at P with the requestedAt
// sent there (this also records what was paid but never reached the ledger); absent, by lookups
// made once ambiguity_settle_ms has passed since its last journaled send there (at most that
// long after the restart) -> free. Never sent anywhere -> free at once. It is never sent
// anywhere before.
//
// Threading: not thread-safe. One thread (the router's event loop) calls everything.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "payments.pb.h"
#include "router/correlation_id_set.h"
#include "router/health_poll_gate.h"
#include "router/processor_health.h"
#include "router/router_config.h"
#include "router/token_bucket.h"

namespace rinha::router {

// One moment, read from the injected clock (common/clock.h) by the caller. `mono_ms` is what
// every interval and due time in the core is measured with (it never steps); `wall_ms` is used
// only as the requestedAt of a POST, the timestamp that leaves the process.
struct Now {
  int64_t mono_ms = 0;
  int64_t wall_ms = 0;
};

// Index of a processor in per-processor arrays.
enum class Target { kDefault = 0, kFallback = 1 };
inline constexpr int kTargets = 2;
rinha::v1::Processor ToProto(Target target);
std::string_view TargetName(Target target);

// How one HTTP exchange ended.
struct HttpOutcome {
  enum class Kind {
    kResponse,       // a complete HTTP response: see status and body
    kTimeout,        // the request was sent (or may have been); no complete answer in time
    kConnectFailed,  // no connection: the request was certainly not sent
    kConnectionLost  // the request was sent; the connection broke before a complete answer
  };
  Kind kind = Kind::kResponse;
  int status = 0;
  std::string body;
};

// Outbound calls. Every call must later be answered by exactly one RouterCore::OnHttpDone with
// the same token, on the event-loop thread, and never from inside the call itself.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void PostPayment(uint64_t token, Target target, std::string body) = 0;
  virtual void GetPayment(uint64_t token, Target target, std::string_view correlation_id) = 0;
  virtual void GetHealth(uint64_t token, Target target) = 0;
};

// The records of the router's journal that keep one payment's promises (its acceptance and each
// POST sent), released together once the ledger holds its settlement.
using JournalHandles = absl::InlinedVector<uint64_t, 2>;

// Receives settled payments, each exactly once, and detected double payments (a second
// settlement of an id, flagged double_payment, at the other processor; received_us 0 and no
// journal handles), each once.
class SettlementSink {
 public:
  virtual ~SettlementSink() = default;
  // `received_us`: when the router received the payment (steady clock µs, 0 if unknown), for the
  // receipt-to-ledger latency. `journal_handles`: the payment's records in the router's journal,
  // to release once the ledger holds the settlement.
  virtual void Settle(const rinha::v1::Settlement& settlement, int64_t received_us,
                      absl::Span<const uint64_t> journal_handles) = 0;
};

// Hears how every outbound call ended (loop thread): the router's metrics.
class CallObserver {
 public:
  enum class Call { kPayment = 0, kLookup = 1, kHealth = 2 };
  virtual ~CallObserver() = default;
  virtual void OnCallDone(Target target, Call call, const HttpOutcome& outcome,
                          int64_t duration_ms) = 0;
};

// Makes each POST durable before it leaves: the router's journal (router_journal.h). One call
// per batch of POSTs about to be sent together.
class DispatchLog {
 public:
  struct Entry {
    std::string_view correlation_id;
    Target target;
    int64_t requested_at_ms;  // wall ms: exactly what the POST carries
  };
  virtual ~DispatchLog() = default;
  // Writes every entry before returning; the handle is released once per entry. An error: none
  // was written, and none of those POSTs may be sent.
  virtual absl::StatusOr<uint64_t> Record(absl::Span<const Entry> entries) = 0;
};

// A payment an earlier run took, as its journal tells it.
struct RecoveredPayment {
  std::string correlation_id;
  int64_t amount_cents = 0;
  JournalHandles journal_handles;
  // Whether the journal records every POST of it (false: written by a version that did not
  // journal POSTs, so either processor may hold it).
  bool sends_known = false;
  // Per processor (Target), the requestedAt (wall ms) of the last POST journaled for it, or -1.
  int64_t sent_at_ms[kTargets] = {-1, -1};
};

// Where a pending payment is, for the undecided counts.
enum class PaymentState {
  kQueued = 0,     // waiting for a processor to take it (free, or held back)
  kPosting = 1,    // a POST in flight
  kAmbiguous = 2,  // pinned to a processor that may hold it: waiting or being looked up
  kRecovering = 3  // taken over from an earlier run, being resolved by lookups
};
inline constexpr int kPaymentStates = 4;
std::string_view PaymentStateName(PaymentState state);

// One payment as the core sees it (Find).
struct PaymentView {
  enum class Where { kUnknown, kPending, kSettled };
  Where where = Where::kUnknown;
  PaymentState state = PaymentState::kQueued;  // kPending
  bool has_processor = false;                  // kPending: in flight or pinned there
  Target processor = Target::kDefault;
  int64_t amount_cents = 0;
  int64_t pending_ms = 0;
};

struct PaymentStateStats {
  int64_t pending = 0;    // payments in this state
  int64_t undecided = 0;  // of them, pending longer than RouterConfig::undecided_after_ms
  int64_t oldest_ms = 0;  // age of the oldest (0: none)
};

struct RouterCoreStats {
  int64_t queued = 0;     // waiting for a processor (free or pinned)
  int64_t in_flight = 0;  // POSTs and lookups unanswered
  int64_t settled_default = 0;
  int64_t settled_fallback = 0;
  int64_t duplicates = 0;  // payments ignored because their id was already known
  int64_t ambiguous = 0;   // timeouts / lost connections seen
  int64_t connect_failures = 0;
  int64_t rejected = 0;         // 500 / 429 / other non-2xx, non-422 answers to POST
  int64_t lookups = 0;          // GET /payments/{id} started
  int64_t recovering = 0;       // taken over from an earlier run, not yet resolved by lookups
  int64_t recovered_total = 0;  // taken over from an earlier run since the start
  int64_t double_payments_detected = 0;  // found at a processor that had answered 500
  int64_t double_checks = 0;  // settled payments still to be looked up after a 500 elsewhere
  int64_t lookups_at[kTargets] = {0, 0};  // lookups started, per processor
  int64_t lookups_waiting = 0;            // lookups queued behind the bounds
  int64_t lookup_errors = 0;              // lookups without a clear answer (timeout, 5xx, 429)
  // 200s to a lookup whose body we could not read (recorded with the requestedAt we sent), and
  // whose requestedAt differed from the one we sent. Both are surprises: said once, counted.
  int64_t unreadable_echoes = 0;
  int64_t echo_mismatches = 0;
  // POSTs held back because their dispatch could not be journaled (retried after a backoff).
  int64_t dispatch_journal_errors = 0;
  // The money-aware policy (routing_policy.h): free payments held for the cheaper processor as
  // of the last run of the loop; since the start, payments settled at the cheaper one after
  // having waited for it, and payments sent to the dearer one because their wait reached
  // default_wait_ms or because the load stopped.
  int64_t waiting_for_cheaper = 0;
  int64_t waited_then_cheaper = 0;
  int64_t wait_expired = 0;
  int64_t released_on_stop = 0;
  // As of the last scan (once a second): pending payments by state, and how many of them are
  // undecided (older than undecided_after_ms); undecided_total counts every payment that
  // crossed that bound since the start.
  PaymentStateStats by_state[kPaymentStates];
  int64_t undecided = 0;
  int64_t undecided_total = 0;
  // What the router believes of each processor now, and its last polled delay.
  ProcessorSignals signals[kTargets];
  int64_t polled_delay_ms[kTargets] = {0, 0};
};

class RouterCore {
 public:
  // `dispatch_log` (may be null: no crash safety) and `observer` (may be null) must outlive the
  // core.
  RouterCore(const RouterConfig& config, Transport& transport, SettlementSink& sink,
             DispatchLog* dispatch_log = nullptr, CallObserver* observer = nullptr);

  enum class AcceptResult { kAccepted, kDuplicate, kInvalid, kFull };
  // Takes responsibility for a payment. A known id (pending or settled since the last purge) is
  // ignored. `now` (the monotonic reading matters) starts its age; by default the latest time
  // the core has seen.
  AcceptResult Accept(std::string_view correlation_id, int64_t amount_cents,
                      int64_t received_us = 0, uint64_t journal_handle = 0, Now now = Now{-1, -1});
  // Takes over a payment of an earlier run (see Recovery above). A known id is ignored.
  AcceptResult Recover(const RecoveredPayment& payment, Now now);
  // Remembers the id of a payment settled earlier (read back from the ledger), so that it is
  // never taken again.
  AcceptResult Remember(std::string_view correlation_id);
  // Whether Accept would call this id a duplicate.
  bool Knows(std::string_view correlation_id) const { return ids_.Contains(correlation_id); }
  // Whether `n` new ids fit in the memory of ids.
  bool HasRoomFor(int64_t n) const { return ids_.size() + n <= config_.max_remembered_ids; }
  // While draining, no new POST, lookup or poll starts; answers still arrive (graceful stop).
  void set_draining(bool draining) { draining_ = draining; }

  void OnHttpDone(uint64_t token, const HttpOutcome& outcome, Now now);

  // Sends every payment that can go now, starts due polls and lookups. Returns the monotonic time
  // (ms) at which it wants to run again if nothing else happens first (it must also run after
  // Accept and OnHttpDone).
  int64_t Run(Now now);

  // Forgets the ids of settled payments; returns how many ids were forgotten.
  int64_t Purge();

  // Where the payment with this id is: pending (and in which state), settled (its id is
  // remembered and it is no longer pending: the ledger has it or is about to), or unknown.
  PaymentView Find(std::string_view correlation_id, int64_t now_mono_ms) const;

  RouterCoreStats stats() const;
  ProcessorSignals signals(Target target, int64_t mono_ms) const {
    return health_[static_cast<int>(target)].Signals(mono_ms);
  }
  // Pending payments (not yet settled).
  int64_t pending() const { return static_cast<int64_t>(payments_.size()); }

 private:
  enum class Phase { kWaiting, kPosting, kLookingUp };
  struct Payment {
    std::string id;
    int64_t amount_cents = 0;
    int64_t received_us = 0;
    int64_t since_ms = 0;  // monotonic: when this run took it
    Phase phase = Phase::kWaiting;
    // Set while the payment may be held by (or is known to be held by) one processor.
    bool pinned = false;
    Target pinned_to = Target::kDefault;
    bool confirmed = false;  // a 422 said pinned_to holds it
    // A 422 answered a POST with a new requestedAt: pinned_to held the payment before it, with a
    // requestedAt we do not know, so its echo decides.
    bool echo_decides = false;
    bool last_post_resend = false;  // the last POST repeated the requestedAt sent there before
    bool resend_ok = false;         // pinned after a lost connection (not a timeout): see above
    int64_t settle_at_ms = 0;  // pinned: a 404 from a lookup started at or after this releases it
    int failures = 0;          // consecutive failed attempts while pinned (backoff)
    int64_t posted_at_ms = 0;  // monotonic: when the last POST was sent
    Target posted_to = Target::kDefault;  // where the last POST went
    // Per processor, the requestedAt (wall ms) of the last POST sent there (-1: none): what it
    // holds if it holds the payment.
    int64_t sent_at_ms[kTargets] = {-1, -1};
    uint64_t timer_generation = 0;   // invalidates stale timers
    uint64_t lookup_generation = 0;  // invalidates stale queued lookups
    JournalHandles journal_handles;
    bool reported_undecided = false;
    bool waited = false;       // held by the policy for the cheaper processor (RouterCoreStats)
    bool ever_waited = false;  // the same, never cleared: its undecided bound is longer
    // Recovery (see above): lookups of this payment in flight or queued; per processor whether
    // it must be looked up at all, when the last lookup that answered 404 started (-1: none yet)
    // and from when a 404 is final. Monotonic, like every time below.
    bool recovering = false;
    int recovery_lookups = 0;
    bool recovery_error = false;  // a lookup of the current round got no clear answer
    bool recovery_needed[kTargets] = {true, true};
    int64_t absent_since_ms[kTargets] = {-1, -1};
    int64_t recovery_settle_at_ms[kTargets] = {0, 0};
    // Per processor, when it last answered a POST of this payment with 5xx (-1: never): it is
    // checked for a double payment if the payment settles elsewhere.
    int64_t failed_5xx_at_ms[kTargets] = {-1, -1};
  };
  // Whether `target`, which answered a POST of a payment now settled elsewhere with 5xx, holds it
  // all the same (see "Double payments after a 500" above).
  struct DoubleCheck {
    std::string id;
    int64_t amount_cents = 0;
    Target target = Target::kDefault;
    int64_t sent_at_ms = -1;  // the requestedAt sent to `target` (wall ms)
    int64_t final_at_ms = 0;  // a 404 from a lookup started at or after this is final
    int errors = 0;           // lookups without a clear answer so far
  };
  static constexpr int kMaxDoubleCheckErrors = 8;
  enum class RequestKind { kPost, kLookup, kHealth, kDoubleCheck };
  struct Request {
    RequestKind kind;
    Target target;
    uint64_t seq;            // payment (kPost, kLookup) or double check (kDoubleCheck)
    int64_t started_ms = 0;  // monotonic
  };
  struct Timer {
    int64_t due_ms;  // monotonic
    uint64_t seq;
    uint64_t generation;
    bool operator>(const Timer& o) const { return due_ms > o.due_ms; }
  };
  // A lookup waiting for room at its processor.
  struct LookupWant {
    bool double_check;  // seq is a double check's id, else a payment's
    uint64_t seq;
    uint64_t generation;  // the payment's lookup_generation when queued
  };
  // A POST started and not yet handed to the transport (FlushPosts journals, then sends).
  struct OutgoingPost {
    uint64_t token;
    uint64_t seq;
    Target target;
    int64_t requested_at_ms;
    bool journaled;  // already in the journal (a resend with the same requestedAt)
  };

  ProcessorHealth& health(Target t) { return health_[static_cast<int>(t)]; }
  // Every `now` below: the moment of the call that led here; due times are monotonic.
  void StartPost(uint64_t seq, Payment& p, Target target, const Now& now);
  // Journals the POSTs started since the last flush, then sends them (or holds them back when
  // the journal cannot be written).
  void FlushPosts(const Now& now);
  // Queues a lookup of a pinned payment at its processor.
  void StartLookup(uint64_t seq, Payment& p);
  // Starts queued lookups as far as each processor's bounds allow; lowers *next to when a token
  // comes, if one is missing.
  void RunLookups(const Now& now, int64_t* next);
  void IssueLookup(RequestKind kind, uint64_t seq, std::string_view id, Target target,
                   const Now& now);
  void StartRecoveryLookups(uint64_t seq, Payment& p);
  void OnRecoveryLookupDone(uint64_t seq, Payment& p, Target target, int64_t started_ms,
                            const HttpOutcome& outcome, const Now& now);
  void ArmTimer(uint64_t seq, Payment& p, int64_t due_ms);
  void OnPinnedDue(uint64_t seq, Payment& p);
  // A pinned payment P does not hold (yet): POST it to P again if that helps, else look later.
  void ResendOrLookLater(uint64_t seq, Payment& p, const Now& now);
  void OnPostDone(uint64_t seq, Target target, uint64_t token, const HttpOutcome& outcome,
                  const Now& now);
  void OnLookupDone(uint64_t seq, Target target, int64_t started_ms, const HttpOutcome& outcome,
                    const Now& now);
  void OnHealthDone(Target target, const HttpOutcome& outcome, const Now& now);
  // The requestedAt `target` holds the payment with, given a 200 to a lookup: what we sent there
  // (`sent_at_ms`, -1 if unknown), else the body's; the body's first when `echo_decides`. False
  // when neither is known.
  bool HeldRequestedAt(std::string_view id, Target target, int64_t sent_at_ms, bool echo_decides,
                       std::string_view body, int64_t* requested_at_ms);
  void Free(uint64_t seq, Payment& p);
  void RetryPinnedLater(uint64_t seq, Payment& p, const Now& now);
  void RetryLookupLater(uint64_t seq, Payment& p, const Now& now);
  void SettleAndForget(uint64_t seq, Target target, int64_t requested_at_ms, const Now& now);
  // Double payments after a 500: schedules the checks of a payment settled at `settled_at`,
  // queues the due ones (lowering *next to the next due time), takes their answers.
  void StartDoubleChecks(const Payment& p, Target settled_at, const Now& now);
  void RunDoubleChecks(const Now& now, int64_t* next);
  void OnDoubleCheckDone(uint64_t check, Target target, int64_t started_ms,
                         const HttpOutcome& outcome, const Now& now);
  // Counts pending payments by state, logs the newly undecided once (at most once a second).
  void ScanUndecided(const Now& now);
  PaymentState StateOf(const Payment& p) const;
  // Held by the policy for the cheaper processor (routing_policy.h): counted, longer undecided
  // bound.
  static void MarkWaiting(Payment& p) { p.waited = p.ever_waited = true; }

  const RouterConfig config_;
  Transport& transport_;
  SettlementSink& sink_;
  DispatchLog* const dispatch_log_;
  CallObserver* const observer_;

  CorrelationIdSet ids_;
  absl::node_hash_map<uint64_t, Payment> payments_;
  // Pending payments by id (keys view Payment::id, stable in the node map).
  absl::flat_hash_map<std::string_view, uint64_t> seq_by_id_;
  uint64_t next_seq_ = 1;
  uint64_t next_token_ = 1;
  std::deque<uint64_t> ready_;  // free payments, oldest first
  bool draining_ = false;
  int64_t recovering_ = 0;
  int64_t recovered_total_ = 0;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  absl::flat_hash_map<uint64_t, Request> requests_;
  ProcessorHealth health_[kTargets];
  HealthPollGate gates_[kTargets];
  HealthSlots health_slots_;
  int64_t waiting_pinned_ = 0;
  absl::flat_hash_map<uint64_t, DoubleCheck> checks_;
  // Due lookups of checks (Timer::seq is the check's id; generation unused).
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> check_timers_;
  uint64_t next_check_ = 1;
  int64_t double_payments_detected_ = 0;
  std::deque<LookupWant> lookup_wait_[kTargets];
  TokenBucket lookup_budget_[kTargets];
  std::vector<OutgoingPost> outbox_;
  // While the journal cannot be written: no free payment is sent before this (monotonic).
  int64_t dispatch_retry_at_ms_ = 0;
  int dispatch_failures_ = 0;  // consecutive failed journal writes
  int64_t next_scan_ms_ = 0;
  int64_t last_mono_ms_ = 0;  // the latest `now` seen: when Accept takes a payment
  // When Accept last took a new payment (none yet: the load counts as stopped).
  int64_t last_accept_ms_ = std::numeric_limits<int64_t>::min() / 2;
  // Paces payments that waited, when the cheaper processor is back (RoutingConfig::release_per_s).
  TokenBucket release_budget_;
  // The money-aware policy's counters (RouterCoreStats).
  int64_t waiting_for_cheaper_ = 0;
  int64_t waited_then_cheaper_ = 0;
  int64_t wait_expired_ = 0;
  int64_t released_on_stop_ = 0;
  // The policy held payments for the cheaper processor at the last dispatch: the next payment
  // sent to it counts as having waited (with its age).
  bool was_waiting_ = false;
  // Said once: per processor, an unreadable lookup body and an echo that differs.
  bool said_unreadable_[kTargets] = {false, false};
  bool said_mismatch_[kTargets] = {false, false};

  int64_t settled_[kTargets] = {0, 0};
  int64_t duplicates_ = 0;
  int64_t ambiguous_ = 0;
  int64_t connect_failures_ = 0;
  int64_t rejected_ = 0;
  int64_t lookups_ = 0;
  int64_t lookups_at_[kTargets] = {0, 0};
  int64_t lookups_in_flight_ = 0;
  int lookups_in_flight_at_[kTargets] = {0, 0};
  int64_t lookup_errors_ = 0;
  int64_t unreadable_echoes_ = 0;
  int64_t echo_mismatches_ = 0;
  int64_t dispatch_journal_errors_ = 0;
  int64_t posts_in_flight_ = 0;
  PaymentStateStats by_state_[kPaymentStates];
  int64_t undecided_ = 0;
  int64_t undecided_total_ = 0;
};

// Body of POST /payments: {"correlationId":"...","amount":20.05,"requestedAt":"...Z"}.
std::string PaymentRequestBody(std::string_view correlation_id, int64_t amount_cents,
                               int64_t requested_at_ms);

// Parses the processor's health answer {"failing":bool,"minResponseTime":int}.
bool ParseHealthBody(std::string_view body, bool* failing, int64_t* min_response_ms);

// Parses the requestedAt of GET /payments/{id}'s answer into ms (floor). Reads every form a
// processor may legitimately print (docs/contest.md): no zone (UTC), 'Z' or an offset, 0-9
// fraction digits.
bool ParseStoredRequestedAt(std::string_view body, int64_t* requested_at_ms);

}  // namespace rinha::router
