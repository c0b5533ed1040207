// HTTP front of the payment-processor emulator: maps the official processor's routes onto a
// ProcessorService.
//
// common/http1_server.h's event loop (epoll) owns the listening socket and every keep-alive
// connection, so an idle connection costs no CPU, like the real processors' Kestrel. A complete
// request goes to a WorkerPool thread, which calls the blocking ProcessorService method (limiter,
// delay, health window) and hands the answer back to the loop through an eventfd-woken queue.
// Workers are started on demand up to ServerOptions::threads (production: 1600 = 800 in flight +
// 500 queued + health/admin/GET room); a request arriving when that many are busy or queued is
// answered at once with 429 and Retry-After: 5, as the limiter's own overflow is. One request per
// connection is handled at a time; pipelined requests wait in the connection's buffer.
//
// Fault modes (processor/fault.h) that break the transport are carried out here from the reply's
// Delivery: a reset inside the head, a truncated chunked body (never its last chunk), a head
// dripped byte by byte (the worker pauses on the service's clock between bytes), a refusal of
// every connection for a while.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/http1_request.h"
#include "common/http1_server.h"
#include "processor/processor_service.h"
#include "processor/worker_pool.h"

namespace rinha::processor {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port (see ProcessorServer::port())
  // Cap on requests being handled or waiting for a worker thread (threads started on demand).
  int threads = 1600;
  int listen_backlog = 4096;
  // A connection with no request being handled is closed after this long without traffic.
  // Idle connections cost nothing here, so this follows Kestrel's 130 s.
  int keep_alive_timeout_s = 130;
  Http1Limits limits;
  ProcessorOptions processor;
};

// The answer for one parsed request; blocks as the ProcessorService method does. Routes as
// ASP.NET Core's endpoint routing does: literal segments match in any case, a trailing '/' is
// ignored, a known path with another method is 405 with `Allow`, anything else 404. Query names
// match in any case; a query value given twice reads as both joined by ',' (StringValues).
HttpReply Route(ProcessorService& service, const Http1Request& request);

// The bytes Kestrel sends for `reply` on a keep-alive connection (`close`: the request asked for
// Connection: close, which the answer repeats): a body goes chunked (Transfer-Encoding: chunked,
// one chunk, its size in lower-case hex, then the last chunk) after its Content-Type; no body is
// Content-Length: 0, except for 204, which has neither.
std::string FormatReply(const HttpReply& reply, bool close);

// Start() returns once the socket listens. Stop() (or the destructor) may be called from any one
// thread; it interrupts waiting requests, closes every connection and joins every thread.
class ProcessorServer {
 public:
  static absl::StatusOr<std::unique_ptr<ProcessorServer>> Start(Clock& clock,
                                                                const ServerOptions& options);
  ~ProcessorServer();
  ProcessorServer(const ProcessorServer&) = delete;
  ProcessorServer& operator=(const ProcessorServer&) = delete;

  int port() const;
  ProcessorService& service() { return service_; }
  // Worker threads started so far (they park when idle); for tests and logs.
  int worker_threads() const;
  // Open client connections, as last counted by the event loop.
  int connections() const;
  // False while the "refuse" fault keeps the port closed.
  bool listening() const;

  void Stop();

 private:
  ProcessorServer(Clock& clock, const ServerOptions& options);
  // On the loop thread of `http`: hands the request to a worker, or answers 429.
  std::optional<Http1Answer> Dispatch(Http1Server& http, Http1Server::ConnectionId id,
                                      Http1Request request);
  // On a worker thread: writes a reply whose delivery is a fault (reset, truncated, drip, refuse).
  void AnswerFaultily(Http1Server& http, Http1Server::ConnectionId id, const HttpReply& reply,
                      bool close);

  ProcessorService service_;
  WorkerPool pool_;  // its tasks answer through http_, so Stop() stops http_'s loop first
  // Written once by Start(); the loop and the workers get the server through the handler.
  std::unique_ptr<Http1Server> http_;
};

}  // namespace rinha::processor
