// HTTP front of the payment-processor emulator: maps the official processor's routes onto a
// ProcessorService, served by cpp-httplib.
//
// cpp-httplib serves a connection per pool thread for the whole keep-alive connection, and a
// request waiting in the limiter or in the configured delay holds its thread. The pool therefore
// has to cover 800 in flight + 500 queued + room for health/admin/GET requests and for the 429s
// beyond that: ~1600 threads in production, a handful in tests.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "processor/processor_service.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace rinha::processor {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port (see ProcessorServer::port())
  int threads = 1600;
  int listen_backlog = 4096;
  // Each idle keep-alive connection costs CPU in cpp-httplib (it polls): keep this short.
  int keep_alive_timeout_s = 5;
  int read_timeout_s = 10;
  int write_timeout_s = 10;
  ProcessorOptions processor;
};

// Start() returns once the socket listens. Stop() (or the destructor) may be called from any one
// thread; it interrupts waiting requests and joins the server.
class ProcessorServer {
 public:
  static absl::StatusOr<std::unique_ptr<ProcessorServer>> Start(Clock& clock,
                                                                ServerOptions options);
  ~ProcessorServer();
  ProcessorServer(const ProcessorServer&) = delete;
  ProcessorServer& operator=(const ProcessorServer&) = delete;

  int port() const { return port_; }
  ProcessorService& service() { return service_; }

  void Stop();

 private:
  ProcessorServer(Clock& clock, const ServerOptions& options);
  void RegisterRoutes();

  ProcessorService service_;
  std::unique_ptr<httplib::Server> http_;
  std::thread serve_thread_;
  int port_ = 0;
};

}  // namespace rinha::processor
