#include "router/router_server.h"

#include <unistd.h>

#include "common/host_port.h"
#include "common/log.h"

namespace rinha::router {

absl::StatusOr<std::unique_ptr<RouterServer>> RouterServer::Start(
    const RouterServerOptions& options, Clock& clock) {
  if (options.tcp_address.empty() && options.unix_socket_path.empty()) {
    return absl::InvalidArgumentError("router needs a TCP address or a unix socket path");
  }
  std::unique_ptr<RouterServer> server(new RouterServer());
  server->drain_ = options.drain;
  server->registry_ = std::make_unique<metrics::Registry>();
  metrics::AddProcessMetrics(*server->registry_);
  server->metrics_ = std::make_unique<RouterMetrics>(*server->registry_);
  LedgerClient::Options ledger_options = options.ledger;
  ledger_options.settle_latency = &server->registry_->AddHistogram(
      "rinha_router_settle_latency_seconds",
      "From the router receiving a payment to the ledger acknowledging its settlement.",
      {{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
       metrics::kMicrosPerSecond});
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
  // The server's queue and its one thread first: the ledger stream's events run there too, so
  // that one thread of the router waits inside gRPC (common/grpc_server.h).
  server->server_ = GrpcServer::Prepare();
  server->ledger_ = LedgerClient::Start(options.ledger_target, ledger_options,
                                        server->journal_.get(), server->server_->cq());
  // Before serving: the ids the ledger holds, so that nothing settled is ever taken again (an
  // edge may resend a batch this router acknowledged before it stopped).
  absl::StatusOr<absl::flat_hash_set<std::string>> settled =
      server->ledger_->SettledIds(options.ledger_wait);
  if (!settled.ok()) return settled.status();
  recovery.settled_ids = *std::move(settled);
  absl::StatusOr<std::unique_ptr<Dispatcher>> dispatcher =
      Dispatcher::Start(options.router, *server->ledger_, clock, server->journal_.get(),
                        std::move(recovery), server->metrics_.get());
  if (!dispatcher.ok()) return dispatcher.status();
  server->dispatcher_ = *std::move(dispatcher);
  Dispatcher* raw_dispatcher = server->dispatcher_.get();
  server->metrics_->AddStateMetrics([raw_dispatcher]() { return raw_dispatcher->Stats(); },
                                    server->ledger_.get(), server->journal_.get());
  server->registry_->AddCallbackGauge(
      "rinha_audit_enabled", "1 when the self-audit runs (--audit_admin_token).", {},
      [on = !options.audit.admin_token.empty()]() { return on ? 1.0 : 0.0; });
  if (!options.audit.admin_token.empty()) {
    server->audit_ = std::make_unique<SelfAuditThread>(
        options.audit,
        std::make_unique<HttpAuditSource>(options.router.default_url, options.router.fallback_url,
                                          options.audit.admin_token, *server->ledger_),
        clock);
    SelfAuditThread* audit = server->audit_.get();
    metrics::Registry& r = *server->registry_;
    auto read = [audit](int64_t SelfAuditStats::*field) {
      return [audit, field]() { return static_cast<double>(audit->stats().*field); };
    };
    r.AddCallbackCounter("rinha_audit_windows_checked_total",
                         "Self-audit checks of a window (rechecks count again).", {},
                         read(&SelfAuditStats::windows_checked));
    r.AddCallbackGauge("rinha_audit_mismatched_windows",
                       "Windows whose ledger summary differs from the processors' now.", {},
                       read(&SelfAuditStats::mismatched_now));
    r.AddCallbackCounter("rinha_audit_mismatched_windows_total",
                         "Windows found different from the processors.", {},
                         read(&SelfAuditStats::mismatched_total));
    r.AddCallbackCounter("rinha_audit_cleared_windows_total",
                         "Mismatched windows found equal later.", {},
                         read(&SelfAuditStats::cleared_total));
    r.AddCallbackCounter("rinha_audit_errors_total",
                         "Self-audit checks that could not complete (a call failed).", {},
                         read(&SelfAuditStats::errors));
    r.AddCallbackGauge("rinha_audit_last_window_end_seconds",
                       "End of the newest window checked (Unix seconds).", {},
                       [audit]() { return audit->stats().last_window_end_ms / 1000.0; });
  }
  if (!options.metrics_address.empty()) {
    std::string host;
    int port = 0;
    if (absl::Status s = ParseHostPort(options.metrics_address, &host, &port); !s.ok()) return s;
    absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> metrics_server =
        metrics::MetricsServer::Start(host.empty() ? "0.0.0.0" : host, port, *server->registry_);
    if (!metrics_server.ok()) return metrics_server.status();
    server->metrics_server_ = *std::move(metrics_server);
  }
  server->service_ = std::make_unique<RouterService>(*server->dispatcher_, *server->ledger_,
                                                     server->journal_.get());

  if (absl::Status s = server->server_->Serve(server->service_.get(),
                                              {options.tcp_address, options.unix_socket_path});
      !s.ok()) {
    return s;
  }
  server->service_->ServeSubmit(server->server_->cq());
  server->tcp_port_ = server->server_->tcp_port();
  server->unix_socket_path_ = options.unix_socket_path;
  RINHA_LOG_INFO(
      "router serving tcp_port=%d unix=%s default=%s fallback=%s ledger=%s health_slot=%d/%d",
      server->tcp_port_, server->unix_socket_path_, options.router.default_url,
      options.router.fallback_url, options.ledger_target, options.router.health.slot,
      options.router.health.slots);
  return server;
}

RouterServer::~RouterServer() { Shutdown(); }

int RouterServer::metrics_port() const {
  return metrics_server_ != nullptr ? metrics_server_->port() : 0;
}

void RouterServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // Streams still open after 2 s are cancelled; their call objects wait for the dispatcher's
  // answers they are owed, so the dispatcher must still run.
  if (server_ != nullptr) server_->ShutdownServer(absl::Seconds(2));
  if (metrics_server_ != nullptr) metrics_server_->Stop();
  audit_.reset();
  if (dispatcher_ != nullptr) {
    dispatcher_->Drain(drain_);
    dispatcher_->Stop();  // every batch handed over is answered by now
  }
  // The calls' last events may still start operations (a write, a Finish) on the server's
  // queue, and the ledger stream's operations complete there: the queue stops once no call is
  // left and the stream is done.
  if (service_ != nullptr) service_->WaitForCalls();
  if (ledger_ != nullptr) ledger_->Shutdown(drain_);
  ledger_.reset();
  if (server_ != nullptr) server_->ShutdownQueue();
  journal_.reset();
  if (!unix_socket_path_.empty()) ::unlink(unix_socket_path_.c_str());
}

}  // namespace rinha::router
