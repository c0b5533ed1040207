#include "processor/processor_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "processor/worker_pool.h"

namespace rinha::processor {
namespace {

using Steady = std::chrono::steady_clock;

constexpr uint64_t kListenerId = 0;
constexpr uint64_t kWakeId = 1;
// After an error answer the connection's write side is shut and what the client still sends is
// read and dropped for this long, so the answer is not destroyed by a reset.
constexpr auto kDrainTime = std::chrono::seconds(2);

}  // namespace

HttpReply Route(ProcessorService& service, const Http1Request& request) {
  const std::string_view method = request.method;
  const std::string_view path = request.path;
  const std::optional<std::string_view> token = request.Header("X-Rinha-Token");
  if (method == "POST") {
    if (path == "/payments") return service.PostPayment(request.body);
    if (path == "/admin/purge-payments") return service.AdminPurge(token);
  } else if (method == "GET") {
    if (path == "/payments/service-health") return service.GetHealth();
    constexpr std::string_view kPayments = "/payments/";
    if (path.substr(0, kPayments.size()) == kPayments && path.size() > kPayments.size() &&
        path.find('/', kPayments.size()) == std::string_view::npos) {
      return service.GetPayment(path.substr(kPayments.size()));
    }
    if (path == "/admin/payments-summary") {
      return service.AdminSummary(token, request.Query("from"), request.Query("to"));
    }
  } else if (method == "PUT") {
    if (path == "/admin/configurations/token") return service.AdminSetToken(token, request.body);
    if (path == "/admin/configurations/delay") return service.AdminSetDelay(token, request.body);
    if (path == "/admin/configurations/failure") {
      return service.AdminSetFailure(token, request.body);
    }
  }
  return HttpReply{.status = 404};
}

// Owns the sockets, the event-loop thread and the workers.
class ProcessorServer::Front {
 public:
  Front(ProcessorService& service, const ServerOptions& options)
      : service_(service),
        limits_(options.limits),
        idle_timeout_(std::chrono::seconds(options.keep_alive_timeout_s)),
        pool_(options.threads) {}

  ~Front() {
    Stop();
    for (int fd : {listen_fd_, epoll_fd_, wake_fd_}) {
      if (fd >= 0) close(fd);
    }
  }

  absl::Status Listen(const ServerOptions& options);
  void Stop();
  int port() const { return port_; }
  int worker_threads() const { return pool_.threads(); }
  int connections() const { return connection_count_.load(); }

 private:
  struct Connection {
    int fd = -1;
    std::string in;
    std::string out;
    bool busy = false;  // a request of this connection is with a worker
    bool close_after_write = false;
    bool draining = false;       // write side shut after an error answer; input is dropped
    bool sent_continue = false;  // "100 Continue" already sent for the request being read
    uint32_t events = 0;         // epoll mask currently registered
    Steady::time_point deadline;
  };
  struct Done {
    uint64_t id;
    std::string response;
    bool close;
  };

  void Loop();
  void Accept();
  void OnReadable(uint64_t id, Connection& c);
  // Parses buffered requests and dispatches the next one; then writes what is pending.
  void Advance(uint64_t id, Connection& c);
  // Writes what it can; closes the connection when it is finished. False when it was closed.
  bool Flush(uint64_t id, Connection& c);
  void TakeReplies();
  void CloseConnection(uint64_t id);
  void Touch(Connection& c, Steady::duration timeout);
  void SetEvents(uint64_t id, Connection& c, uint32_t events);
  int SweepTimeouts();  // closes expired connections; returns the epoll_wait timeout in ms

  ProcessorService& service_;
  const Http1Limits limits_;
  const Steady::duration idle_timeout_;
  WorkerPool pool_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::thread loop_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connection_count_{0};

  std::mutex done_mu_;
  std::vector<Done> done_;  // guarded by done_mu_; filled by workers, taken by the loop

