// A do-nothing HTTP/1.1 server with the contest's API (POST /payments -> 202, GET
// /payments-summary -> zero totals, POST /purge-payments -> 200). It stands in for the edges in a
// "floor" run, so what is left is the cost of the load generator and the load balancer.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/http1_server.h"

namespace rinha::contest {

// What to answer to one request; pure, so it is tested without sockets.
absl::string_view NullResponse(absl::string_view method, absl::string_view target);

// One thread (common/http1_server.h: epoll, keep-alive, pipelining); requests carry bodies by
// Content-Length only and are answered on the loop thread.
class NullResponder {
 public:
  // Binds host:port (port 0: any free port) and starts serving.
  static absl::StatusOr<std::unique_ptr<NullResponder>> Start(const std::string& host, int port);
  ~NullResponder();
  NullResponder(const NullResponder&) = delete;
  NullResponder& operator=(const NullResponder&) = delete;

  int port() const { return port_; }
  // Stops serving and closes every connection; idempotent.
  void Shutdown();

 private:
  NullResponder() = default;

  std::unique_ptr<Http1Server> server_;
  int port_ = 0;
};

}  // namespace rinha::contest
