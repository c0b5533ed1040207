#include "common/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/grpc_channel.h"

namespace rinha {
namespace {

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

absl::StatusOr<StartedGrpcServer> StartGrpcServer(grpc::Service* service,
                                                  const GrpcListenOptions& options) {
  if (options.tcp_address.empty() && options.unix_socket_path.empty()) {
    return absl::InvalidArgumentError("needs a TCP address or a unix socket path");
  }
  // Both are process-wide switches that take effect for servers built afterwards.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  StartedGrpcServer started;
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which lets a second server start silently on a port that
  // is already serving; a clash must fail loudly instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Clients across a network ping every second to notice a peer that vanished without closing
  // its connections (common/grpc_channel.h); gRPC's default answers pings more often than every
  // 5 minutes with GOAWAY.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kNetworkKeepaliveMs / 2);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(service);
  if (!options.tcp_address.empty()) {
    builder.AddListeningPort(options.tcp_address, grpc::InsecureServerCredentials(),
                             &started.tcp_port);
  }
  if (!options.unix_socket_path.empty()) {
    if (absl::Status s = EnsureParentDirectory(options.unix_socket_path); !s.ok()) return s;
    if (absl::Status s = RemoveStaleSocket(options.unix_socket_path); !s.ok()) return s;
    builder.AddListeningPort(absl::StrCat("unix:", options.unix_socket_path),
                             grpc::InsecureServerCredentials());
  }
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || (!options.tcp_address.empty() && started.tcp_port == 0)) {
    if (started.server != nullptr) started.server->Shutdown();
    return absl::UnavailableError(absl::StrCat("cannot listen on tcp '", options.tcp_address,
                                               "' / unix '", options.unix_socket_path, "'"));
  }
  if (!options.unix_socket_path.empty()) ::chmod(options.unix_socket_path.c_str(), 0666);
  return started;
}

}  // namespace rinha
