#include "common/bounded_httplib_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rinha {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Set on the accept thread while it hands a connection it refuses to process_and_close_socket():
// the library's task queue interface passes only an opaque job, and the job is that call.
thread_local bool t_refusing = false;

// Milliseconds to wait in poll() for `until` (rounded up, so a wait never ends early and spins).
int PollTimeoutMs(SteadyClock::time_point until) {
  const auto left = until - SteadyClock::now();
  if (left <= SteadyClock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, 1'000'000));
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

// The task queue the library's accept loop feeds: a fixed pool of threads, each serving one
// connection at a time. A connection that finds no idle thread is refused at once on the accept
// thread (a few microseconds: the answer is written by the Closer) instead of waiting in an
// unbounded queue, as the library's own ThreadPool would let it.
class BoundedHttplibServer::Pool final : public httplib::TaskQueue {
 public:
  // Every worker counts as idle from the start, before its thread runs: a connection that comes
  // first must not be refused for a thread that is still starting.
  Pool(BoundedHttplibServer& server, int threads)
      : server_(server), idle_(static_cast<size_t>(threads)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~Pool() override = default;

  // Accept thread.
  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_ > jobs_.size()) {
        jobs_.push_back(std::move(fn));
        cv_.notify_one();
        return;
      }
    }
    t_refusing = true;
    fn();
    t_refusing = false;
  }

  // Accept thread, once its loop has ended.
  void shutdown() override {
    server_.BeginStop();
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shut down, nothing left to serve
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        --idle_;
      }
      fn();
      std::lock_guard<std::mutex> lock(mu_);
      ++idle_;
    }
  }

  BoundedHttplibServer& server_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::list<std::function<void()>> jobs_;  // guarded by mu_
  size_t idle_;                            // guarded by mu_: workers not serving a connection
  bool shutdown_ = false;                  // guarded by mu_
};

// Closes connections gracefully on a thread of its own (one epoll): refused ones get their answer
// first. A FIN at once, then whatever the client still sends is read and dropped until it closes
// or `linger` passes. Closing with unread input would send a reset, which can reach the client
// before it has read the answer (a refusal, a 400 or a 413).
class BoundedHttplibServer::Closer {
 public:
  explicit Closer(const BoundedHttplibLimits& limits)
      : linger_(limits.linger), max_lingering_(limits.max_lingering) {
    response_ = "HTTP/1.1 " + std::to_string(limits.refusal_status) + " " +
                ReasonPhrase(limits.refusal_status) +
                "\r\nContent-Type: " + limits.refusal_content_type +
                "\r\nContent-Length: " + std::to_string(limits.refusal_body.size()) +
                "\r\nConnection: close\r\n\r\n" + limits.refusal_body;
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Closer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    Wake();
    thread_.join();
    for (const Incoming& in : incoming_) close(in.fd);
    for (const auto& [fd, generation] : open_) close(fd);
    close(wake_fd_);
    close(epoll_fd_);
  }

  // Any thread. Take ownership of `fd`: Refuse() answers it with the refusal first.
  void Refuse(int fd) { Add(fd, true); }
  void Close(int fd) { Add(fd, false); }

 private:
  struct Incoming {
    int fd;
    bool refuse;
  };
  struct Expiry {
    SteadyClock::time_point at;
    int fd;
    uint64_t generation;
  };

