// Outbound HTTP/1.1 to the two processors: a small epoll client of our own, one thread, keep-alive
// connection pools (one connection per request in flight; HTTP/1.1 has no multiplexing), answers
// framed by Content-Length, chunked encoding or connection close. Memory is a few hundred bytes
// per connection, and each wakeup costs work proportional to the sockets that are ready.
//
// (libcurl's multi interface was tried first: with a few hundred connections opened in a burst it
// stalled its caller for 10-20 s inside curl_multi_socket_action, which here means payments left
// unanswered and timed out.)
//
// Timeouts come from router_config.h's Timeouts. Outcomes, for the settlement state machine:
//   complete answer                          -> kResponse
//   connect refused / timed out, never sent  -> kConnectFailed
//   request timeout after sending            -> kTimeout
//   connection closed / reset after sending  -> kConnectionLost
//
// Threading: everything but Wake() runs on one thread (the router's event loop).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "router/router_config.h"
#include "router/router_core.h"

namespace rinha::router {

struct HttpConn;  // one connection (http_transport.cc)

class HttpTransport final : public Transport {
 public:
  using DoneCallback = std::function<void(uint64_t token, const HttpOutcome& outcome)>;

  static absl::StatusOr<std::unique_ptr<HttpTransport>> Create(const std::string& default_url,
                                                               const std::string& fallback_url,
                                                               const Timeouts& timeouts);
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  void PostPayment(uint64_t token, Target target, std::string body) override;
  void GetPayment(uint64_t token, Target target, std::string_view correlation_id) override;
  void GetHealth(uint64_t token, Target target) override;

  // Waits up to timeout_ms for socket events, a request deadline or Wake(); delivers every
  // finished request to `done` (on this thread) before returning.
  void Poll(int64_t timeout_ms, const DoneCallback& done);
  // Interrupts a Poll in progress (or the next one). Any thread.
  void Wake();

  int in_flight() const { return static_cast<int>(active_.size()); }
  int open_connections() const { return open_connections_; }

 private:
  struct Host {
    std::string name;
    int port = 0;
    std::string authority;  // Host header value
    bool resolved = false;
    int64_t last_resolve_ms = -1000000;
    sockaddr_in addr{};
    std::vector<HttpConn*> idle;
  };
  struct Deadline {
    int64_t at_ms;
    uint64_t request_id;
    bool connect_only;  // fires only while still connecting
    bool operator>(const Deadline& o) const { return at_ms > o.at_ms; }
  };

  HttpTransport(const Timeouts& timeouts);
  void Start(uint64_t token, Target target, std::string request, int64_t timeout_ms);
  HttpConn* TakeIdle(Host& host);
  bool Resolve(Host& host, int64_t now_ms);
  void Watch(HttpConn* conn, uint32_t events);
  void OnEvent(HttpConn* conn, uint32_t events);
  void TryWrite(HttpConn* conn);
  void TryRead(HttpConn* conn);
  // Ends the request on `conn`; keeps the connection when `reuse`.
  void Finish(HttpConn* conn, HttpOutcome outcome, bool reuse);
  void Close(HttpConn* conn);
  void ExpireDeadlines(int64_t now_ms);

  const Timeouts timeouts_;
  Host hosts_[kTargets];
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  uint64_t next_request_id_ = 1;
  absl::flat_hash_map<uint64_t, HttpConn*> active_;  // request id -> its connection
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<Deadline>> deadlines_;
  std::vector<std::pair<uint64_t, HttpOutcome>> finished_;
  std::vector<std::unique_ptr<HttpConn>> graveyard_;  // closed during this Poll, freed after
  int open_connections_ = 0;
};

}  // namespace rinha::router
