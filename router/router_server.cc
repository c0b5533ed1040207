#include "router/router_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace rinha::router {
namespace {

absl::Status PrepareSocketPath(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a socket"));
    }
    ::unlink(path.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouterServer>> RouterServer::Start(
    const RouterServerOptions& options, Clock& clock) {
  if (options.tcp_address.empty() && options.unix_socket_path.empty()) {
    return absl::InvalidArgumentError("router needs a TCP address or a unix socket path");
  }
  std::unique_ptr<RouterServer> server(new RouterServer());
  server->ledger_ = LedgerClient::Start(options.ledger_target, options.ledger);
  absl::StatusOr<std::unique_ptr<Dispatcher>> dispatcher =
      Dispatcher::Start(options.router, *server->ledger_, clock);
  if (!dispatcher.ok()) return dispatcher.status();
  server->dispatcher_ = *std::move(dispatcher);
  server->service_ = std::make_unique<RouterService>(*server->dispatcher_, *server->ledger_);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(server->service_.get());
  if (!options.tcp_address.empty()) {
    builder.AddListeningPort(options.tcp_address, grpc::InsecureServerCredentials(),
                             &server->tcp_port_);
  }
  if (!options.unix_socket_path.empty()) {
    if (absl::Status s = PrepareSocketPath(options.unix_socket_path); !s.ok()) return s;
    builder.AddListeningPort(absl::StrCat("unix:", options.unix_socket_path),
                             grpc::InsecureServerCredentials());
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || (!options.tcp_address.empty() && server->tcp_port_ == 0)) {
    server->server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on tcp '", options.tcp_address,
                                               "' / unix '", options.unix_socket_path, "'"));
  }
  if (!options.unix_socket_path.empty()) {
    server->unix_socket_path_ = options.unix_socket_path;
    ::chmod(options.unix_socket_path.c_str(), 0666);
  }
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
  if (dispatcher_ != nullptr) dispatcher_->Stop();
  ledger_.reset();
  if (!unix_socket_path_.empty()) ::unlink(unix_socket_path_.c_str());
}

}  // namespace rinha::router
