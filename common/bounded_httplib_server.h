// A cpp-httplib server (a thread per connection, the library's model) that stays responsive when
// clients misbehave: a fixed number of connections is served at once and one more is answered
// 503 at once instead of waiting for a thread; every request must arrive whole within a deadline
// and a byte budget; idle connections wait in a blocking poll (no polling loop) and are closed on
// stop.
//
// Why: cpp-httplib 0.11 (Debian's) queues a connection beyond its thread pool until a thread
// frees, reads a request with a timeout per read (a client dripping a byte a second never hits
// it) and without a bound on the head's size, so 32 half-open connections starve every other
// client. It lets a subclass replace process_and_close_socket(), the connection loop (its TLS
// server does), and keeps parsing, routing and handlers in process_request(); this class replaces
// the loop and the task queue and nothing else.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace rinha {

struct BoundedHttplibLimits {
  // Connections served at once (one thread each). A connection beyond them is answered
  // `refusal_status` and closed at once.
  int threads = 32;
  // A request's head and body must arrive within this from its first byte (on a new connection:
  // from the accept); otherwise the connection is closed (400 when the head was incomplete).
  std::chrono::milliseconds request_timeout{2000};
  // An idle keep-alive connection (between requests) is closed after this.
  std::chrono::milliseconds keep_alive_timeout{60'000};
  // A response that cannot be written within this (the client does not read) closes the
  // connection.
  std::chrono::milliseconds write_timeout{5000};
  // Head and body of one request, as read from the socket. Beyond it the request fails (400, or
  // 413 when the body was too long) and the connection is closed. Must exceed the library's
  // payload limit (set_payload_max_length) by a head's worth, so that a normal 413 still
  // answers.
  size_t max_request_bytes = 16 * 1024;
  // The answer to a connection beyond `threads`; the request is not read.
  int refusal_status = 503;
  std::string refusal_content_type = "application/json";
  std::string refusal_body = R"({"error":"busy"})";
  // Refused connections, and those cut off by the deadline or the budget, are closed gracefully
  // (answer, FIN, then their input is read and dropped for at most `linger`, so that the client
  // reads the answer rather than a reset); beyond this many at once, they are closed at once.
  int max_lingering = 256;
  std::chrono::milliseconds linger{1000};
};

struct BoundedHttplibStats {
  int busy = 0;                  // connections being served now
  int64_t served = 0;            // connections given a thread
  int64_t refused = 0;           // connections answered refusal_status at once
  int64_t request_timeouts = 0;  // requests that did not arrive within request_timeout
  int64_t oversized = 0;         // requests over max_request_bytes
  int64_t idle_closed = 0;       // keep-alive connections closed after keep_alive_timeout
};

class BoundedHttplibServer : public httplib::Server {
 public:
  explicit BoundedHttplibServer(const BoundedHttplibLimits& limits);
  ~BoundedHttplibServer() override;
  BoundedHttplibServer(const BoundedHttplibServer&) = delete;
  BoundedHttplibServer& operator=(const BoundedHttplibServer&) = delete;

  // Thread-safe.
  BoundedHttplibStats stats() const;

 private:
  class Pool;
  class Closer;
  class ConnectionStream;
  friend class Pool;

  // Called by the library's accept loop, on a pool thread (or, when the pool is full, on the
  // accept thread, which then refuses the connection: see Pool::enqueue).
  bool process_and_close_socket(socket_t sock) override;
  // True when the connection must be closed gracefully (input may be left unread).
  bool Serve(int sock);
  // The accept loop has ended (stop()): wakes every connection waiting between requests.
  void BeginStop();

  const BoundedHttplibLimits limits_;
  const int stop_fd_;  // eventfd, readable once stopping
  std::unique_ptr<Closer> closer_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> busy_{0};
  std::atomic<int64_t> served_{0};
  std::atomic<int64_t> refused_{0};
  std::atomic<int64_t> request_timeouts_{0};
  std::atomic<int64_t> oversized_{0};
  std::atomic<int64_t> idle_closed_{0};
};

}  // namespace rinha
