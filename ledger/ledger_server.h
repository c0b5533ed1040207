// The ledger process minus main(): opens the store and serves rinha.v1.Ledger, gRPC health and
// server reflection on a TCP address and/or a unix domain socket.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/metrics.h"
#include "common/metrics_http.h"
#include "ledger/ledger_service.h"
#include "ledger/ledger_store.h"

namespace rinha::ledger {

struct LedgerServerOptions {
  // "host:port"; port 0 picks a free port (see tcp_port()). Empty: no TCP listener.
  std::string tcp_address = "0.0.0.0:50052";
  // Filesystem path of the unix socket; a stale socket file there is removed first and missing
  // parent directories are created. Empty: no unix listener.
  std::string unix_socket_path;
  // SQLite database file; missing parent directories are created.
  std::string db_path;
  LedgerStore::Options store;
  LedgerService::Options service;
  // "host:port" of GET /metrics (Prometheus text; port 0: any, see metrics_port()). Empty: none.
  std::string metrics_address;
};

class LedgerServer {
 public:
  // Opens the store and starts serving. Fails if the store cannot be opened or an address
  // cannot be bound; at least one of the two addresses must be set. `clock` stamps the stored
  // rows (recorded_at_ms) and must outlive the server.
  static absl::StatusOr<std::unique_ptr<LedgerServer>> Start(const LedgerServerOptions& options,
                                                             Clock& clock);

  ~LedgerServer();
  LedgerServer(const LedgerServer&) = delete;
  LedgerServer& operator=(const LedgerServer&) = delete;

  // The bound TCP port (the chosen one when the address asked for port 0); 0 without TCP.
  int tcp_port() const { return tcp_port_; }
  const std::string& unix_socket_path() const { return unix_socket_path_; }
  // The bound metrics port; 0 without one.
  int metrics_port() const;
  LedgerStore& store() { return *store_; }
  const metrics::Registry& registry() const { return *registry_; }

  // Stops accepting calls, lets running ones finish for up to `grace` (then cancels them),
  // drains the store's writer (every acknowledged settlement is committed), closes the metrics
  // port and removes the socket file. Idempotent; not from gRPC's threads.
  void Shutdown(absl::Duration grace = absl::Seconds(2));

 private:
  LedgerServer() = default;

  // Declared first: destroyed last, after everything its callbacks read.
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<LedgerStore> store_;
  std::unique_ptr<LedgerService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  int tcp_port_ = 0;
  std::string unix_socket_path_;

  std::mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace rinha::ledger
