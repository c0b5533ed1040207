#include "router/router_server.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>

#include "common/grpc_server.h"
#include "common/log.h"

namespace rinha::router {

absl::StatusOr<std::unique_ptr<RouterServer>> RouterServer::Start(
    const RouterServerOptions& options, Clock& clock) {
  if (options.tcp_address.empty() && options.unix_socket_path.empty()) {
    return absl::InvalidArgumentError("router needs a TCP address or a unix socket path");
  }
  std::unique_ptr<RouterServer> server(new RouterServer());
  server->drain_ = options.drain;
  Dispatcher::Recovery recovery;
  if (!options.journal_dir.empty()) {
    Journal::Options journal_options;
    journal_options.dir = options.journal_dir;
    journal_options.sync = options.journal_sync;
    absl::StatusOr<std::unique_ptr<Journal>> journal =
        Journal::Open(journal_options, &recovery.journal);
    if (!journal.ok()) return journal.status();
    server->journal_ = *std::move(journal);
  }
  server->ledger_ =
      LedgerClient::Start(options.ledger_target, options.ledger, server->journal_.get());
  // Before serving: the ids the ledger holds, so that nothing settled is ever taken again (an
  // edge may resend a batch this router acknowledged before it stopped).
  absl::StatusOr<absl::flat_hash_set<std::string>> settled =
      server->ledger_->SettledIds(options.ledger_wait);
  if (!settled.ok()) return settled.status();
  recovery.settled_ids = *std::move(settled);
  absl::StatusOr<std::unique_ptr<Dispatcher>> dispatcher = Dispatcher::Start(
      options.router, *server->ledger_, clock, server->journal_.get(), std::move(recovery));
  if (!dispatcher.ok()) return dispatcher.status();
  server->dispatcher_ = *std::move(dispatcher);
  server->service_ = std::make_unique<RouterService>(*server->dispatcher_, *server->ledger_,
                                                     server->journal_.get());

  absl::StatusOr<StartedGrpcServer> started =
      StartGrpcServer(server->service_.get(), {options.tcp_address, options.unix_socket_path});
  if (!started.ok()) return started.status();
  server->server_ = std::move(started->server);
  server->tcp_port_ = started->tcp_port;
  server->unix_socket_path_ = options.unix_socket_path;
  RINHA_LOG_INFO("router serving tcp_port=%d unix=%s default=%s fallback=%s ledger=%s",
                 server->tcp_port_, server->unix_socket_path_, options.router.default_url,
                 options.router.fallback_url, options.ledger_target);
  return server;
}

RouterServer::~RouterServer() { Shutdown(); }

void RouterServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }
  if (dispatcher_ != nullptr) {
    dispatcher_->Drain(drain_);
    dispatcher_->Stop();
  }
  if (ledger_ != nullptr) ledger_->Shutdown(drain_);
  ledger_.reset();
  journal_.reset();
  if (!unix_socket_path_.empty()) ::unlink(unix_socket_path_.c_str());
}

}  // namespace rinha::router
