// Starting a gRPC server the way every service of this system serves: health and reflection,
// SO_REUSEPORT off, listening on a TCP address and/or a unix socket, and exactly one thread that
// polls for it.
//
// Why one thread. gRPC's callback API (and its default health service, which uses it) runs two
// `nexting_thread`s per process; in Debian's gRPC 1.51 (epoll1 poller) every thread waiting in
// gRPC takes turns at one epoll set, and each turn is handed over with a condition-variable
// signal and a wake-up. At the contest's rate that hand-over was a tenth of the router's and the
// ledger's CPU (docs/results.md, "Where the CPU goes"). Here the server has one completion queue
// of its own (ServerBuilder::AddCompletionQueue) and one thread, GrpcServer's, takes its events;
// that makes gRPC build a "hybrid" server whose synchronous methods (reflection, health, the
// rarely called unary methods of our services) wait on a non-polling queue and are run by gRPC's
// sync threads without polling. The hot streams (the router's Submit, the ledger's Settle) are
// asynchronous methods on the queue; their calls are objects whose tags are CqTag
// (common/cq_tag.h). A client stream of the same process (common/batch_stream.h: the router's
// ledger stream) can put its operations on the same queue, so that the process has one thread
// waiting inside gRPC in all: Prepare() makes the queue and starts its thread before anything is
// served, since such a stream may be needed first (the router reads the ledger before it
// serves), and Serve() starts serving later.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cq_tag.h"

namespace rinha {

struct GrpcListenOptions {
  std::string tcp_address;       // "host:port", port 0 = any free port; empty = no TCP
  std::string unix_socket_path;  // empty = no unix socket
};

class GrpcServer {
 public:
  // The name of the thread that takes the queue's events.
  static constexpr char kPollerThreadName[] = "grpc-poller";

  // Makes the queue and starts the thread that takes its events; nothing is served yet. From
  // here on, client operations of the process may complete on cq().
  static std::unique_ptr<GrpcServer> Prepare();
  // Registers `service` (not owned; must outlive the server), the standard health service
  // (grpc.health.v1.Health: Check answers SERVING for the server, "", and NOT_FOUND for any other
  // name, as gRPC's default service did; Watch is UNIMPLEMENTED) and reflection, and starts
  // listening. A stale socket file at unix_socket_path is replaced (anything else there is an
  // error) and made writable by all, since peers in other containers sharing the volume may run
  // as other users. The service's asynchronous methods are requested on cq() after Serve
  // returns. Once, after Prepare; on failure the queue keeps running until ShutdownQueue.
  absl::Status Serve(grpc::Service* service, const GrpcListenOptions& options);
  // Prepare, then Serve.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(grpc::Service* service,
                                                           const GrpcListenOptions& options);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int tcp_port() const { return tcp_port_; }
  // Where asynchronous methods are requested and their operations complete.
  grpc::ServerCompletionQueue* cq() { return cq_.get(); }

  // Stops accepting calls, waits up to `grace` for running ones (then cancels them) and returns
  // once gRPC considers every call done. The asynchronous calls' last events (and the requested
  // but unmatched calls, back with ok = false) may still be in the queue: its thread keeps
  // running them. Idempotent.
  void ShutdownServer(absl::Duration grace);
  // After ShutdownServer, once every asynchronous call object is gone (their events start
  // operations of their own: the owner counts them with LiveCalls and waits for none) and no
  // other thread will start an operation on cq() (a client stream on it has been shut down):
  // shuts the queue down, runs every tag left and joins its thread. Idempotent; ~GrpcServer calls
  // both, so an owner serving asynchronous methods must have called both, in that order, with the
  // wait between.
  void ShutdownQueue();

 private:
  GrpcServer() = default;
  void Poll();

  std::unique_ptr<grpc::Service> health_;
  std::unique_ptr<grpc::ServerBuilder> builder_;  // from Prepare until Serve
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread poller_;
  int tcp_port_ = 0;
  bool server_shut_down_ = false;
  bool queue_shut_down_ = false;
};

// Creates the parent directory of `path` when missing.
absl::Status EnsureParentDirectory(const std::string& path);

}  // namespace rinha
