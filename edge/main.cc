// The edge process: flags, start, report readiness on stdout, stop on SIGTERM/SIGINT.
#include <signal.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/host_port.h"
#include "common/log.h"
#include "common/shard.h"
#include "common/stop_signal.h"
#include "edge/edge_server.h"

// Defaults come from the option structs, so each is written once.
using rinha::edge::EdgeServerOptions;
using rinha::edge::RouterStream;

ABSL_FLAG(std::string, listen,
          absl::StrCat(EdgeServerOptions().host, ":", EdgeServerOptions().port),
          "HTTP address host:port (port 0 = any)");
ABSL_FLAG(std::string, router, EdgeServerOptions().router_targets[0],
          "gRPC target of the router; with router shards, one per shard in shard order, "
          "comma-separated (a payment goes to shard FNV-1a64(id) mod K)");
ABSL_FLAG(std::string, ledger, EdgeServerOptions().ledger_targets[0],
          "gRPC target of the ledger; with router shards, each shard's ledger in shard order, "
          "comma-separated (as many as --router)");
ABSL_FLAG(int, threads, EdgeServerOptions().threads,
          "HTTP threads = connections served at once; one more is answered 503 at once, unread");
ABSL_FLAG(int, request_timeout_ms,
          static_cast<int>(absl::ToInt64Milliseconds(EdgeServerOptions().request_timeout)),
          "a request's head and body must arrive within this from its first byte (a new "
          "connection: from the accept), else the connection is closed");
ABSL_FLAG(int, keep_alive_timeout_s,
          static_cast<int>(absl::ToInt64Seconds(EdgeServerOptions().keep_alive_timeout)),
          "an idle keep-alive connection is closed after this (keep it above the load balancer's "
          "own idle timeout for its connections)");
ABSL_FLAG(int64_t, max_queued, static_cast<int64_t>(RouterStream::Options().max_pending),
          "payments held before the router acknowledges them; above it POST /payments gets 503");
ABSL_FLAG(int, batch_window_ms,
          static_cast<int>(absl::ToInt64Milliseconds(RouterStream::Options().batch_window)),
          "after a payment arrives, wait this long to send it with others in one gRPC write "
          "(delivery is delayed, the HTTP answer is not); 0 = send at once");
ABSL_FLAG(int, drain_ms, 3000,
          "on SIGTERM, how long to wait for held payments to be delivered (what is left stays in "
          "the journal for the next start)");
// The deployment's directory (compose mounts a volume there); the struct's default is none.
ABSL_FLAG(std::string, journal_dir, "/var/lib/rinha/edge-journal",
          "where accepted payments are journaled before the 202, until the router has them "
          "(one directory per edge; empty = no journal: a crash loses what the router had not "
          "acknowledged)");
ABSL_FLAG(std::string, journal_sync, "none",
          "none: a journaled payment survives the edge's crash (write(2) into the page cache); "
          "data: it survives power loss too (fdatasync per payment)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);

  rinha::BlockStopSignals();
  signal(SIGPIPE, SIG_IGN);

  rinha::edge::EdgeServerOptions options;
  const std::string listen = absl::GetFlag(FLAGS_listen);
  if (!rinha::ParseHostPort(listen, &options.host, &options.port).ok()) {
    RINHA_LOG_ERROR("--listen must be host:port, got '%s'", listen);
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> routers =
      rinha::ParseTargetList(absl::GetFlag(FLAGS_router));
  absl::StatusOr<std::vector<std::string>> ledgers =
      rinha::ParseTargetList(absl::GetFlag(FLAGS_ledger));
  if (!routers.ok() || !ledgers.ok() || routers->size() != ledgers->size()) {
    RINHA_LOG_ERROR("--router and --ledger must list one target per shard, as many of each: %s",
                    !routers.ok() ? routers.status().ToString()
                    : !ledgers.ok()
                        ? ledgers.status().ToString()
                        : absl::StrCat(routers->size(), " routers, ", ledgers->size(), " ledgers"));
    return 2;
  }
  options.router_targets = *std::move(routers);
  options.ledger_targets = *std::move(ledgers);
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
  absl::StatusOr<rinha::Journal::Sync> sync =
      rinha::Journal::ParseSync(absl::GetFlag(FLAGS_journal_sync));
  if (!sync.ok()) {
    RINHA_LOG_ERROR("--journal_sync: %s", sync.status().message());
    return 2;
  }
  options.stream.journal_sync = *sync;

  auto server = rinha::edge::EdgeServer::Start(options, rinha::RealClock::Get());
  if (!server.ok()) {
    RINHA_LOG_ERROR("edge failed to start: %s", server.status().ToString());
    return 1;
  }
  std::printf("edge listening port=%d\n", (*server)->port());
  std::fflush(stdout);

  const int signal_number = rinha::WaitForStopSignal();
  RINHA_LOG_INFO("edge got signal %d, shutting down", signal_number);
  (*server)->Shutdown(absl::Milliseconds(absl::GetFlag(FLAGS_drain_ms)));
  return 0;
}