  void Add(int fd, bool refuse) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      incoming_.push_back(Incoming{fd, refuse});
    }
    Wake();
  }

  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof(one));
  }

  void Loop() {
    std::vector<epoll_event> events(64);
    std::vector<Incoming> taken;
    for (;;) {
      int timeout_ms = -1;
      if (!expiries_.empty()) timeout_ms = PollTimeoutMs(expiries_.front().at);
      const int n =
          epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_fd_) {
          uint64_t value;
          [[maybe_unused]] const ssize_t r = read(wake_fd_, &value, sizeof(value));
          continue;
        }
        Drain(fd);
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
        taken.swap(incoming_);
      }
      for (const Incoming& in : taken) Linger(in.fd, in.refuse);
      taken.clear();
      const auto now = SteadyClock::now();
      while (!expiries_.empty() && expiries_.front().at <= now) {
        const Expiry e = expiries_.front();
        expiries_.pop_front();
        auto it = open_.find(e.fd);
        if (it != open_.end() && it->second == e.generation) Release(e.fd);
      }
    }
  }

  void Linger(int fd, bool refuse) {
    if (static_cast<int>(open_.size()) >= max_lingering_) {
      close(fd);
      return;
    }
    if (refuse) {
      [[maybe_unused]] const ssize_t n =
          send(fd, response_.data(), response_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    ::shutdown(fd, SHUT_WR);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      return;
    }
    const uint64_t generation = ++generation_;
    open_[fd] = generation;
    expiries_.push_back(Expiry{SteadyClock::now() + linger_, fd, generation});
  }

  // Reads and drops what the client sent; closes at its end (EOF or error).
  void Drain(int fd) {
    char scratch[4096];
    for (;;) {
      const ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      Release(fd);
      return;
    }
  }

  void Release(int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    open_.erase(fd);
  }

  const std::chrono::milliseconds linger_;
  const int max_lingering_;
  std::string response_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Incoming> incoming_;  // guarded by mu_
  bool stop_ = false;               // guarded by mu_
  // Closer thread only.
  std::unordered_map<int, uint64_t> open_;  // lingering fd -> generation
  std::deque<Expiry> expiries_;             // in deadline order: every linger is the same length
  uint64_t generation_ = 0;
};

// One connection's socket as the library's request parser reads it: buffered (the parser reads
// a byte at a time), with the current request's deadline and byte budget enforced on every read,
// and writes bounded by the write timeout. Used by one pool thread.
class BoundedHttplibServer::ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, const BoundedHttplibLimits& limits, int stop_fd)
      : fd_(fd), limits_(limits), stop_fd_(stop_fd) {}

  enum class Wait { kReady, kIdle, kStopped };
  // Waits until the next request's first byte (or the client's close) is there, `until` passes
  // (kIdle) or the server stops (kStopped).
  Wait WaitForRequest(SteadyClock::time_point until) {
    if (begin_ < end_) return Wait::kReady;  // pipelined
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
      const int n = poll(fds, 2, PollTimeoutMs(until));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Wait::kStopped;
      if (fds[1].revents != 0) return Wait::kStopped;
      if (fds[0].revents != 0) return Wait::kReady;
      if (SteadyClock::now() >= until) return Wait::kIdle;
    }
  }

  void BeginRequest(SteadyClock::time_point deadline) {
    deadline_ = deadline;
    consumed_ = 0;
  }
  bool timed_out() const { return timed_out_; }
  bool oversized() const { return oversized_; }
  // The connection cannot carry another request (deadline, budget, error or end of input).
  bool broken() const { return broken_; }

  bool is_readable() const override {
    if (begin_ < end_) return true;
    pollfd fd{fd_, POLLIN, 0};
    return poll(&fd, 1, PollTimeoutMs(deadline_)) > 0;
  }

  bool is_writable() const override {
    pollfd fd{fd_, POLLOUT, 0};
    return poll(&fd, 1, static_cast<int>(limits_.write_timeout.count())) > 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (broken_) return -1;
    if (consumed_ >= limits_.max_request_bytes) {
      oversized_ = true;
      broken_ = true;
      return -1;
    }
    if (begin_ == end_) {
      const ssize_t filled = Fill();
      if (filled <= 0) return filled;
    }
    const size_t n = std::min({size, end_ - begin_, limits_.max_request_bytes - consumed_});
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    consumed_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    SteadyClock::time_point deadline{};
    while (done < size) {
      const ssize_t n = send(fd_, ptr + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) return -1;
      if (deadline == SteadyClock::time_point{}) {
        deadline = SteadyClock::now() + limits_.write_timeout;
      }
      pollfd fd{fd_, POLLOUT, 0};
      if (poll(&fd, 1, PollTimeoutMs(deadline)) <= 0 && SteadyClock::now() >= deadline) {
        broken_ = true;
        return -1;
      }
    }
    return static_cast<ssize_t>(size);
  }

  // The parser asks for both on every request; they do not change on a connection.
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    if (remote_port_ < 0) Address(getpeername, remote_ip_, remote_port_);
    ip = remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    if (local_port_ < 0) Address(getsockname, local_ip_, local_port_);
    ip = local_ip_;
    port = local_port_;
  }
  socket_t socket() const override { return fd_; }

 private:
  // One recv into the empty buffer, waiting for data until the request's deadline. Returns the
  // bytes read, 0 at the end of input, -1 on an error or the deadline.
  ssize_t Fill() {
    begin_ = end_ = 0;
    for (;;) {
      const ssize_t n = recv(fd_, buffer_, sizeof(buffer_), MSG_DONTWAIT);
      if (n > 0) {
        end_ = static_cast<size_t>(n);
        return n;
      }
      if (n == 0) {
        broken_ = true;
        return 0;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        broken_ = true;
        return -1;
      }
      if (SteadyClock::now() >= deadline_) {
        timed_out_ = true;
        broken_ = true;
        return -1;
      }
      pollfd fd{fd_, POLLIN, 0};
      poll(&fd, 1, PollTimeoutMs(deadline_));
    }
  }

  template <typename Getter>
  void Address(Getter getter, std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    ip.clear();
    port = 0;
    if (getter(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      port = ntohs(in->sin_port);
    } else if (address.ss_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      port = ntohs(in6->sin6_port);
    }
    ip = text;
  }

  const int fd_;
  const BoundedHttplibLimits& limits_;
  const int stop_fd_;
  char buffer_[4096];
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t consumed_ = 0;  // bytes of the current request handed to the parser
  SteadyClock::time_point deadline_{};
  bool timed_out_ = false;
  bool oversized_ = false;
  bool broken_ = false;
  mutable std::string remote_ip_, local_ip_;
  mutable int remote_port_ = -1, local_port_ = -1;
};

