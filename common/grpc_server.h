// Starting a gRPC server the way every service of this system serves: standard health and
// reflection services, SO_REUSEPORT off, listening on a TCP address and/or a unix socket.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rinha {

struct GrpcListenOptions {
  std::string tcp_address;       // "host:port", port 0 = any free port; empty = no TCP
  std::string unix_socket_path;  // empty = no unix socket
};

struct StartedGrpcServer {
  std::unique_ptr<grpc::Server> server;
  int tcp_port = 0;  // the bound port when tcp_address was given
};

// Registers `service` (not owned; must outlive the server) and starts listening. A stale socket
// file at unix_socket_path is replaced (anything else there is an error) and made writable by
// all, since peers in other containers sharing the volume may run as other users.
absl::StatusOr<StartedGrpcServer> StartGrpcServer(grpc::Service* service,
                                                  const GrpcListenOptions& options);

// Creates the parent directory of `path` when missing.
absl::Status EnsureParentDirectory(const std::string& path);

}  // namespace rinha
