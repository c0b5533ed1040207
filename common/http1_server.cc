#include "common/http1_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rinha {
namespace {

using Steady = std::chrono::steady_clock;

constexpr uint64_t kListenerId = 0;
constexpr uint64_t kWakeId = 1;
// After a closing answer the write side is shut and what the client still sends is read and
// dropped for this long, so the answer is not destroyed by a reset.
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr auto kRelistenRetry = std::chrono::milliseconds(100);

void Wake(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = write(fd, &one, sizeof(one));
}

}  // namespace

Http1Server::Http1Server(const Http1ServerOptions& options, Handler handler)
    : limits_(options.limits), idle_timeout_(options.idle_timeout), handler_(std::move(handler)) {}

absl::StatusOr<std::unique_ptr<Http1Server>> Http1Server::Start(const Http1ServerOptions& options,
                                                                Handler handler) {
  std::unique_ptr<Http1Server> server(new Http1Server(options, std::move(handler)));
  if (absl::Status listening = server->Listen(options); !listening.ok()) return listening;
  return server;
}

Http1Server::~Http1Server() {
  Stop();
  for (int fd : {listen_fd_, epoll_fd_, wake_fd_}) {
    if (fd >= 0) close(fd);
  }
}

absl::Status Http1Server::Listen(const Http1ServerOptions& options) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(options.port);
  if (getaddrinfo(options.host.empty() ? nullptr : options.host.c_str(), port.c_str(), &hints,
                  &addresses) != 0 ||
      addresses == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", options.host));
  }
  listen_backlog_ = options.listen_backlog;
  int error = 0;
  for (addrinfo* a = addresses; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    std::memcpy(&address_, a->ai_addr, a->ai_addrlen);
    address_length_ = a->ai_addrlen;
    if (!OpenListener()) error = errno;
  }
  freeaddrinfo(addresses);
  if (listen_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port, ": ", strerror(error)));
  }
  // The resolved port, so that listening again after Refuse() takes the same one.
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address_), &address_length_);
  port_ =
      ntohs(address_.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&address_)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&address_)->sin_port);

  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError("epoll/eventfd");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kListenerId;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &event);
  event.data.u64 = kWakeId;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  loop_thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

bool Http1Server::OpenListener() {
  const int fd = socket(address_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // SO_REUSEADDR only: without SO_REUSEPORT a second server on a busy port fails instead of
  // silently sharing it.
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address_), address_length_) != 0 ||
      listen(fd, listen_backlog_) != 0) {
    const int error = errno;
    close(fd);
    errno = error;
    return false;
  }
  listen_fd_ = fd;
  return true;
}

void Http1Server::Refuse(std::chrono::milliseconds duration) {
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    refuse_for_ = duration;
  }
  Wake(wake_fd_);
}

void Http1Server::StopListening(std::chrono::milliseconds duration) {
  if (listen_fd_ >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    close(listen_fd_);
    listen_fd_ = -1;
    listener_paused_ = false;
  }
  std::vector<ConnectionId> open;
  for (const auto& [id, c] : connections_) open.push_back(id);
  for (ConnectionId id : open) CloseConnection(id);
  // Only now: whoever sees listening() false also finds every connection it had closed.
  listening_.store(false);
  relisten_at_ = Steady::now() + duration;
  next_sweep_ = std::min(next_sweep_, relisten_at_);
}

void Http1Server::Answer(ConnectionId id, Http1Answer answer) {
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done_.push_back(Done{id, std::move(answer)});
  }
  Wake(wake_fd_);
}

void Http1Server::Stop() {
  if (stopping_.exchange(true)) return;
  if (loop_thread_.joinable()) {
    Wake(wake_fd_);
    loop_thread_.join();
  }
}

void Http1Server::Loop() {
  epoll_event events[256];
  while (!stopping_.load()) {
    const int timeout_ms = SweepTimeouts();
    const int ready = epoll_wait(epoll_fd_, events, 256, timeout_ms);
    if (ready < 0 && errno != EINTR) break;
    for (int e = 0; e < ready && !stopping_.load(); ++e) {
      const ConnectionId id = events[e].data.u64;
      if (id == kListenerId) {
        if (listen_fd_ >= 0) Accept();  // not closed earlier in this batch
        continue;
      }
      if (id == kWakeId) {
        uint64_t count;
        [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
        TakeAnswers();
        continue;
      }
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;  // closed earlier in this batch
      Connection& c = it->second;
      const uint32_t ev = events[e].events;
      if ((ev & EPOLLOUT) && !Flush(id, c)) continue;
      if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) OnReadable(id, c);
    }
  }
  for (auto& [id, c] : connections_) close(c.fd);
  connections_.clear();
  connection_count_.store(0);
}

void Http1Server::Accept() {
  while (true) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: the pending connection would wake us forever. Resume on a close.
        epoll_event event{};
        event.data.u64 = kListenerId;
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &event);
        listener_paused_ = true;
      }
      return;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const ConnectionId id = next_id_++;
    Connection& c = connections_[id];
    c.fd = fd;
    c.events = EPOLLIN | EPOLLRDHUP;
    epoll_event event{};
    event.events = c.events;
    event.data.u64 = id;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    Touch(c, idle_timeout_);
    connection_count_.store(static_cast<int>(connections_.size()));
  }
}

