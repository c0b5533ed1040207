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
//   422             -> P already holds it: GET /payments/{id} at P, settled with the requestedAt
//                      P holds.
//   500, 429, 4xx   -> P stored nothing: the payment is free again (any processor), unless an
//                      earlier attempt left it pinned to P. (A 5xx is remembered: see "Double
//                      payments after a 500" below.)
//   connect failure -> the request never left: as 500.
//   timeout, connection lost after sending (reset, close, a body shorter than announced)
//                   -> AMBIGUOUS: P may hold it, or still insert it after its delay. The payment
//                      is pinned to P: after a backoff it is looked up at P (found -> settled at
//                      P with the requestedAt P holds); a 404 before the ambiguity has settled
//                      sends it to P again (always safe: P answers 200 or 422); it is released
//                      to the other processor only when a GET at P, made once the ambiguity has
//                      settled (RetryConfig::ambiguity_settle_ms after the last ambiguous
//                      attempt, with nothing in flight), answers 404.
//
// Double payments after a 500: by the contest's rules a 500 stores nothing, so a payment answered
// 500 by P is free at once and usually goes to the other processor, Q. A processor that stores a
// payment and still answers 500 (the emulator's store_then_500) makes that a double payment, and
// no order of calls prevents it without waiting. It is detected instead: once the payment is
// settled at Q, every other processor P that answered one of its POSTs with a 5xx is looked up,
// at once and once more when P's insert window (ambiguity_settle_ms after that answer) has passed.
// Found -> a detected double payment, recorded as a second settlement of the id, flagged
// double_payment, at P with the requestedAt P holds, so that the ledger's summary still equals
// what each processor holds. Bounded: two lookups per processor and payment, plus at most
// kMaxDoubleCheckErrors retries of a lookup without a clear answer. Not journaled: a crash
// forgets the checks in progress. The alternative, keeping the payment pinned to P after a 500
// until a lookup made after P's window answers 404, would prevent the double payment but cost
// that window's latency (10 s by default) on every real 500 of the contest, where a 500 stores
// nothing: the payments a failing default answers would wait instead of moving to the fallback
// at once, and those still waiting when the test ends are lost.
//
// Recovery (Recover): a payment an earlier run of the router took and did not see recorded in
// the ledger may have been sent to either processor, and may still be inserted by one (the
// processors insert after their delay, even when the caller has gone). It is looked up at both
// processors at once: found at P -> settled at P with the requestedAt P holds (this also records
// what was paid but never reached the ledger); absent at both, by lookups made after
// ambiguity_settle_ms has passed since the restart -> free. It is never sent anywhere before.
//
// Threading: not thread-safe. One thread (the router's event loop) calls everything.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "payments.pb.h"
#include "router/correlation_id_set.h"
#include "router/health_poll_gate.h"
#include "router/processor_health.h"
#include "router/router_config.h"

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

// Receives settled payments, each exactly once, and detected double payments (a second
// settlement of an id, flagged double_payment, at the other processor; received_us and
// journal_handle 0), each once.
class SettlementSink {
 public:
  virtual ~SettlementSink() = default;
  // `received_us`: when the router received the payment (steady clock µs, 0 if unknown), for the
  // receipt-to-ledger latency. `journal_handle`: the payment's record in the router's journal
  // (0 = none), to release once the ledger holds the settlement.
  virtual void Settle(const rinha::v1::Settlement& settlement, int64_t received_us,
                      uint64_t journal_handle) = 0;
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
};

class RouterCore {
 public:
  RouterCore(const RouterConfig& config, Transport& transport, SettlementSink& sink);

