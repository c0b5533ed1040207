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
// fallback if it is healthy and faster; a full default overflows to the fallback rather than
// letting payments wait; hold only when neither can take a payment.
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

// The route for the next payment that is free to go to either processor.
Route ChooseRoute(const ProcessorSignals& default_processor,
                  const ProcessorSignals& fallback_processor, const RoutingConfig& config);

}  // namespace rinha::router
