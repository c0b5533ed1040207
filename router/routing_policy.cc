#include "router/routing_policy.h"

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

// The policy is written for "cheap" and "expensive"; the contest's default is always the cheap
// one, but the fees decide, not the names.
Route Choose(const ProcessorSignals& cheap, Route cheap_route, const ProcessorSignals& dear,
             Route dear_route, const RoutingConfig& config) {
  const bool cheap_room = cheap.in_flight < config.max_in_flight;
  const bool dear_room = dear.in_flight < config.max_in_flight;
  const bool cheap_fast = cheap.latency_ms <= config.default_max_latency_ms;

  if (!cheap.failing && cheap_fast && cheap_room) return cheap_route;
  if (!dear.failing && dear_room) {
    if (cheap.failing) return dear_route;
    if (!cheap_fast && dear.latency_ms < cheap.latency_ms) return dear_route;
    if (!cheap_room) return dear_route;  // overflow: never let a payment wait for capacity
  }
  if (!cheap.failing && cheap_room) return cheap_route;  // slow, but the other is no better
  if (cheap.failing && dear.failing) {
    // Both failing: payments wait, a few probes find the first to recover.
    if (cheap.probe_ready) return cheap_route;
    if (dear.probe_ready) return dear_route;
  }
  return Route::kHold;
}

}  // namespace

Route ChooseRoute(const ProcessorSignals& default_processor,
                  const ProcessorSignals& fallback_processor, const RoutingConfig& config) {
  if (fallback_processor.fee_bp < default_processor.fee_bp) {
    return Choose(fallback_processor, Route::kFallback, default_processor, Route::kDefault, config);
  }
  return Choose(default_processor, Route::kDefault, fallback_processor, Route::kFallback, config);
}

}  // namespace rinha::router
