#include "router/http_transport.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/http1_response.h"
#include "common/http_url.h"
#include "common/log.h"

namespace rinha::router {

struct HttpConn {
  enum class State { kConnecting, kWriting, kReading, kIdle };
  int fd = -1;
  int host = 0;
  State state = State::kConnecting;
  bool ever_connected = false;
  uint32_t watched = 0;  // epoll events registered
  uint64_t request_id = 0;
  uint64_t token = 0;
  std::string out;
  size_t out_offset = 0;
  std::string in;
};

// Lookup results on their way from the resolver's threads to the loop. The callbacks hold it, not
// the transport, so a result that arrives after the transport is gone lands nowhere.
// std::mutex rather than absl::Mutex: Debian's Abseil is not built with TSan.
struct LookupMailbox {
  std::mutex mu;
  int wake_fd = -1;  // guarded by mu; -1 once the transport is gone
  std::vector<std::pair<int, absl::StatusOr<in_addr>>> results;  // guarded by mu

  // Any thread.
  void Post(int host, absl::StatusOr<in_addr> address) {
    std::lock_guard<std::mutex> lock(mu);
    if (wake_fd < 0) return;
    results.emplace_back(host, std::move(address));
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof(one));
  }
};

absl::StatusOr<std::unique_ptr<HttpTransport>> HttpTransport::Create(
    const std::string& default_url, const std::string& fallback_url, const Timeouts& timeouts,
    const ResolveConfig& resolve, Resolver& resolver, const Clock& clock) {
  std::unique_ptr<HttpTransport> t(new HttpTransport(timeouts, resolve, resolver, clock));
  const std::string* urls[kTargets] = {&default_url, &fallback_url};
  for (int i = 0; i < kTargets; ++i) {
    Host& h = t->hosts_[i];
    if (absl::Status s = ParseHttpUrl(*urls[i], &h.name, &h.port); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(*urls[i], ": ", std::string(s.message())));
    }
    h.authority = absl::StrCat(h.name, ":", h.port);
    h.addr.sin_family = AF_INET;
    h.addr.sin_port = htons(static_cast<uint16_t>(h.port));
    if (inet_pton(AF_INET, h.name.c_str(), &h.addr.sin_addr) == 1) {
      h.numeric = true;
      h.has_address = true;
    }
  }
  t->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  t->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (t->epoll_fd_ < 0 || t->wake_fd_ < 0) return absl::InternalError("epoll/eventfd failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake fd
  epoll_ctl(t->epoll_fd_, EPOLL_CTL_ADD, t->wake_fd_, &ev);
  {
    std::lock_guard<std::mutex> lock(t->mailbox_->mu);
    t->mailbox_->wake_fd = t->wake_fd_;
  }
  for (int i = 0; i < kTargets; ++i) t->MaybeLookUp(i, clock.MonotonicMillis());
  return t;
}

HttpTransport::HttpTransport(const Timeouts& timeouts, const ResolveConfig& resolve,
                             Resolver& resolver, const Clock& clock)
    : timeouts_(timeouts),
      resolve_(resolve),
      resolver_(resolver),
      clock_(clock),
      mailbox_(std::make_shared<LookupMailbox>()) {}

