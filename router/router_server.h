// The router process minus main(): the journal, the ledger client, the dispatcher (event loop
// and outbound HTTP) and the gRPC server (rinha.v1.Router, health, reflection) on TCP and/or a
// unix socket. Start takes over what an earlier run left in the journal before it serves.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/journal.h"
#include "common/metrics.h"
#include "common/metrics_http.h"
#include "router/dispatcher.h"
#include "router/ledger_client.h"
#include "router/router_config.h"
#include "router/router_metrics.h"
#include "router/router_service.h"
#include "router/self_audit.h"

namespace rinha::router {

struct RouterServerOptions {
  // "host:port"; port 0 picks a free port (see tcp_port()). Empty: no TCP listener.
  std::string tcp_address = "0.0.0.0:50051";
  // Unix socket path (a stale socket file is replaced). Empty: no unix listener.
  std::string unix_socket_path;
  // gRPC target of the ledger, e.g. "unix:/run/rinha/ledger.sock".
  std::string ledger_target = "unix:/run/rinha/ledger.sock";
  RouterConfig router;
  LedgerClient::Options ledger;
  // The router's journal: every payment it acknowledges to an edge is journaled first and stays
  // there until the ledger holds its settlement. Empty: no journal (a crash loses what the
  // router holds). One directory per router.
  std::string journal_dir;
  Journal::Sync journal_sync = Journal::Sync::kNone;
  // How long Start waits for the ledger to list the settled ids (the memory that keeps a
  // payment resent after a restart from being paid twice).
  absl::Duration ledger_wait = absl::Seconds(60);
  // Graceful stop: how long in-flight processor calls and unacknowledged settlements are waited
  // for (what is left stays journaled for the next start).
  absl::Duration drain = absl::Seconds(3);
  // "host:port" of GET /metrics (Prometheus text; port 0: any, see metrics_port()). Empty: none.
  std::string metrics_address;
  // The self-audit (self_audit.h): on when audit.admin_token is set.
  SelfAuditConfig audit;
};

class RouterServer {
 public:
  static absl::StatusOr<std::unique_ptr<RouterServer>> Start(const RouterServerOptions& options,
                                                             Clock& clock);
  ~RouterServer();
  RouterServer(const RouterServer&) = delete;
  RouterServer& operator=(const RouterServer&) = delete;

  int tcp_port() const { return tcp_port_; }
  int metrics_port() const;
  const std::string& unix_socket_path() const { return unix_socket_path_; }
  Dispatcher& dispatcher() { return *dispatcher_; }
  LedgerClient& ledger() { return *ledger_; }

  // Stops serving, lets in-flight processor calls finish and the ledger take their settlements
  // (each for up to options.drain), then stops. Loses nothing: what is left is in the journal.
  // Idempotent; not from gRPC's threads.
  void Shutdown();

 private:
  RouterServer() = default;

  absl::Duration drain_;
  // Declared first: destroyed last, after everything its callbacks read.
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<RouterMetrics> metrics_;
  std::unique_ptr<Journal> journal_;
  // The order of stopping is Shutdown()'s (the destructor calls it first), not this one: the
  // ledger stream's operations complete on server_'s queue, which stops after the stream.
  std::unique_ptr<LedgerClient> ledger_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<RouterService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  std::unique_ptr<SelfAuditThread> audit_;
  int tcp_port_ = 0;
  std::string unix_socket_path_;
  bool shut_down_ = false;
};

}  // namespace rinha::router
