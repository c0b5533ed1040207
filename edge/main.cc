// The edge process: flags, start, report readiness on stdout, stop on SIGTERM/SIGINT.
#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "common/clock.h"
#include "common/log.h"
#include "edge/edge_server.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:8080", "HTTP address host:port (port 0 = any)");
ABSL_FLAG(std::string, router, "unix:/run/rinha/router.sock", "gRPC target of the router");
ABSL_FLAG(std::string, ledger, "unix:/run/rinha/ledger.sock", "gRPC target of the ledger");
ABSL_FLAG(int, threads, 32,
          "HTTP threads = connections served at once; one more is answered 503 at once, unread");
ABSL_FLAG(int, request_timeout_ms, 2000,
          "a request's head and body must arrive within this from its first byte (a new "
          "connection: from the accept), else the connection is closed");
ABSL_FLAG(int, keep_alive_timeout_s, 60,
          "an idle keep-alive connection is closed after this (keep it above the load balancer's "
          "own idle timeout for its connections)");
ABSL_FLAG(int64_t, max_queued, 100000,
          "payments held before the router acknowledges them; above it POST /payments gets 503");
ABSL_FLAG(int, batch_window_ms, 20,
          "after a payment arrives, wait this long to send it with others in one gRPC write "
          "(delivery is delayed, the HTTP answer is not); 0 = send at once");
ABSL_FLAG(int, drain_ms, 3000,
          "on SIGTERM, how long to wait for held payments to be delivered (what is left stays in "
          "the journal for the next start)");
ABSL_FLAG(std::string, journal_dir, "/var/lib/rinha/edge-journal",
          "where accepted payments are journaled before the 202, until the router has them "
          "(one directory per edge; empty = no journal: a crash loses what the router had not "
          "acknowledged)");
ABSL_FLAG(std::string, journal_sync, "none",
          "none: a journaled payment survives the edge's crash (write(2) into the page cache); "
          "data: it survives power loss too (fdatasync per payment)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  rinha::edge::EdgeServerOptions options;
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &options.port)) {
    RINHA_LOG_ERROR("--listen must be host:port, got '%s'", listen);
    return 2;
  }
  options.host = listen.substr(0, colon);
  options.router_target = absl::GetFlag(FLAGS_router);
  options.ledger_target = absl::GetFlag(FLAGS_ledger);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.request_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_request_timeout_ms));
  options.keep_alive_timeout = absl::Seconds(absl::GetFlag(FLAGS_keep_alive_timeout_s));
  if (options.threads < 1 || options.request_timeout <= absl::ZeroDuration() ||
      options.keep_alive_timeout <= absl::ZeroDuration()) {
    RINHA_LOG_ERROR("--threads, --request_timeout_ms and --keep_alive_timeout_s must be positive");
    return 2;
  }
  options.stream.max_pending = static_cast<size_t>(absl::GetFlag(FLAGS_max_queued));
  options.stream.batch_window = absl::Milliseconds(absl::GetFlag(FLAGS_batch_window_ms));
  options.stream.journal_dir = absl::GetFlag(FLAGS_journal_dir);
  const std::string sync = absl::GetFlag(FLAGS_journal_sync);
  if (sync != "none" && sync != "data") {
    RINHA_LOG_ERROR("--journal_sync must be none or data, got '%s'", sync);
    return 2;
  }
  options.stream.journal_sync = sync == "data" ? rinha::Journal::Sync::kData
                                               : rinha::Journal::Sync::kNone;

  auto server = rinha::edge::EdgeServer::Start(options, rinha::RealClock::Get());
  if (!server.ok()) {
    RINHA_LOG_ERROR("edge failed to start: %s", server.status().ToString());
    return 1;
  }
  std::printf("edge listening port=%d\n", (*server)->port());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  RINHA_LOG_INFO("edge got signal %d, shutting down", signal_number);
  (*server)->Shutdown(absl::Milliseconds(absl::GetFlag(FLAGS_drain_ms)));
  return 0;
}
