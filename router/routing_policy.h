// Which processor gets the next payment: a pure function of what the router knows about each
// processor (health poll, in-band observations, in-flight count) and their fees.
//
// The money arithmetic behind it (final: 20.05 per payment, default fee 7 %, fallback 10 %):
//   - a payment settled at default keeps 93 % of its amount, at fallback 90 %: default is worth
//     3 % more, about 0.60 per payment;
//   - a payment still queued or in flight when the load stops is lost entirely (100 %), and a
//     double payment or an audit mismatch costs 35 % of everything;
//   - our p99 is unaffected by the processors: the edge answers before any processor is called.
// So the cost of a slow processor is not latency as such but (a) in-flight capacity: rate x
// latency must stay below the processor's 800 (600/s x 1 s = 600), and (b) lag when the test
// ends: a payment sent with latency L in the last L seconds is lost. With the load ramping
// linearly over 300 s, the last L seconds carry about 2L/300 of all payments, so sending to a
// default of latency L costs about 0.93 x 2L/300 of the revenue and gains 3 %: break-even near
// L = 4.8 s on paper. Capacity and the audit make it much lower in practice: at L >= 2 s a
// payment's insert at the processor lands inside the audit's window [now-15 s, now-2 s] while
// our ledger learns it a few ms later (a rare but 35 % race), and L x 600/s passes 700 in flight
// near L = 1.2 s. Hence: default while healthy and at most 1200 ms (RoutingConfig); above that,
// fallback if it is healthy and faster; a full default is waited for while what is queued would
// be sent within capacity_wait_ms (a backlog released at once), and overflows to the fallback
// beyond that (a default that cannot keep up); hold only when neither can take a payment.
//
// Waiting for the cheaper processor (RoutingConfig::default_wait_ms, the policy's one flag). The
// client has its 202 already, so a payment that arrives while the default FAILS can wait for it
// to come back instead of paying the fallback's 3 % more (final: 14 k payments arrive during the
// 60 s outage, 90-150 s). Waiting costs nothing at the processors and nothing in the audit (a
// waiting payment is in no one's totals, and it gets its requestedAt when it is sent), but a
// payment still waiting when the test reads the totals is lost entirely. So:
//   - only while the cheaper processor fails and the dearer one works; a slow or full one is not
//     waited for (above);
//   - the oldest free payment waits at most default_wait_ms; older ones go to the dearer one;
//   - when the load stops (no new payment for load_stopped_after_ms), everything waiting goes to
//     the dearer one at once: k6 reads the totals about 1 s after its last answer;
//   - one probe at a time keeps asking the cheaper one (as when both fail), so its return is seen
//     within its delay, before the next health poll.
// What it cannot cover: a default that fails until the very end while payments arrive faster than
// the router can send in that last second loses what does not fit (docs/design.md).
#pragma once

#include <cstdint>
#include <string_view>

#include "router/router_config.h"

namespace rinha::router {

enum class Route { kDefault, kFallback, kHold };

std::string_view RouteName(Route route);

// What the router believes about one processor right now (see ProcessorHealth for how it is
// derived from polls and in-band results: the most recent signal wins).
struct ProcessorSignals {
  bool failing = false;
  // Best estimate of how long a payment takes there now (its configured delay plus transport).
  int64_t latency_ms = 0;
  // POSTs sent and not yet answered.
  int in_flight = 0;
  // Fee in basis points (700 = 7 %).
  int fee_bp = 0;
  // A failing processor may get one probe payment now (its retry backoff has passed and no other
  // probe is in flight). Used only when both processors fail.
  bool probe_ready = false;
};

// The payments waiting for a processor, as the policy needs to see them.
struct Backlog {
  // How long the oldest free payment has been in the router.
  int64_t oldest_wait_ms = 0;
  // No new payment has arrived for RoutingConfig::load_stopped_after_ms.
  bool load_stopped = false;
  // Free payments waiting, this one included.
  int64_t queued = 1;
};

// The route for the next payment that is free to go to either processor (the oldest one).
Route ChooseRoute(const ProcessorSignals& default_processor,
                  const ProcessorSignals& fallback_processor, const Backlog& backlog,
                  const RoutingConfig& config);

// Whether the policy is holding payments for the cheaper processor (it fails, the dearer one
// works, and the bound has not passed): the caller wakes when that stops being true.
bool WaitingForCheaper(const ProcessorSignals& default_processor,
                       const ProcessorSignals& fallback_processor, const Backlog& backlog,
                       const RoutingConfig& config);

}  // namespace rinha::router