  enum class AcceptResult { kAccepted, kDuplicate, kInvalid, kFull };
  // Takes responsibility for a payment. A known id (pending or settled since the last purge) is
  // ignored.
  AcceptResult Accept(std::string_view correlation_id, int64_t amount_cents,
                      int64_t received_us = 0, uint64_t journal_handle = 0);
  // Takes over a payment of an earlier run (see Recovery above). A known id is ignored.
  AcceptResult Recover(std::string_view correlation_id, int64_t amount_cents,
                       uint64_t journal_handle, Now now);
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
    Phase phase = Phase::kWaiting;
    // Set while the payment may be held by (or is known to be held by) one processor.
    bool pinned = false;
    Target pinned_to = Target::kDefault;
    bool confirmed = false;         // a 422 said pinned_to holds it
    int64_t ambiguous_at_ms = 0;    // last ambiguous outcome at pinned_to (monotonic)
    int failures = 0;               // consecutive failed attempts while pinned (backoff)
    int64_t requested_at_ms = 0;    // of the POST in flight (wall: the requestedAt it carries)
    uint64_t timer_generation = 0;  // invalidates stale timers
    uint64_t journal_handle = 0;
    // Recovery (see above): lookups of this payment in flight, and per processor the start time
    // of the last lookup that answered 404 (-1: none yet). Monotonic, like every time below.
    bool recovering = false;
    int recovery_lookups = 0;
    bool recovery_error = false;  // a lookup of the current round got no clear answer
    int64_t absent_since_ms[kTargets] = {-1, -1};
    int64_t recovery_settle_at_ms = 0;
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
    int64_t final_at_ms = 0;  // a 404 from a lookup started at or after this is final
    int errors = 0;           // lookups without a clear answer so far
  };
  static constexpr int kMaxDoubleCheckErrors = 8;
  enum class RequestKind { kPost, kLookup, kHealth, kDoubleCheck };
  struct Request {
    RequestKind kind;
    Target target;
    uint64_t seq;            // payment (kPost, kLookup) or double check (kDoubleCheck)
    int64_t started_ms = 0;  // kLookup, kDoubleCheck (monotonic)
  };
  struct Timer {
    int64_t due_ms;  // monotonic
    uint64_t seq;
    uint64_t generation;
    bool operator>(const Timer& o) const { return due_ms > o.due_ms; }
  };

  ProcessorHealth& health(Target t) { return health_[static_cast<int>(t)]; }
  // Every `now` below: the moment of the call that led here; due times are monotonic.
  void StartPost(uint64_t seq, Payment& p, Target target, const Now& now);
  void StartLookup(uint64_t seq, Payment& p, const Now& now);
  void IssueLookup(uint64_t seq, const Payment& p, Target target, const Now& now);
  // False when the bound on lookups in flight leaves no room now.
  bool StartRecoveryLookups(uint64_t seq, Payment& p, const Now& now);
  void OnRecoveryLookupDone(uint64_t seq, Payment& p, Target target, int64_t started_ms,
                            const HttpOutcome& outcome, const Now& now);
  void ArmTimer(uint64_t seq, Payment& p, int64_t due_ms);
  void OnPinnedDue(uint64_t seq, Payment& p, const Now& now);
  // A pinned payment P does not hold (yet): POST it to P again if P takes payments now.
  void ResendPinned(uint64_t seq, Payment& p, const Now& now);
  void OnPostDone(uint64_t seq, Target target, uint64_t token, const HttpOutcome& outcome,
                  const Now& now);
  void OnLookupDone(uint64_t seq, Target target, int64_t started_ms, const HttpOutcome& outcome,
                    const Now& now);
  void OnHealthDone(Target target, const HttpOutcome& outcome, const Now& now);
  void Free(uint64_t seq, Payment& p);
  void RetryPinnedLater(uint64_t seq, Payment& p, const Now& now);
  void SettleAndForget(uint64_t seq, Target target, int64_t requested_at_ms, const Now& now);
  // Double payments after a 500: schedules the checks of a payment settled at `settled_at`,
  // starts the due ones (lowering *next to the next due time), takes their answers.
  void StartDoubleChecks(const Payment& p, Target settled_at, const Now& now);
  void RunDoubleChecks(const Now& now, int64_t* next);
  void OnDoubleCheckDone(uint64_t check, Target target, int64_t started_ms,
                         const HttpOutcome& outcome, const Now& now);

  const RouterConfig config_;
  Transport& transport_;
  SettlementSink& sink_;

  CorrelationIdSet ids_;
  absl::node_hash_map<uint64_t, Payment> payments_;
  uint64_t next_seq_ = 1;
  uint64_t next_token_ = 1;
  std::deque<uint64_t> ready_;           // free payments, oldest first
  std::deque<uint64_t> recovery_queue_;  // recovering payments due for a round of lookups
  bool draining_ = false;
  int64_t recovering_ = 0;
  int64_t recovered_total_ = 0;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  absl::flat_hash_map<uint64_t, Request> requests_;
  ProcessorHealth health_[kTargets];
  HealthPollGate gates_[kTargets];
  int64_t waiting_pinned_ = 0;
  absl::flat_hash_map<uint64_t, DoubleCheck> checks_;
  // Due lookups of checks (Timer::seq is the check's id; generation unused).
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> check_timers_;
  uint64_t next_check_ = 1;
  int64_t double_payments_detected_ = 0;

  int64_t settled_[kTargets] = {0, 0};
  int64_t duplicates_ = 0;
  int64_t ambiguous_ = 0;
  int64_t connect_failures_ = 0;
  int64_t rejected_ = 0;
  int64_t lookups_ = 0;
  int64_t lookups_in_flight_ = 0;
  int lookups_in_flight_at_[kTargets] = {0, 0};
  int64_t posts_in_flight_ = 0;
};

// Body of POST /payments: {"correlationId":"...","amount":20.05,"requestedAt":"...Z"}.
std::string PaymentRequestBody(std::string_view correlation_id, int64_t amount_cents,
                               int64_t requested_at_ms);

// Parses the processor's health answer {"failing":bool,"minResponseTime":int}.
bool ParseHealthBody(std::string_view body, bool* failing, int64_t* min_response_ms);

// Parses the requestedAt of GET /payments/{id}'s answer into ms (floor).
bool ParseStoredRequestedAt(std::string_view body, int64_t* requested_at_ms);

}  // namespace rinha::router
