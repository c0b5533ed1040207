// Every tunable of the router in one place: timeouts of outbound calls, routing thresholds,
// capacities. main.cc fills it from flags; tests build it directly.
#pragma once

#include <cstdint>
#include <string>

namespace rinha::router {

// Timeouts of everything the router calls. The payment timeout is deliberately longer than any
// delay a processor is configured with (5000 ms in the official timeline): a timeout is
// ambiguous (the processor may still insert after it), while a slow 200/500 is not.
struct Timeouts {
  int64_t connect_ms = 1000;
  int64_t payment_ms = 8000;
  // GET /payments/{id} is neither delayed nor failing; it only waits in the concurrency limiter.
  int64_t lookup_ms = 3000;
  // A health call may be queued by the processor's rate limiter for up to 10 s.
  int64_t health_ms = 11000;
};

// Thresholds of the routing policy (see routing_policy.h for why they are what they are).
struct RoutingConfig {
  // Default keeps getting traffic while its latency is at most this. Above it the in-flight
  // capacity it costs and the payments it would still hold when the test ends outweigh the 3 %
  // fee it saves (final: 7 % vs 10 %), if the fallback is faster.
  int64_t default_max_latency_ms = 1200;
  // In-flight POSTs per processor. The processor admits 800 and queues 500; staying below 800
  // keeps its queue (and 429s) out of our latency, with room for health and lookup calls.
  int max_in_flight = 700;
  // When both processors fail, payments wait; this many per processor are still sent as probes
  // (a 500 stores nothing, so probing costs only the probe's latency).
  int probe_in_flight = 1;
  // GET /payments/{id} lookups in flight per processor; more wait (they share the processor's
  // limiter and connections with payments).
  int max_lookups_in_flight = 32;
  // And this many lookups a second per processor (a burst of a fifth of that): a recovery of
  // thousands of payments, or a processor whose answers we cannot use, never floods it.
  int max_lookups_per_s = 500;
  // The money-aware part (routing_policy.h): while the cheaper processor fails and the dearer one
  // works, a free payment waits for the cheaper one to come back for at most this long (its age in
  // the router), then goes to the dearer one. 0: never wait (the fallback takes over at once).
  // The one flag of the policy (--default_wait_ms).
  int64_t default_wait_ms = 60000;
  // The load has stopped when no new payment has arrived for this long: whatever waits then goes
  // wherever it can be settled, so that nothing is still waiting when the test reads the totals
  // (k6 reads them about a second after the last answer).
  int64_t load_stopped_after_ms = 250;
  // A full cheaper processor (max_in_flight) is waited for while the payments queued would all
  // be sent within this long at its latency (queued x latency / max_in_flight): a backlog
  // released at once when it comes back (5,600 payments at 20 ms: 160 ms) stays there; a slow
  // one that cannot keep up (1000 ms at 900/s) overflows to the dearer one, so the queue stays
  // small enough to be sent when the load stops.
  int64_t capacity_wait_ms = 1000;
  // Payments that waited go to the cheaper processor at most this many a second once it is back
  // (a tenth of that at once): the final's 14,000 sent in one go took the two cores for a second
  // (emulator, router, ledger) and the edges' p99 of that second reached 28 ms; at 2,000 a second
  // they are all sent within 7 s. Not once the load has stopped: then everything goes at once.
  int release_per_s = 2000;
};

// When a failed attempt is tried again.
struct RetryConfig {
  int64_t initial_backoff_ms = 50;
  int64_t max_backoff_ms = 2000;
  // After a timeout or dropped connection, how long the processor could still insert the payment
  // (its delay and its queue). Only after this may GET /payments/{id} -> 404 release the payment
  // to the other processor.
  int64_t ambiguity_settle_ms = 10000;
  // A lookup that got no clear answer (timeout, 5xx, 429, a 200 we could not use) is tried again
  // after a backoff from initial_backoff_ms up to this.
  int64_t max_lookup_backoff_ms = 10000;
};

struct HealthConfig {
  // The processors allow one health call per 5 s, shared by all callers (fixed window). A little
  // more than 5 s keeps two of our calls out of the same window despite clock skew.
  int64_t min_interval_ms = 5100;
  // Router shards divide that budget (router/health_poll_gate.h, HealthSlots): this router is
  // shard `slot` of `slots` and polls only in its own slots of the wall clock, within the first
  // slot_open_ms of each (slots of min_interval_ms + slot_open_ms). One slot: no division. The
  // opening is wide enough for a router throttled by its CPU quota (up to ~90 ms per 100 ms
  // period at 0.1 CPU) to still meet it.
  int slot = 0;
  int slots = 1;
  int64_t slot_open_ms = 400;
};

// The processors' host names, looked up off the event loop (resolver.h). An IP literal is used
// as it is.
struct ResolveConfig {
  // A looked-up address serves this long; then the name is looked up again, the old address still
  // serving until the new one arrives (a container that restarts may come back at another
  // address). A failed connect (refused, timed out) looks the name up at once.
  int64_t ttl_ms = 30000;
  // One name is looked up at most this often: a name that does not resolve yet, a processor that
  // keeps refusing.
  int64_t min_interval_ms = 1000;
};

struct RouterConfig {
  std::string default_url = "http://127.0.0.1:8001";
  std::string fallback_url = "http://127.0.0.1:8002";
  // Fee rates in basis points; only reported (the policy already assumes default is cheaper).
  int default_fee_bp = 700;
  int fallback_fee_bp = 1000;
  Timeouts timeouts;
  ResolveConfig resolve;
  RoutingConfig routing;
  RetryConfig retry;
  HealthConfig health;
  // Upper bound on remembered correlation ids (about 17 bytes each); beyond it new payments are
  // refused instead of risking a double payment. Cleared by Purge.
  int64_t max_remembered_ids = 4'000'000;
  // A payment still pending this long after the router took it is "undecided": counted in
  // Router/Stats (by state, with the oldest age) and logged once with its id. It keeps being
  // retried; the count is how an operator learns that something needs a look.
  int64_t undecided_after_ms = 30000;
};

}  // namespace rinha::router
