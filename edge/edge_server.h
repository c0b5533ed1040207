// The edge process minus main(): the contest's HTTP API (cpp-httplib, tuned for latency) in
// front of the router stream (POST /payments) and the ledger (GET /payments-summary).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "edge/router_stream.h"
#include "payments.grpc.pb.h"

namespace rinha {
class BoundedHttplibServer;
struct BoundedHttplibStats;
class HttplibListener;
}  // namespace rinha

namespace rinha::edge {

struct EdgeServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;  // 0: any free port (see EdgeServer::port())
  // gRPC targets, e.g. "unix:/run/rinha/router.sock" or "127.0.0.1:50051".
  std::string router_target = "unix:/run/rinha/router.sock";
  std::string ledger_target = "unix:/run/rinha/ledger.sock";
  // HTTP threads: connections served at once (cpp-httplib holds a thread per open connection;
  // an idle one costs nothing: it waits in poll()). A connection beyond them is answered 503
  // and closed at once, unread, instead of waiting for a thread (common/bounded_httplib_server.h).
  // The load balancer keeps 2 connections per edge; the rest absorbs test clients and bursts.
  int threads = 32;
  int listen_backlog = 4096;
  // Request bodies above this get 413. A payment body is under 100 bytes.
  size_t max_body_bytes = 4096;
  // Head and body of one request must arrive within this, from its first byte (on a new
  // connection: from the accept). A slower request is cut off (400, connection closed): a client
  // dripping a request holds a thread for at most this long. The load balancer sends whole
  // requests, so only a client talking to the edge directly ever meets it.
  absl::Duration request_timeout = absl::Seconds(2);
  // Bytes of one request's head; with max_body_bytes, the most read for one request.
  size_t max_head_bytes = 8192;
  absl::Duration write_timeout = absl::Seconds(5);  // an answer the client does not read
  // An idle keep-alive connection is closed after this. Keep it longer than the load
  // balancer's own upstream idle timeout, so that the balancer, not the edge, closes idle
  // connections (otherwise a POST may race a close and fail). Shutdown closes idle connections
  // at once.
  absl::Duration keep_alive_timeout = absl::Seconds(60);
  absl::Duration summary_deadline = absl::Milliseconds(1200);
  absl::Duration purge_deadline = absl::Seconds(5);
  RouterStream::Options stream;
  // Runs on the HTTP thread before it starts accepting. Tests delay the start through it, to
  // make a stop that races the start certain rather than lucky.
  std::function<void()> before_listen;
};

class EdgeServer {
 public:
  // Creates the channels (they connect lazily: the router and ledger may start later), binds
  // the HTTP port and starts serving; returns once the port accepts. Fails when the address
  // cannot be bound.
  static absl::StatusOr<std::unique_ptr<EdgeServer>> Start(const EdgeServerOptions& options,
                                                           Clock& clock);
  ~EdgeServer();  // Shutdown(absl::ZeroDuration())
  EdgeServer(const EdgeServer&) = delete;
  EdgeServer& operator=(const EdgeServer&) = delete;

  int port() const { return port_; }
  RouterStream& router_stream() { return *stream_; }
  // The HTTP front's counters (busy threads, refused connections, cut-off requests).
  BoundedHttplibStats http_stats() const;

  // Stops the HTTP server (in-flight requests finish; idle keep-alive connections are closed),
  // then gives the router stream up to
  // `drain` to deliver what was accepted. Idempotent; not from an HTTP handler.
  void Shutdown(absl::Duration drain);

 private:
  EdgeServer(const EdgeServerOptions& options, Clock& clock);
  void InstallHandlers();

  const EdgeServerOptions options_;
  Clock& clock_;
  std::unique_ptr<rinha::v1::Ledger::Stub> ledger_;
  std::unique_ptr<rinha::v1::Router::Stub> router_;
  std::unique_ptr<RouterStream> stream_;
  std::unique_ptr<BoundedHttplibServer> http_;
  std::unique_ptr<HttplibListener> listener_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace rinha::edge
