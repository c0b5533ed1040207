#include "ledger/ledger_server.h"

#include <unistd.h>

#include <utility>

#include "common/grpc_server.h"
#include "common/host_port.h"
#include "common/log.h"
#include "ledger/ledger_metrics.h"

namespace rinha::ledger {

absl::StatusOr<std::unique_ptr<LedgerServer>> LedgerServer::Start(
    const LedgerServerOptions& options, Clock& clock) {
  if (options.tcp_address.empty() && options.unix_socket_path.empty()) {
    return absl::InvalidArgumentError("ledger needs a TCP address or a unix socket path");
  }
  if (absl::Status s = EnsureParentDirectory(options.db_path); !s.ok()) return s;
  std::unique_ptr<LedgerServer> server(new LedgerServer());
  server->registry_ = std::make_unique<metrics::Registry>();
  metrics::AddProcessMetrics(*server->registry_);
  LedgerStore::Options store_options = options.store;
  AddStoreHistograms(*server->registry_, store_options);
  absl::StatusOr<std::unique_ptr<LedgerStore>> store =
      LedgerStore::Open(options.db_path, store_options, clock);
  if (!store.ok()) return store.status();
  server->store_ = *std::move(store);
  AddStoreMetrics(*server->registry_, *server->store_);
  if (!options.metrics_address.empty()) {
    std::string host;
    int port = 0;
    if (absl::Status s = ParseHostPort(options.metrics_address, &host, &port); !s.ok()) return s;
    absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> metrics_server =
        metrics::MetricsServer::Start(host.empty() ? "0.0.0.0" : host, port, *server->registry_);
    if (!metrics_server.ok()) return metrics_server.status();
    server->metrics_server_ = *std::move(metrics_server);
  }
  server->service_ = std::make_unique<LedgerService>(*server->store_, options.service);

  absl::StatusOr<std::unique_ptr<GrpcServer>> started =
      GrpcServer::Start(server->service_.get(), {options.tcp_address, options.unix_socket_path});
  if (!started.ok()) return started.status();
  server->server_ = *std::move(started);
  server->service_->ServeSettle(server->server_->cq());
  server->tcp_port_ = server->server_->tcp_port();
  server->unix_socket_path_ = options.unix_socket_path;
  RINHA_LOG_INFO("ledger serving db=%s tcp_port=%d unix=%s", options.db_path, server->tcp_port_,
                 server->unix_socket_path_);
  return server;
}

LedgerServer::~LedgerServer() { Shutdown(); }

int LedgerServer::metrics_port() const {
  return metrics_server_ != nullptr ? metrics_server_->port() : 0;
}

void LedgerServer::Shutdown(absl::Duration grace) {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    // Returns once every call is done; streams still open at the deadline are cancelled, and
    // their call objects wait for the store callbacks they are owed, so the store must still
    // run.
    server_->ShutdownServer(grace);
  }
  // Every settlement handed to the store is answered here. The calls' last events may still
  // start operations (a Finish) on the server's queue, so it stops once no call is left.
  if (store_ != nullptr) store_->Shutdown();
  if (server_ != nullptr) {
    service_->WaitForCalls();
    server_->ShutdownQueue();
  }
  if (metrics_server_ != nullptr) metrics_server_->Stop();
  if (!unix_socket_path_.empty()) ::unlink(unix_socket_path_.c_str());
  RINHA_LOG_INFO("ledger stopped");
}

}  // namespace rinha::ledger