  // Loop thread only.
  std::unordered_map<uint64_t, Connection> connections_;
  uint64_t next_id_ = 2;
  bool listener_paused_ = false;  // out of file descriptors: stop accepting until one closes
  Steady::time_point next_sweep_ = Steady::time_point::max();
};

absl::Status ProcessorServer::Front::Listen(const ServerOptions& options) {
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
  int error = 0;
  for (addrinfo* a = addresses; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    // SO_REUSEADDR only: without SO_REUSEPORT a second emulator on a busy port fails instead of
    // silently sharing it.
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, options.listen_backlog) == 0) {
      listen_fd_ = fd;
    } else {
      error = errno;
      close(fd);
    }
  }
  freeaddrinfo(addresses);
  if (listen_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port, ": ", strerror(error)));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

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

void ProcessorServer::Front::Stop() {
  if (stopping_.exchange(true)) return;
  if (loop_thread_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
    loop_thread_.join();
  }
  // The service was told to shut down first: sleeping requests give up (503) and their replies,
  // with no loop to take them, are dropped.
  pool_.Stop();
}

void ProcessorServer::Front::Loop() {
  epoll_event events[256];
  while (!stopping_.load()) {
    const int timeout_ms = SweepTimeouts();
    const int ready = epoll_wait(epoll_fd_, events, 256, timeout_ms);
    if (ready < 0 && errno != EINTR) break;
    for (int e = 0; e < ready && !stopping_.load(); ++e) {
      const uint64_t id = events[e].data.u64;
      if (id == kListenerId) {
        Accept();
        continue;
      }
      if (id == kWakeId) {
        uint64_t count;
        [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
        TakeReplies();
        continue;
      }
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;  // closed earlier in this batch
      Connection& c = it->second;
      const uint32_t ev = events[e].events;
      if (ev & EPOLLOUT) {
        if (!Flush(id, c)) continue;
      }
      if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) OnReadable(id, c);
    }
  }
  for (auto& [id, c] : connections_) close(c.fd);
  connections_.clear();
  connection_count_.store(0);
}

void ProcessorServer::Front::Accept() {
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
    const uint64_t id = next_id_++;
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

void ProcessorServer::Front::OnReadable(uint64_t id, Connection& c) {
  // One read per wake-up; level triggering brings us back while bytes remain.
  char buffer[64 * 1024];
  const ssize_t n = read(c.fd, buffer, sizeof(buffer));
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    // The client left. A request with a worker still completes (ProcessorService stores the
    // payment regardless); its answer finds no connection and is dropped.
    CloseConnection(id);
    return;
  }
  if (n < 0) return;
  if (c.draining || c.close_after_write) return;  // an error answer is on its way: drop input
  c.in.append(buffer, static_cast<size_t>(n));
  if (c.busy) {
    // Pipelined requests wait; a client that keeps sending beyond one full request is cut off.
    if (c.in.size() > limits_.max_head_bytes + limits_.max_body_bytes) CloseConnection(id);
    return;
  }
  Touch(c, idle_timeout_);
  Advance(id, c);
}

void ProcessorServer::Front::Advance(uint64_t id, Connection& c) {
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
      c.out += FormatHttp1Response(parse.error_status, {}, "", /*close=*/true);
      c.close_after_write = true;
      c.in.clear();
      break;
    }
    c.in.erase(0, parse.consumed);
    c.sent_continue = false;
    const bool keep_alive = parse.request.keep_alive;
    auto request = std::make_shared<Http1Request>(std::move(parse.request));
    const bool accepted = pool_.TrySubmit([this, id, request, keep_alive] {
      HttpReply reply;
      try {
        reply = Route(service_, *request);
      } catch (const std::exception&) {
        reply = HttpReply{.status = 500};
      }
      Done done{id, FormatHttp1Response(reply.status, reply.headers, reply.body, !keep_alive),
                !keep_alive};
      {
        std::lock_guard<std::mutex> lock(done_mu_);
        done_.push_back(std::move(done));
      }
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
    });
    if (accepted) {
      c.busy = true;
    } else {
      // Every worker slot is taken: answer like the limiter's overflow.
      c.out += FormatHttp1Response(429, {{"Retry-After", "5"}}, "", !keep_alive);
      if (!keep_alive) c.close_after_write = true;
    }
  }
  Flush(id, c);
}

