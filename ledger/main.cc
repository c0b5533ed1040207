// The ledger process: flags, start, report readiness on stdout, stop on SIGTERM/SIGINT.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/stop_signal.h"
#include "ledger/ledger_server.h"

// The listen default is the options struct's; the others are deployment paths and a name where
// the struct keeps defaults for tests.
ABSL_FLAG(std::string, listen, rinha::ledger::LedgerServerOptions().tcp_address,
          "TCP address host:port (port 0 = any; empty = off)");
ABSL_FLAG(std::string, unix_socket, "/run/rinha/ledger.sock", "Unix socket path (empty = off)");
ABSL_FLAG(std::string, db_path, "/var/lib/rinha/ledger.db", "SQLite database file");
ABSL_FLAG(std::string, synchronous, "normal",
          "normal: commits survive a process kill (not power loss); full: fsync every commit");
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9102",
          "host:port of GET /metrics (Prometheus text format; port 0: any; empty: none)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);

  rinha::BlockStopSignals();  // before any thread starts

  rinha::ledger::LedgerServerOptions options;
  options.tcp_address = absl::GetFlag(FLAGS_listen);
  options.unix_socket_path = absl::GetFlag(FLAGS_unix_socket);
  options.db_path = absl::GetFlag(FLAGS_db_path);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_listen);
  const std::string synchronous = absl::AsciiStrToLower(absl::GetFlag(FLAGS_synchronous));
  if (synchronous == "full") {
    options.store.synchronous = rinha::ledger::LedgerStore::Synchronous::kFull;
  } else if (synchronous != "normal") {
    RINHA_LOG_ERROR("--synchronous must be normal or full, got '%s'", synchronous);
    return 2;
  }

  auto server = rinha::ledger::LedgerServer::Start(options, rinha::RealClock::Get());
  if (!server.ok()) {
    RINHA_LOG_ERROR("ledger failed to start: %s", server.status().ToString());
    return 1;
  }
  std::printf("ledger listening tcp_port=%d unix=%s metrics_port=%d\n", (*server)->tcp_port(),
              (*server)->unix_socket_path().c_str(), (*server)->metrics_port());
  std::fflush(stdout);

  const int signal_number = rinha::WaitForStopSignal();
  RINHA_LOG_INFO("ledger got signal %d, shutting down", signal_number);
  (*server)->Shutdown();
  return 0;
}