BoundedHttplibServer::BoundedHttplibServer(const BoundedHttplibLimits& limits)
    : limits_(limits),
      stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      closer_(std::make_unique<Closer>(limits)) {
  new_task_queue = [this] { return new Pool(*this, std::max(1, limits_.threads)); };
}

BoundedHttplibServer::~BoundedHttplibServer() {
  closer_.reset();
  close(stop_fd_);
}

BoundedHttplibStats BoundedHttplibServer::stats() const {
  BoundedHttplibStats s;
  s.busy = busy_.load();
  s.served = served_.load();
  s.refused = refused_.load();
  s.request_timeouts = request_timeouts_.load();
  s.oversized = oversized_.load();
  s.idle_closed = idle_closed_.load();
  return s;
}

void BoundedHttplibServer::BeginStop() {
  stopping_.store(true);
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(stop_fd_, &one, sizeof(one));
}

bool BoundedHttplibServer::process_and_close_socket(socket_t sock) {
  if (t_refusing) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    closer_->Refuse(sock);
    return true;
  }
  busy_.fetch_add(1, std::memory_order_relaxed);
  served_.fetch_add(1, std::memory_order_relaxed);
  if (Serve(sock)) {
    closer_->Close(sock);  // input may be left unread: no reset before the client reads the answer
  } else {
    ::shutdown(sock, SHUT_RDWR);
    close(sock);
  }
  busy_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

bool BoundedHttplibServer::Serve(int sock) {
  const int one = 1;
  setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ConnectionStream stream(sock, limits_, stop_fd_);
  // A new connection: its first request must be complete within request_timeout of the accept.
  SteadyClock::time_point deadline = SteadyClock::now() + limits_.request_timeout;
  for (bool first = true;; first = false) {
    const auto wait_until = first ? deadline : SteadyClock::now() + limits_.keep_alive_timeout;
    switch (stream.WaitForRequest(wait_until)) {
      case ConnectionStream::Wait::kStopped:
        return false;
      case ConnectionStream::Wait::kIdle:
        (first ? request_timeouts_ : idle_closed_).fetch_add(1, std::memory_order_relaxed);
        return false;
      case ConnectionStream::Wait::kReady:
        break;
    }
    if (!first) deadline = SteadyClock::now() + limits_.request_timeout;
    stream.BeginRequest(deadline);
    bool connection_closed = false;
    const bool stopping = stopping_.load(std::memory_order_relaxed);
    const bool ok = process_request(stream, stopping, connection_closed, nullptr);
    if (stream.timed_out()) request_timeouts_.fetch_add(1, std::memory_order_relaxed);
    if (stream.oversized()) oversized_.fetch_add(1, std::memory_order_relaxed);
    if (stream.timed_out() || stream.oversized()) return true;
    if (!ok || connection_closed || stream.broken() || stopping) return false;
  }
}

}  // namespace rinha