bool ProcessorServer::Front::Flush(uint64_t id, Connection& c) {
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
    // Shut the write side and drop what the client still sends for a moment, so that our answer
    // is read before the socket closes (closing with unread input would send a reset).
    shutdown(c.fd, SHUT_WR);
    c.draining = true;
    c.in.clear();
    Touch(c, kDrainTime);
  }
  SetEvents(id, c, EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : uint32_t{EPOLLOUT}));
  return true;
}

void ProcessorServer::Front::TakeReplies() {
  std::vector<Done> done;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done.swap(done_);
  }
  for (Done& d : done) {
    auto it = connections_.find(d.id);
    if (it == connections_.end()) continue;  // the client left while its request was handled
    Connection& c = it->second;
    c.busy = false;
    c.out += d.response;
    if (d.close) c.close_after_write = true;
    Touch(c, idle_timeout_);
    Advance(d.id, c);  // pipelined requests, then the write
  }
}

void ProcessorServer::Front::CloseConnection(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  close(it->second.fd);
  connections_.erase(it);
  connection_count_.store(static_cast<int>(connections_.size()));
  if (listener_paused_) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = kListenerId;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &event);
    listener_paused_ = false;
  }
}

void ProcessorServer::Front::Touch(Connection& c, Steady::duration timeout) {
  c.deadline = Steady::now() + timeout;
  next_sweep_ = std::min(next_sweep_, c.deadline);
}

void ProcessorServer::Front::SetEvents(uint64_t id, Connection& c, uint32_t events) {
  if (c.events == events) return;
  c.events = events;
  epoll_event event{};
  event.events = events;
  event.data.u64 = id;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &event);
}

int ProcessorServer::Front::SweepTimeouts() {
  const Steady::time_point now = Steady::now();
  if (now >= next_sweep_) {
    // Deadlines only move later, so waking at the earliest one seen is never late.
    next_sweep_ = Steady::time_point::max();
    std::vector<uint64_t> expired;
    for (auto& [id, c] : connections_) {
      if (c.busy) continue;  // a handled request has no time limit here (the service has)
      if (c.deadline <= now) {
        expired.push_back(id);
      } else {
        next_sweep_ = std::min(next_sweep_, c.deadline);
      }
    }
    for (uint64_t id : expired) CloseConnection(id);
  }
  if (next_sweep_ == Steady::time_point::max()) return -1;
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_sweep_ - now).count();
  return static_cast<int>(std::clamp<int64_t>(wait, 0, 24 * 3600 * 1000));
}

ProcessorServer::ProcessorServer(Clock& clock, const ServerOptions& options)
    : service_(clock, options.processor), front_(std::make_unique<Front>(service_, options)) {}

absl::StatusOr<std::unique_ptr<ProcessorServer>> ProcessorServer::Start(Clock& clock,
                                                                        ServerOptions options) {
  if (options.threads < 1) return absl::InvalidArgumentError("threads must be >= 1");
  if (options.keep_alive_timeout_s < 1) {
    return absl::InvalidArgumentError("keep_alive_timeout_s must be >= 1");
  }
  // Each of these would otherwise hang every request (no slot ever free) or divide by a zero
  // window in the health limiter.
  const ProcessorOptions& p = options.processor;
  if (p.max_in_flight < 1) return absl::InvalidArgumentError("max_in_flight must be >= 1");
  if (p.max_queued < 0) return absl::InvalidArgumentError("max_queued must be >= 0");
  if (p.health_window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("health window must be positive");
  }
  if (p.health_max_queued < 0) return absl::InvalidArgumentError("health_max_queued must be >= 0");
  if (p.initial_delay_ms < 0) return absl::InvalidArgumentError("initial delay must be >= 0");
  std::unique_ptr<ProcessorServer> server(new ProcessorServer(clock, options));
  if (absl::Status listening = server->front_->Listen(options); !listening.ok()) return listening;
  return server;
}

ProcessorServer::~ProcessorServer() { Stop(); }

int ProcessorServer::port() const { return front_->port(); }
int ProcessorServer::worker_threads() const { return front_->worker_threads(); }
int ProcessorServer::connections() const { return front_->connections(); }

void ProcessorServer::Stop() {
  service_.Shutdown();
  front_->Stop();
}

}  // namespace rinha::processor
