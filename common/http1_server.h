// The event-loop half of an HTTP/1.1 server, knowing no service: one thread (level-triggered
// epoll) owns the listening socket and every keep-alive connection, so idle connections cost no
// CPU; each complete request goes to a handler, which answers at once or later from any thread.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http1_request.h"

namespace rinha {

struct Http1ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port (see Http1Server::port())
  int listen_backlog = 4096;
  // A connection with no request being handled is closed after this long without traffic.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(130);
  Http1Limits limits;
};

// A whole response (FormatHttp1Response) and whether the connection closes after it.
struct Http1Answer {
  std::string response;
  bool close = false;
  // The last two serve fault injection (the processor emulator's fault modes); normal answers
  // leave both false.
  // `response` is only a part: it is written at once and the request stays with the handler,
  // which sends the rest in later Answer() calls with the same id (the last one not partial).
  bool partial = false;
  // Once `response` is written, the connection is aborted with a reset (SO_LINGER 0), not closed.
  bool reset = false;
};

// Requests of one connection are handled one at a time, in order (pipelined ones wait in its
// buffer). Malformed or oversized requests are answered by the server (400/413/431/501) and the
// connection closed.
class Http1Server {
 public:
  using ConnectionId = uint64_t;
  // Runs on the loop thread: returns the answer, or nullopt when server.Answer() will be called
  // later (from any thread) with this id. Must not block.
  using Handler =
      std::function<std::optional<Http1Answer>(Http1Server& server, ConnectionId, Http1Request)>;

  // Binds and starts the loop thread.
  static absl::StatusOr<std::unique_ptr<Http1Server>> Start(const Http1ServerOptions& options,
                                                            Handler handler);
  ~Http1Server();
  Http1Server(const Http1Server&) = delete;
  Http1Server& operator=(const Http1Server&) = delete;

  // Thread-safe. The answer to the request handed out with `id`; dropped when the client has
  // gone (or the server stopped) meanwhile.
  void Answer(ConnectionId id, Http1Answer answer);
  // Thread-safe. Once the answers given so far are written: closes the listening socket (new
  // connects are refused) and every connection, then listens again on the same address after
  // `duration` (retrying every 100 ms while the address is taken). A second call while refusing
  // restarts the wait. For the emulator's "refuse" fault.
  void Refuse(std::chrono::milliseconds duration);
  // Closes every connection and joins the loop; idempotent. Answer() stays safe to call.
  void Stop();

  int port() const { return port_; }
  // Open client connections, as last counted by the loop.
  int connections() const { return connection_count_.load(); }
  // False while refusing (see Refuse()), as last set by the loop.
  bool listening() const { return listening_.load(); }

 private:
  struct Connection {
    int fd = -1;
    std::string in;
    std::string out;
    bool busy = false;  // a request is with the handler
    bool close_after_write = false;
    bool draining = false;  // write side shut after a closing answer; input is dropped
    bool reset_after_write = false;
    bool sent_continue = false;  // "100 Continue" already sent for the request being read
    uint32_t events = 0;         // epoll mask currently registered
    std::chrono::steady_clock::time_point deadline;
  };
  struct Done {
    ConnectionId id;
    Http1Answer answer;
  };

  Http1Server(const Http1ServerOptions& options, Handler handler);
  absl::Status Listen(const Http1ServerOptions& options);
  // Opens listen_fd_ on address_; false (errno set) when the address is taken.
  bool OpenListener();
  void StopListening(std::chrono::milliseconds duration);
  void Loop();
  void Accept();
  void OnReadable(ConnectionId id, Connection& c);
  // Hands buffered requests to the handler while answers come at once; then writes.
  void Advance(ConnectionId id, Connection& c);
  void Deliver(Connection& c, const Http1Answer& answer);
  // Writes what it can; false when the connection was closed.
  bool Flush(ConnectionId id, Connection& c);
  void TakeAnswers();
  void CloseConnection(ConnectionId id);
  void Touch(Connection& c, std::chrono::steady_clock::duration timeout);
  void SetEvents(ConnectionId id, Connection& c, uint32_t events);
  int SweepTimeouts();  // closes expired connections; returns the epoll_wait timeout in ms

  const Http1Limits limits_;
  const std::chrono::steady_clock::duration idle_timeout_;
  const Handler handler_;
  int listen_fd_ = -1;          // -1 while refusing
  sockaddr_storage address_{};  // where listen_fd_ is bound (the resolved port, never 0)
  socklen_t address_length_ = 0;
  int listen_backlog_ = 0;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::thread loop_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connection_count_{0};
  std::atomic<bool> listening_{true};

  std::mutex done_mu_;
  std::vector<Done> done_;  // guarded by done_mu_: filled by Answer(), taken by the loop
  // Guarded by done_mu_: set by Refuse(), taken by the loop after the answers given before it.
  std::optional<std::chrono::milliseconds> refuse_for_;

  // Loop thread only.
  std::unordered_map<ConnectionId, Connection> connections_;
  ConnectionId next_id_ = 2;
  bool listener_paused_ = false;  // out of file descriptors: stop accepting until one closes
  std::chrono::steady_clock::time_point relisten_at_;  // while refusing
  std::chrono::steady_clock::time_point next_sweep_ = std::chrono::steady_clock::time_point::max();
};

}  // namespace rinha
