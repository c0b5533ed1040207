// GET /metrics on a small HTTP port of its own, for the services whose API is gRPC only (router,
// ledger): one epoll thread (common/http1_server.h), so an idle scraper connection costs nothing.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/http1_server.h"
#include "common/metrics.h"

namespace rinha::metrics {

// Answers GET /metrics with registry.Render(); 404 for other paths, 405 for other methods.
// Rendering runs on the server's thread. The registry must outlive the server.
class MetricsServer {
 public:
  // Binds host:port (port 0: any free port, see port()) and starts serving.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& host, int port,
                                                              const Registry& registry);
  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }
  // Closes the port and every connection and joins the thread; idempotent. Not concurrently
  // with itself or the destructor.
  void Stop();

 private:
  explicit MetricsServer(std::unique_ptr<Http1Server> server)
      : server_(std::move(server)), port_(server_->port()) {}

  std::unique_ptr<Http1Server> server_;  // null once stopped
  const int port_;
};

// The whole HTTP/1.1 response to `request` (the server's handler; pure apart from Render).
Http1Answer AnswerMetricsRequest(const Registry& registry, const Http1Request& request);

}  // namespace rinha::metrics