HttpTransport::~HttpTransport() {
  {
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    mailbox_->wake_fd = -1;  // lookups still in progress post nowhere from now on
  }
  for (auto& [id, conn] : active_) {
    if (conn->fd >= 0) ::close(conn->fd);
    delete conn;
  }
  for (Host& h : hosts_) {
    for (HttpConn* conn : h.idle) {
      ::close(conn->fd);
      delete conn;
    }
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void HttpTransport::MaybeLookUp(int index, int64_t now_ms) {
  Host& host = hosts_[index];
  if (host.numeric || host.looking_up) return;
  const bool due = !host.has_address || host.stale || now_ms - host.address_ms >= resolve_.ttl_ms;
  if (!due) return;
  if (host.ever_looked_up && now_ms - host.lookup_started_ms < resolve_.min_interval_ms) return;
  host.looking_up = true;
  host.ever_looked_up = true;
  host.lookup_started_ms = now_ms;
  resolver_.Resolve(host.name, [mailbox = mailbox_, index](absl::StatusOr<in_addr> address) {
    mailbox->Post(index, std::move(address));
  });
}

void HttpTransport::TakeLookups(int64_t now_ms) {
  std::vector<std::pair<int, absl::StatusOr<in_addr>>> results;
  {
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    results.swap(mailbox_->results);
  }
  for (auto& [index, address] : results) {
    Host& host = hosts_[index];
    host.looking_up = false;
    if (!address.ok()) {
      // The old address (if any) keeps serving; the next request past min_interval_ms retries.
      if (!host.lookup_failing) {
        RINHA_LOG_WARNING("router: %s (will retry%s)", address.status().message(),
                          host.has_address ? ", keeping the last address" : "");
      }
      host.lookup_failing = true;
      continue;
    }
    if (!host.has_address || host.addr.sin_addr.s_addr != address->s_addr || host.lookup_failing) {
      char text[INET_ADDRSTRLEN] = "";
      inet_ntop(AF_INET, &*address, text, sizeof(text));
      RINHA_LOG_INFO("router: %s is at %s", host.name, text);
    }
    host.addr.sin_addr = *address;
    host.has_address = true;
    host.address_ms = now_ms;
    host.stale = false;
    host.lookup_failing = false;
  }
}

void HttpTransport::FailConnect(HttpConn* conn, int64_t now_ms) {
  const int index = conn->host;
  Finish(conn, HttpOutcome{HttpOutcome::Kind::kConnectFailed, 0, ""}, false);
  // The processor may have come back elsewhere (a container restarted with a new address).
  hosts_[index].stale = true;
  MaybeLookUp(index, now_ms);
}

HttpConn* HttpTransport::TakeIdle(Host& host) {
  while (!host.idle.empty()) {
    HttpConn* conn = host.idle.back();  // most recently used: least likely closed by the peer
    host.idle.pop_back();
    char byte;
    const ssize_t n = ::recv(conn->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return conn;
    // Closed by the peer (0), reset (<0) or unexpected bytes (>0): not reusable.
    Close(conn);
  }
  return nullptr;
}

void HttpTransport::Watch(HttpConn* conn, uint32_t events) {
  if (conn->watched == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = conn;
  epoll_ctl(epoll_fd_, conn->watched == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, conn->fd, &ev);
  conn->watched = events;
}

void HttpTransport::Start(uint64_t token, Target target, std::string request, int64_t timeout_ms) {
  const int64_t now = clock_.MonotonicMillis();
  const int index = static_cast<int>(target);
  Host& host = hosts_[index];
  const uint64_t request_id = next_request_id_++;
  MaybeLookUp(index, now);
  HttpConn* conn = TakeIdle(host);
  if (conn == nullptr) {
    if (!host.has_address) {
      finished_.emplace_back(token, HttpOutcome{HttpOutcome::Kind::kConnectFailed, 0, ""});
      return;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      RINHA_LOG_ERROR("router: socket(): %s", std::strerror(errno));
      finished_.emplace_back(token, HttpOutcome{HttpOutcome::Kind::kConnectFailed, 0, ""});
      return;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    conn = new HttpConn();
    conn->fd = fd;
    conn->host = index;
    ++open_connections_;
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&host.addr), sizeof(host.addr));
    if (rc != 0 && errno != EINPROGRESS) {
      Close(conn);
      finished_.emplace_back(token, HttpOutcome{HttpOutcome::Kind::kConnectFailed, 0, ""});
      host.stale = true;
      MaybeLookUp(index, now);
      return;
    }
    conn->state = rc == 0 ? HttpConn::State::kWriting : HttpConn::State::kConnecting;
    conn->ever_connected = rc == 0;
    if (rc != 0) deadlines_.push(Deadline{now + timeouts_.connect_ms, request_id, true});
  } else {
    conn->state = HttpConn::State::kWriting;
  }
  conn->request_id = request_id;
  conn->token = token;
  conn->out = std::move(request);
  conn->out_offset = 0;
  conn->in.clear();
  active_[request_id] = conn;
  deadlines_.push(Deadline{now + timeout_ms, request_id, false});
  if (conn->state == HttpConn::State::kConnecting) {
    Watch(conn, EPOLLOUT);
  } else {
    TryWrite(conn);
  }
}

void HttpTransport::PostPayment(uint64_t token, Target target, std::string body) {
  const Host& h = hosts_[static_cast<int>(target)];
  std::string request = absl::StrCat(
      "POST /payments HTTP/1.1\r\nHost: ", h.authority,
      "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
  Start(token, target, std::move(request), timeouts_.payment_ms);
}

void HttpTransport::GetPayment(uint64_t token, Target target, std::string_view correlation_id) {
  const Host& h = hosts_[static_cast<int>(target)];
  Start(token, target,
        absl::StrCat("GET /payments/", std::string(correlation_id),
                     " HTTP/1.1\r\nHost: ", h.authority, "\r\n\r\n"),
        timeouts_.lookup_ms);
}

void HttpTransport::GetHealth(uint64_t token, Target target) {
  const Host& h = hosts_[static_cast<int>(target)];
  Start(token, target,
        absl::StrCat("GET /payments/service-health HTTP/1.1\r\nHost: ", h.authority, "\r\n\r\n"),
        timeouts_.health_ms);
}

void HttpTransport::TryWrite(HttpConn* conn) {
  while (conn->out_offset < conn->out.size()) {
    const ssize_t n = ::send(conn->fd, conn->out.data() + conn->out_offset,
                             conn->out.size() - conn->out_offset, MSG_NOSIGNAL);
    if (n > 0) {
      conn->out_offset += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      Watch(conn, EPOLLOUT);
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    // A reused connection the peer just closed, or a reset. With no byte of this request
    // accepted by the kernel the processor cannot have it; otherwise it may.
    Finish(conn,
           HttpOutcome{conn->out_offset == 0 ? HttpOutcome::Kind::kConnectFailed
                                             : HttpOutcome::Kind::kConnectionLost,
                       0, ""},
           false);
    return;
  }
  conn->state = HttpConn::State::kReading;
  conn->out.clear();
  Watch(conn, EPOLLIN | EPOLLRDHUP);
}

void HttpTransport::TryRead(HttpConn* conn) {
  char buffer[4096];
  bool eof = false;
  for (;;) {
    const ssize_t n = ::recv(conn->fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      conn->in.append(buffer, static_cast<size_t>(n));
      if (conn->in.size() > kMaxHttp1ResponseBytes) break;
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    eof = true;  // reset: whatever arrived is all there is
    break;
  }
  Http1Response parsed;
  bool error = false;
  bool complete = ParseHttp1Response(conn->in, eof, &parsed, &error);
  // An interim answer (1xx: 100 Continue, 103 Early Hints) is not the final one: read as one, a
  // 100 would look like "rejected, nothing stored" and free a payment the processor may hold.
  while (complete && parsed.status >= 100 && parsed.status < 200) {
    conn->in.erase(0, conn->in.find("\r\n\r\n") + 4);
    parsed = Http1Response();
    complete = ParseHttp1Response(conn->in, eof, &parsed, &error);
  }
  if (complete) {
    Finish(conn, HttpOutcome{HttpOutcome::Kind::kResponse, parsed.status, std::move(parsed.body)},
           parsed.keep_alive && !eof && conn->in.size() <= kMaxHttp1ResponseBytes);
    return;
  }
  // A 2xx status line is the processor's decision, the payment held: a head dripped slowly, or an
  // answer cut off after it, need not wait for the deadline and a lookup. Anything else waits for
  // the whole answer (a 422 or 500 is read from it), and the connection is not reused.
  if (const int status = Http1StatusLineStatus(conn->in); status >= 200 && status < 300) {
    Finish(conn, HttpOutcome{HttpOutcome::Kind::kResponse, status, ""}, false);
    return;
  }
  if (error || eof) {
    Finish(conn, HttpOutcome{HttpOutcome::Kind::kConnectionLost, 0, ""}, false);
  }
}

void HttpTransport::OnEvent(HttpConn* conn, uint32_t events) {
  switch (conn->state) {
    case HttpConn::State::kIdle: {
      // The peer closed (or sent something unasked): drop it from the pool.
      Host& host = hosts_[conn->host];
      host.idle.erase(std::remove(host.idle.begin(), host.idle.end(), conn), host.idle.end());
      Close(conn);
      return;
    }
    case HttpConn::State::kConnecting: {
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        FailConnect(conn, clock_.MonotonicMillis());
        return;
      }
      conn->ever_connected = true;
      conn->state = HttpConn::State::kWriting;
      TryWrite(conn);
      return;
    }
    case HttpConn::State::kWriting:
      TryWrite(conn);
      return;
    case HttpConn::State::kReading:
      TryRead(conn);
      return;
  }
}

void HttpTransport::Finish(HttpConn* conn, HttpOutcome outcome, bool reuse) {
  active_.erase(conn->request_id);
  finished_.emplace_back(conn->token, std::move(outcome));
  conn->request_id = 0;
  conn->in.clear();
  conn->out.clear();
  if (reuse) {
    conn->state = HttpConn::State::kIdle;
    Watch(conn, EPOLLIN | EPOLLRDHUP);
    hosts_[conn->host].idle.push_back(conn);
  } else {
    Close(conn);
  }
}

void HttpTransport::Close(HttpConn* conn) {
  if (conn->fd >= 0) {
    ::close(conn->fd);  // also leaves the epoll set
    conn->fd = -1;
    --open_connections_;
  }
  // Events for it may still be pending in this Poll's batch: free it afterwards.
  graveyard_.emplace_back(conn);
}

void HttpTransport::ExpireDeadlines(int64_t now_ms) {
  while (!deadlines_.empty() && deadlines_.top().at_ms <= now_ms) {
    const Deadline d = deadlines_.top();
    deadlines_.pop();
    auto it = active_.find(d.request_id);
    if (it == active_.end()) continue;
    HttpConn* conn = it->second;
    if (conn->state == HttpConn::State::kConnecting) {
      FailConnect(conn, now_ms);  // never sent
    } else if (!d.connect_only) {
      Finish(conn, HttpOutcome{HttpOutcome::Kind::kTimeout, 0, ""}, false);
    }
  }
}

void HttpTransport::Wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void HttpTransport::Poll(int64_t timeout_ms, const DoneCallback& done) {
  int64_t wait_ms = std::max<int64_t>(0, timeout_ms);
  if (!finished_.empty()) wait_ms = 0;
  if (!deadlines_.empty()) {
    wait_ms =
        std::min(wait_ms, std::max<int64_t>(0, deadlines_.top().at_ms - clock_.MonotonicMillis()));
  }
  epoll_event events[256];
  const int n = epoll_wait(epoll_fd_, events, 256, static_cast<int>(wait_ms));
  for (int i = 0; i < n; ++i) {
    auto* conn = static_cast<HttpConn*>(events[i].data.ptr);
    if (conn == nullptr) {
      uint64_t value;
      [[maybe_unused]] ssize_t r = ::read(wake_fd_, &value, sizeof(value));
      continue;
    }
    if (conn->fd < 0) continue;  // closed earlier in this batch
    OnEvent(conn, events[i].events);
  }
  const int64_t now = clock_.MonotonicMillis();
  TakeLookups(now);
  ExpireDeadlines(now);
  graveyard_.clear();
  // `done` may start requests, which may finish at once (e.g. no address): loop until empty.
  while (!finished_.empty()) {
    std::vector<std::pair<uint64_t, HttpOutcome>> batch;
    batch.swap(finished_);
    for (const auto& [token, outcome] : batch) done(token, outcome);
  }
  graveyard_.clear();
}

}  // namespace rinha::router
