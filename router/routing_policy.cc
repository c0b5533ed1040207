#include "router/routing_policy.h"

#include <algorithm>

namespace rinha::router {

std::string_view RouteName(Route route) {
  switch (route) {
    case Route::kDefault:
      return "default";
    case Route::kFallback:
      return "fallback";
    case Route::kHold:
      return "hold";
  }
  return "?";
}

namespace {

// Fee order: the contest's default is always the cheaper one, but the fees decide, not the names.
struct Ordered {
  const ProcessorSignals& cheap;
  Route cheap_route;
  const ProcessorSignals& dear;
  Route dear_route;
};

Ordered ByFee(const ProcessorSignals& default_processor,
              const ProcessorSignals& fallback_processor) {
  if (fallback_processor.fee_bp < default_processor.fee_bp) {
    return {fallback_processor, Route::kFallback, default_processor, Route::kDefault};
  }
  return {default_processor, Route::kDefault, fallback_processor, Route::kFallback};
}

bool Waits(const Ordered& o, const Backlog& backlog, const RoutingConfig& config) {
  return o.cheap.failing && !o.dear.failing && !backlog.load_stopped &&
         backlog.oldest_wait_ms < config.default_wait_ms;
}

Route Choose(const Ordered& o, const Backlog& backlog, const RoutingConfig& config) {
  const ProcessorSignals& cheap = o.cheap;
  const ProcessorSignals& dear = o.dear;
  const bool cheap_room = cheap.in_flight < config.max_in_flight;
  const bool dear_room = dear.in_flight < config.max_in_flight;
  const bool cheap_fast = cheap.latency_ms <= config.default_max_latency_ms;
  const bool wait = Waits(o, backlog, config);
  // Full: its room comes back soon enough if everything queued would be sent within
  // capacity_wait_ms at its latency.
  const bool room_soon =
      !backlog.load_stopped && backlog.queued * std::max<int64_t>(cheap.latency_ms, 1) <=
                                   int64_t{config.max_in_flight} * config.capacity_wait_ms;

  if (!cheap.failing && cheap_fast && cheap_room) return o.cheap_route;
  if (!dear.failing && dear_room) {
    if (cheap.failing && !wait) return o.dear_route;
    if (!cheap.failing && !cheap_fast && dear.latency_ms < cheap.latency_ms) return o.dear_route;
    if (!cheap.failing && !cheap_room && !room_soon) return o.dear_route;  // overflow
  }
  if (!cheap.failing && cheap_room) return o.cheap_route;  // slow, but the other is no better
  if (cheap.failing && (dear.failing || wait)) {
    // Payments wait; a few probes find the first to recover (the cheaper one first).
    if (cheap.probe_ready) return o.cheap_route;
    if (dear.failing && dear.probe_ready) return o.dear_route;
  }
  return Route::kHold;
}

}  // namespace

Route ChooseRoute(const ProcessorSignals& default_processor,
                  const ProcessorSignals& fallback_processor, const Backlog& backlog,
                  const RoutingConfig& config) {
  return Choose(ByFee(default_processor, fallback_processor), backlog, config);
}

bool WaitingForCheaper(const ProcessorSignals& default_processor,
                       const ProcessorSignals& fallback_processor, const Backlog& backlog,
                       const RoutingConfig& config) {
  return Waits(ByFee(default_processor, fallback_processor), backlog, config);
}

}  // namespace rinha::router
