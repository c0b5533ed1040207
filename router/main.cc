// The router process: flags, start, report readiness on stdout, stop on SIGTERM/SIGINT.
#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/clock.h"
#include "common/log.h"
#include "router/router_server.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "TCP address host:port (port 0 = any; empty = off)");
ABSL_FLAG(std::string, unix_socket, "/run/rinha/router.sock", "Unix socket path (empty = off)");
ABSL_FLAG(std::string, ledger, "unix:/run/rinha/ledger.sock", "gRPC target of the ledger");
ABSL_FLAG(std::string, processor_default_url, "http://payment-processor-default:8080",
          "Base URL of the default payment processor");
ABSL_FLAG(std::string, processor_fallback_url, "http://payment-processor-fallback:8080",
          "Base URL of the fallback payment processor");
ABSL_FLAG(int, default_fee_bp, 700, "Default processor fee in basis points");
ABSL_FLAG(int, fallback_fee_bp, 1000, "Fallback processor fee in basis points");
ABSL_FLAG(int64_t, default_max_latency_ms, 1200,
          "Default keeps traffic while its latency is at most this (see routing_policy.h)");
ABSL_FLAG(int, max_in_flight, 700, "POSTs in flight per processor");
ABSL_FLAG(int64_t, ledger_batch_window_ms, 5,
          "a settlement waits at most this long for others to share its ledger write and "
          "SQLite transaction (0 = write at once)");
ABSL_FLAG(int64_t, payment_timeout_ms, 8000, "Timeout of POST /payments to a processor");
ABSL_FLAG(int64_t, ambiguity_settle_ms, 10000,
          "after a timeout (or a restart), how long a processor may still insert a payment sent "
          "to it: only lookups made after this may release the payment to the other processor");
ABSL_FLAG(std::string, journal_dir, "/var/lib/rinha/router-journal",
          "where every payment acknowledged to an edge is journaled until the ledger records its "
          "settlement (empty = no journal: a crash loses what the router holds)");
ABSL_FLAG(std::string, journal_sync, "none",
          "none: a journaled payment survives the router's crash (write(2) into the page cache); "
          "data: it survives power loss too (fdatasync per batch)");
ABSL_FLAG(int64_t, drain_ms, 3000,
          "on SIGTERM, how long to wait for processor calls in flight, and then for the ledger to "
          "take their settlements (what is left stays journaled)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

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
  options.router.timeouts.payment_ms = absl::GetFlag(FLAGS_payment_timeout_ms);
  options.router.retry.ambiguity_settle_ms = absl::GetFlag(FLAGS_ambiguity_settle_ms);
  options.journal_dir = absl::GetFlag(FLAGS_journal_dir);
  const std::string sync = absl::GetFlag(FLAGS_journal_sync);
  if (sync != "none" && sync != "data") {
    RINHA_LOG_ERROR("--journal_sync must be none or data, got '%s'", sync);
    return 2;
  }
  options.journal_sync = sync == "data" ? rinha::Journal::Sync::kData : rinha::Journal::Sync::kNone;
  options.drain = absl::Milliseconds(absl::GetFlag(FLAGS_drain_ms));

  auto server = rinha::router::RouterServer::Start(options, rinha::RealClock::Get());
  if (!server.ok()) {
    RINHA_LOG_ERROR("router failed to start: %s", server.status().ToString());
    return 1;
  }
  std::printf("router listening tcp_port=%d unix=%s\n", (*server)->tcp_port(),
              (*server)->unix_socket_path().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  RINHA_LOG_INFO("router got signal %d, shutting down", signal_number);
  (*server)->Shutdown();
  return 0;
}
