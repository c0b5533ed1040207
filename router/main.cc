// The router process: flags, start, report readiness on stdout, stop on SIGTERM/SIGINT.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/stop_signal.h"
#include "router/router_server.h"

// Defaults come from the option structs, so each is written once. The literal ones are deployment
// values (socket path, compose service names, the batch window) where the structs keep defaults
// for tests.
using rinha::router::ResolveConfig;
using rinha::router::RetryConfig;
using rinha::router::RouterConfig;
using rinha::router::RouterServerOptions;
using rinha::router::RoutingConfig;
using rinha::router::Timeouts;

ABSL_FLAG(std::string, listen, RouterServerOptions().tcp_address,
          "TCP address host:port (port 0 = any; empty = off)");
ABSL_FLAG(std::string, unix_socket, "/run/rinha/router.sock", "Unix socket path (empty = off)");
ABSL_FLAG(std::string, ledger, RouterServerOptions().ledger_target, "gRPC target of the ledger");
ABSL_FLAG(std::string, processor_default_url, "http://payment-processor-default:8080",
          "Base URL of the default payment processor");
ABSL_FLAG(std::string, processor_fallback_url, "http://payment-processor-fallback:8080",
          "Base URL of the fallback payment processor");
ABSL_FLAG(int, default_fee_bp, RouterConfig().default_fee_bp,
          "Default processor fee in basis points");
ABSL_FLAG(int, fallback_fee_bp, RouterConfig().fallback_fee_bp,
          "Fallback processor fee in basis points");
ABSL_FLAG(int64_t, default_max_latency_ms, RoutingConfig().default_max_latency_ms,
          "Default keeps traffic while its latency is at most this (see routing_policy.h)");
ABSL_FLAG(int, max_in_flight, RoutingConfig().max_in_flight, "POSTs in flight per processor");
ABSL_FLAG(int64_t, default_wait_ms, RoutingConfig().default_wait_ms,
          "while the cheaper processor fails and the dearer one works, a payment waits at most "
          "this long for the cheaper one before it goes to the dearer one (0: never wait; "
          "everything waiting goes at once when the load stops; see routing_policy.h)");
ABSL_FLAG(int64_t, ledger_batch_window_ms, 20,
          "a settlement waits at most this long for others to share its ledger write and "
          "SQLite transaction (0 = write at once)");
ABSL_FLAG(int64_t, payment_timeout_ms, Timeouts().payment_ms,
          "Timeout of POST /payments to a processor");
ABSL_FLAG(int64_t, resolve_ttl_ms, ResolveConfig().ttl_ms,
          "a processor host name's address is looked up again when older than this (the old one "
          "serves until the new one arrives), and at once after a failed connect");
ABSL_FLAG(int64_t, ambiguity_settle_ms, RetryConfig().ambiguity_settle_ms,
          "after a timeout (or a restart), how long a processor may still insert a payment sent "
          "to it: only lookups made after this may release the payment to the other processor");
ABSL_FLAG(int, max_lookups_per_s, RoutingConfig().max_lookups_per_s,
          "GET /payments/{id} lookups a second per processor, at most (they share its concurrency "
          "limiter with payments)");
ABSL_FLAG(int64_t, undecided_after_ms, RouterConfig().undecided_after_ms,
          "a payment still pending this long is counted as undecided (Router/Stats, by state) "
          "and logged once with its id");
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9101",
          "host:port of GET /metrics (Prometheus text format; port 0: any; empty: none)");
ABSL_FLAG(std::string, audit_admin_token, "",
          "the processors' X-Rinha-Token: turns the self-audit on (the ledger's summary against "
          "each processor's admin summary, over closed windows). Never in the contest, whose "
          "rules forbid calling the admin endpoints. Empty: off");
ABSL_FLAG(int64_t, audit_window_ms, rinha::router::SelfAuditConfig().window_ms,
          "the self-audit's window, and how often it runs");
ABSL_FLAG(int64_t, audit_settle_ms, rinha::router::SelfAuditConfig().settle_ms,
          "a window is audited once its end is this far in the past");
// The deployment's directory (compose mounts a volume there); the struct's default is none.
ABSL_FLAG(std::string, journal_dir, "/var/lib/rinha/router-journal",
          "where every payment acknowledged to an edge is journaled until the ledger records its "
          "settlement (empty = no journal: a crash loses what the router holds)");
