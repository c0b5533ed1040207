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
// Host names are looked up through an injected Resolver, never on the loop: while a name has no
// address yet a request fails at once as kConnectFailed (not sent). A name is looked up again
// after a failed connect and when its address is older than ResolveConfig::ttl_ms (the old one
// serves until the new one arrives); IP literals are used as they are. Lookup results reach the
// loop through a mutex-guarded mailbox and Wake().
//
// Time (deadlines, address age) is the injected clock's monotonic reading.
//
// Threading: everything but Wake() runs on one thread (the router's event loop). The resolver's
// callbacks only post to the mailbox, from any thread.
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
#include "common/clock.h"
#include "router/resolver.h"
#include "router/router_config.h"
#include "router/router_core.h"

namespace rinha::router {

struct HttpConn;       // one connection (http_transport.cc)
struct LookupMailbox;  // lookup results on their way to the loop (http_transport.cc)

class HttpTransport final : public Transport {
 public:
  using DoneCallback = std::function<void(uint64_t token, const HttpOutcome& outcome)>;

  // `resolver` and `clock` must outlive the transport. Names are first looked up here.
  static absl::StatusOr<std::unique_ptr<HttpTransport>> Create(
      const std::string& default_url, const std::string& fallback_url, const Timeouts& timeouts,
      const ResolveConfig& resolve, Resolver& resolver, const Clock& clock);
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
    bool numeric = false;   // an IP literal: never looked up
    bool has_address = false;
    sockaddr_in addr{};
    int64_t address_ms = 0;         // when addr arrived
    bool looking_up = false;        // a lookup is in progress
    int64_t lookup_started_ms = 0;  // meaningful once one started
    bool ever_looked_up = false;
    bool stale = false;           // a connect failed since addr arrived: look up again
    bool lookup_failing = false;  // the last lookup failed (logged once per streak)
    std::vector<HttpConn*> idle;
  };
  struct Deadline {
    int64_t at_ms;
    uint64_t request_id;
    bool connect_only;  // fires only while still connecting
    bool operator>(const Deadline& o) const { return at_ms > o.at_ms; }
  };

  HttpTransport(const Timeouts& timeouts, const ResolveConfig& resolve, Resolver& resolver,
                const Clock& clock);
  void Start(uint64_t token, Target target, std::string request, int64_t timeout_ms);
  HttpConn* TakeIdle(Host& host);
  // Starts a lookup of hosts_[index] when one is due (no address, stale, older than the TTL) and
  // allowed (none in progress, min_interval_ms since the last).
  void MaybeLookUp(int index, int64_t now_ms);
  // Takes the results the resolver posted into hosts_.
  void TakeLookups(int64_t now_ms);
  // Ends the request on `conn` as not sent, and has its host looked up again.
  void FailConnect(HttpConn* conn, int64_t now_ms);
  void Watch(HttpConn* conn, uint32_t events);
  void OnEvent(HttpConn* conn, uint32_t events);
  void TryWrite(HttpConn* conn);
  void TryRead(HttpConn* conn);
  // Ends the request on `conn`; keeps the connection when `reuse`.
  void Finish(HttpConn* conn, HttpOutcome outcome, bool reuse);
  void Close(HttpConn* conn);
  void ExpireDeadlines(int64_t now_ms);

  const Timeouts timeouts_;
  const ResolveConfig resolve_;
  Resolver& resolver_;
  const Clock& clock_;
  std::shared_ptr<LookupMailbox> mailbox_;  // shared with the resolver's callbacks
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
