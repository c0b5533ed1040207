#include "ledger/ledger_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace rinha::ledger {
namespace {

absl::Status EnsureParentDirectory(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create directory ", parent.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

// A socket file left by a killed process would make bind() fail; anything else at that path is
// not ours to delete.
absl::Status RemoveStaleSocket(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("stat ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a socket"));
  }
  if (::unlink(path.c_str()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("unlink ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<LedgerServer>> LedgerServer::Start(
    const LedgerServerOptions& options) {
  if (options.tcp_address.empty() && options.unix_socket_path.empty()) {
    return absl::InvalidArgumentError("ledger needs a TCP address or a unix socket path");
  }
  if (absl::Status s = EnsureParentDirectory(options.db_path); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<LedgerStore>> store =
      LedgerStore::Open(options.db_path, options.store);
  if (!store.ok()) return store.status();

  std::unique_ptr<LedgerServer> server(new LedgerServer());
  server->store_ = *std::move(store);
  server->service_ = std::make_unique<LedgerService>(*server->store_, options.service);

  // Both are process-wide switches that take effect for servers built afterwards.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which lets a second ledger start silently on a port that
  // is already serving; a clash must fail loudly instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(server->service_.get());
  if (!options.tcp_address.empty()) {
    builder.AddListeningPort(options.tcp_address, grpc::InsecureServerCredentials(),
                             &server->tcp_port_);
  }
  if (!options.unix_socket_path.empty()) {
    if (absl::Status s = EnsureParentDirectory(options.unix_socket_path); !s.ok()) return s;
    if (absl::Status s = RemoveStaleSocket(options.unix_socket_path); !s.ok()) return s;
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
    // Peers in other containers sharing the socket's volume may run as other users.
    ::chmod(options.unix_socket_path.c_str(), 0666);
  }
  RINHA_LOG_INFO("ledger serving db=%s tcp_port=%d unix=%s", options.db_path, server->tcp_port_,
                 server->unix_socket_path_);
  return server;
}

LedgerServer::~LedgerServer() { Shutdown(); }

void LedgerServer::Shutdown(absl::Duration grace) {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    // Returns once every call is done; streams still open at the deadline are cancelled, and
    // their reactors wait for the store callbacks they are owed, so the store must still run.
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
    server_->Wait();
  }
  if (store_ != nullptr) store_->Shutdown();
  if (!unix_socket_path_.empty()) ::unlink(unix_socket_path_.c_str());
  RINHA_LOG_INFO("ledger stopped");
}

}  // namespace rinha::ledger