ABSL_FLAG(std::string, journal_sync, "none",
          "none: a journaled payment survives the router's crash (write(2) into the page cache); "
          "data: it survives power loss too (fdatasync per batch)");
ABSL_FLAG(int, health_slot, rinha::router::HealthConfig().slot,
          "with router shards: this router's shard index (0 .. --health_slots - 1); it polls the "
          "processors' health only in its own slots of the wall clock, so that all shards "
          "together keep to the processors' one call per 5 s");
ABSL_FLAG(int, health_slots, rinha::router::HealthConfig().slots,
          "the number of router shards sharing the processors' health budget (1: no shards)");
ABSL_FLAG(int64_t, drain_ms, 3000,
          "on SIGTERM, how long to wait for processor calls in flight, and then for the ledger to "
          "take their settlements (what is left stays journaled)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);

  rinha::BlockStopSignals();

  rinha::router::RouterServerOptions options;
  options.tcp_address = absl::GetFlag(FLAGS_listen);
  options.unix_socket_path = absl::GetFlag(FLAGS_unix_socket);
  options.ledger_target = absl::GetFlag(FLAGS_ledger);
  options.ledger.batch_window_us = absl::GetFlag(FLAGS_ledger_batch_window_ms) * 1000;
  options.router.default_url = absl::GetFlag(FLAGS_processor_default_url);
  options.router.fallback_url = absl::GetFlag(FLAGS_processor_fallback_url);
  options.router.default_fee_bp = absl::GetFlag(FLAGS_default_fee_bp);
  options.router.fallback_fee_bp = absl::GetFlag(FLAGS_fallback_fee_bp);
  options.router.routing.default_max_latency_ms = absl::GetFlag(FLAGS_default_max_latency_ms);
  options.router.routing.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  options.router.routing.default_wait_ms = absl::GetFlag(FLAGS_default_wait_ms);
  if (options.router.routing.default_wait_ms < 0) {
    std::fprintf(stderr, "router: --default_wait_ms must be 0 or more\n");
    return 2;
  }
  options.router.timeouts.payment_ms = absl::GetFlag(FLAGS_payment_timeout_ms);
  options.router.retry.ambiguity_settle_ms = absl::GetFlag(FLAGS_ambiguity_settle_ms);
  options.router.routing.max_lookups_per_s = absl::GetFlag(FLAGS_max_lookups_per_s);
  options.router.undecided_after_ms = absl::GetFlag(FLAGS_undecided_after_ms);
  options.router.resolve.ttl_ms = absl::GetFlag(FLAGS_resolve_ttl_ms);
  options.router.health.slot = absl::GetFlag(FLAGS_health_slot);
  options.router.health.slots = absl::GetFlag(FLAGS_health_slots);
  if (options.router.health.slots < 1 || options.router.health.slot < 0 ||
      options.router.health.slot >= options.router.health.slots) {
    RINHA_LOG_ERROR("--health_slot must be in [0, --health_slots) and --health_slots >= 1");
    return 2;
  }
  options.journal_dir = absl::GetFlag(FLAGS_journal_dir);
  absl::StatusOr<rinha::Journal::Sync> sync =
      rinha::Journal::ParseSync(absl::GetFlag(FLAGS_journal_sync));
  if (!sync.ok()) {
    RINHA_LOG_ERROR("--journal_sync: %s", sync.status().message());
    return 2;
  }
  options.journal_sync = *sync;
  options.drain = absl::Milliseconds(absl::GetFlag(FLAGS_drain_ms));
  options.metrics_address = absl::GetFlag(FLAGS_metrics_listen);
  options.audit.admin_token = absl::GetFlag(FLAGS_audit_admin_token);
  options.audit.window_ms = absl::GetFlag(FLAGS_audit_window_ms);
  options.audit.settle_ms = absl::GetFlag(FLAGS_audit_settle_ms);

  auto server = rinha::router::RouterServer::Start(options, rinha::RealClock::Get());
  if (!server.ok()) {
    RINHA_LOG_ERROR("router failed to start: %s", server.status().ToString());
    return 1;
  }
  std::printf("router listening tcp_port=%d unix=%s metrics_port=%d\n", (*server)->tcp_port(),
              (*server)->unix_socket_path().c_str(), (*server)->metrics_port());
  std::fflush(stdout);

  const int signal_number = rinha::WaitForStopSignal();
  RINHA_LOG_INFO("router got signal %d, shutting down", signal_number);
  (*server)->Shutdown();
  return 0;
}