void Http1Server::OnReadable(ConnectionId id, Connection& c) {
  // One read per wake-up; level triggering brings us back while bytes remain.
  char buffer[64 * 1024];
  const ssize_t n = read(c.fd, buffer, sizeof(buffer));
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    // The client left (a half-close counts as leaving). A request being handled is not
    // cancelled; its answer finds no connection and is dropped.
    CloseConnection(id);
    return;
  }
  if (n < 0) return;
  if (c.draining || c.close_after_write) return;  // a closing answer is on its way: drop input
  c.in.append(buffer, static_cast<size_t>(n));
  if (c.busy) {
    // Pipelined requests wait; a client that keeps sending beyond one full request is cut off.
    if (c.in.size() > limits_.max_head_bytes + limits_.max_body_bytes) CloseConnection(id);
    return;
  }
  Touch(c, idle_timeout_);
  Advance(id, c);
}

void Http1Server::Advance(ConnectionId id, Connection& c) {
  while (!c.busy && !c.close_after_write && !c.in.empty()) {
    Http1Parse parse = ParseHttp1Request(c.in, limits_);
    if (parse.outcome == Http1Parse::Outcome::kIncomplete) {
      if (parse.expects_continue && !c.sent_continue) {
        c.out += "HTTP/1.1 100 Continue\r\n\r\n";
        c.sent_continue = true;
      }
      break;
    }
    if (parse.outcome == Http1Parse::Outcome::kError) {
      c.in.clear();
      Deliver(c, {FormatHttp1Response(parse.error_status, {}, "", /*close=*/true), true});
      break;
    }
    c.in.erase(0, parse.consumed);
    c.sent_continue = false;
    c.busy = true;
    std::optional<Http1Answer> answer = handler_(*this, id, std::move(parse.request));
    if (answer.has_value()) Deliver(c, *std::move(answer));
  }
  Flush(id, c);
}

void Http1Server::Deliver(Connection& c, const Http1Answer& answer) {
  c.busy = answer.partial;
  c.out += answer.response;
  if (answer.close || answer.reset) c.close_after_write = true;
  if (answer.reset) c.reset_after_write = true;
  Touch(c, idle_timeout_);
}

bool Http1Server::Flush(ConnectionId id, Connection& c) {
  size_t sent = 0;
  while (sent < c.out.size()) {
    const ssize_t n = send(c.fd, c.out.data() + sent, c.out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    CloseConnection(id);
    return false;
  }
  c.out.erase(0, sent);
  if (sent > 0 && !c.busy) Touch(c, idle_timeout_);
  if (c.out.empty() && c.close_after_write && !c.draining) {
    if (c.reset_after_write) {
      const linger abort{1, 0};  // close() sends a reset
      setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
      CloseConnection(id);
      return false;
    }
    // Shut the write side and drop what the client still sends for a moment, so that the answer
    // is read before the socket closes (closing with unread input would send a reset).
    shutdown(c.fd, SHUT_WR);
    c.draining = true;
    c.in.clear();
    Touch(c, kDrainTime);
  }
  SetEvents(id, c, EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : uint32_t{EPOLLOUT}));
  return true;
}

void Http1Server::TakeAnswers() {
  std::vector<Done> done;
  std::optional<std::chrono::milliseconds> refuse_for;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done.swap(done_);
    refuse_for.swap(refuse_for_);
  }
  for (Done& d : done) {
    auto it = connections_.find(d.id);
    if (it == connections_.end()) continue;  // the client left while its request was handled
    Deliver(it->second, d.answer);
    Advance(d.id, it->second);  // pipelined requests, then the write
  }
  if (refuse_for.has_value()) StopListening(*refuse_for);
}

void Http1Server::CloseConnection(ConnectionId id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  close(it->second.fd);
  connections_.erase(it);
  connection_count_.store(static_cast<int>(connections_.size()));
  if (listener_paused_ && listen_fd_ >= 0) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = kListenerId;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &event);
    listener_paused_ = false;
  }
}

void Http1Server::Touch(Connection& c, Steady::duration timeout) {
  c.deadline = Steady::now() + timeout;
  next_sweep_ = std::min(next_sweep_, c.deadline);
}

void Http1Server::SetEvents(ConnectionId id, Connection& c, uint32_t events) {
  if (c.events == events) return;
  c.events = events;
  epoll_event event{};
  event.events = events;
  event.data.u64 = id;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &event);
}

int Http1Server::SweepTimeouts() {
  const Steady::time_point now = Steady::now();
  if (now >= next_sweep_) {
    // Deadlines only move later, so waking at the earliest one seen is never late.
    next_sweep_ = Steady::time_point::max();
    if (listen_fd_ < 0) {
      if (now >= relisten_at_) {
        if (OpenListener()) {
          epoll_event event{};
          event.events = EPOLLIN;
          event.data.u64 = kListenerId;
          epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &event);
          listening_.store(true);
        } else {
          relisten_at_ = now + kRelistenRetry;  // the address is taken for now
        }
      }
      if (listen_fd_ < 0) next_sweep_ = relisten_at_;
    }
    std::vector<ConnectionId> expired;
    for (auto& [id, c] : connections_) {
      if (c.busy) continue;  // a request being handled has no time limit here
      if (c.deadline <= now) {
        expired.push_back(id);
      } else {
        next_sweep_ = std::min(next_sweep_, c.deadline);
      }
    }
    for (ConnectionId id : expired) CloseConnection(id);
  }
  if (next_sweep_ == Steady::time_point::max()) return -1;
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_sweep_ - now).count();
  return static_cast<int>(std::clamp<int64_t>(wait, 0, 24 * 3600 * 1000));
}

}  // namespace rinha
