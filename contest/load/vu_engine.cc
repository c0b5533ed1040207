#include "contest/load/vu_engine.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/http1_response.h"
#include "common/uuid.h"
#include "contest/load/latency.h"
#include "contest/load/score.h"
#include "contest/load/timeline.h"

namespace rinha::contest {

struct LoadEngine::Vu {
  enum class State { kSleeping, kConnecting, kWriting, kReading };
  int fd = -1;
  State state = State::kSleeping;
  bool reused = false;   // the connection served an earlier request
  bool retried = false;  // this iteration already resent once
  uint64_t iteration = 0;
  int64_t write_start_ns = 0;
  int64_t iteration_start_ns = 0;
  std::string request;  // the VU's own copy of the template; only the UUID changes
  size_t written = 0;
  std::string in;
};

namespace {

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerS = 1'000'000'000;

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// The official script counts only these as success.
bool IsSuccess(int status) {
  return status == 200 || status == 201 || status == 202 || status == 204;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LoadEngine>> LoadEngine::Create(const LoadOptions& options) {
  if (options.max_vus < 1 || options.duration_ms <= 0 || options.timeout_ms <= 0) {
    return absl::InvalidArgumentError("max_vus, duration and timeout must be positive");
  }
  std::unique_ptr<LoadEngine> engine(new LoadEngine(options));
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(options.host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve ", options.host));
  }
  engine->addr_ = *reinterpret_cast<sockaddr_in*>(found->ai_addr);
  engine->addr_.sin_port = htons(static_cast<uint16_t>(options.port));
  freeaddrinfo(found);
  engine->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (engine->epoll_fd_ < 0) return absl::InternalError("epoll_create1 failed");
  // One socket per VU: make sure the soft limit allows them.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  return engine;
}

LoadEngine::LoadEngine(const LoadOptions& options) : options_(options) {
  // JSON.stringify of the official payload: {"correlationId":"<uuid>","amount":20.05}.
  const std::string amount = Decimal{options.amount_cents, 2}.ToString();
  const std::string body_head = R"({"correlationId":")";
  const std::string body =
      absl::StrCat(body_head, std::string(36, '0'), R"(","amount":)", amount, "}");
  const std::string head =
      absl::StrCat("POST /payments HTTP/1.1\r\nHost: ", options.host, ":", options.port,
                   "\r\nUser-Agent: rinha-load\r\nContent-Type: application/json\r\n"
                   "Content-Length: ",
                   body.size(), "\r\n\r\n");
  request_template_ = head + body;
  uuid_offset_ = head.size() + body_head.size();
  std::random_device seed;
  for (uint64_t& word : rng_) word = (static_cast<uint64_t>(seed()) << 32) ^ seed();
  const int64_t seconds = options.duration_ms / 1000 + 1;
  // Upper bound on successful requests: each VU at most one per think time.
  totals_.ok_latencies_ns.reserve(
      static_cast<size_t>(std::min<int64_t>(int64_t{options.max_vus} * seconds, 4'000'000)));
  second_latencies_.reserve(static_cast<size_t>(options.max_vus) * 2);
}

LoadEngine::~LoadEngine() {
  for (auto& vu : vus_) CloseConnection(*vu);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void LoadEngine::Stop() { stop_.store(true); }

LiveStatus LoadEngine::Live() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

std::vector<SecondStats> LoadEngine::Seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seconds_;
}

void LoadEngine::NewUuid(char* out) {
  // xoshiro256**: two 64-bit draws per UUID; version 4, variant 10xx.
  auto next = [this] {
    const uint64_t result = Rotl(rng_[1] * 5, 7) * 9;
    const uint64_t t = rng_[1] << 17;
    rng_[2] ^= rng_[0];
    rng_[3] ^= rng_[1];
    rng_[1] ^= rng_[2];
    rng_[0] ^= rng_[3];
    rng_[2] ^= t;
    rng_[3] = Rotl(rng_[3], 45);
    return result;
  };
  const uint64_t a = next(), b = next();
  WriteUuidV4(a, b, out);
}

void LoadEngine::CloseConnection(Vu& vu) {
  if (vu.fd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, vu.fd, nullptr);
    close(vu.fd);
  }
  vu.fd = -1;
  vu.reused = false;
  vu.in.clear();
}

void LoadEngine::StartIteration(uint32_t index, int64_t now_ns) {
  Vu& vu = *vus_[index];
  ++vu.iteration;
  vu.retried = false;
  vu.iteration_start_ns = now_ns;
  vu.write_start_ns = 0;
  ++in_flight_;
  deadlines_.push_back(Timer{now_ns + options_.timeout_ms * kNsPerMs, index, vu.iteration});
  NewUuid(vu.request.data() + uuid_offset_);
  if (vu.fd < 0) {
    Connect(vu, index, now_ns);
  } else {
    SendRequest(vu, index, now_ns);
  }
}

void LoadEngine::Connect(Vu& vu, uint32_t index, int64_t now_ns) {
  vu.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (vu.fd < 0) {
    Finish(vu, index, Outcome::kError, now_ns, false);
    return;
  }
  const int one = 1;
  setsockopt(vu.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ++totals_.connections_opened;
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u32 = index;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, vu.fd, &ev);
  const int rc = connect(vu.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof(addr_));
  if (rc == 0) {
    SendRequest(vu, index, now_ns);
  } else if (errno == EINPROGRESS) {
    vu.state = Vu::State::kConnecting;
  } else {
    Finish(vu, index, Outcome::kError, now_ns, false);
  }
}

void LoadEngine::SendRequest(Vu& vu, uint32_t index, int64_t now_ns) {
  vu.state = Vu::State::kWriting;
  vu.written = 0;
  vu.in.clear();
  vu.write_start_ns = now_ns;
  const ssize_t n = send(vu.fd, vu.request.data(), vu.request.size(), MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN) {
    if (!RetryOnFreshConnection(vu, index, now_ns)) {
      Finish(vu, index, Outcome::kError, now_ns, false);
    }
    return;
  }
  vu.written = n > 0 ? static_cast<size_t>(n) : 0;
  epoll_event ev{};
  ev.data.u32 = index;
  if (vu.written == vu.request.size()) {
    vu.state = Vu::State::kReading;
    ev.events = EPOLLIN | EPOLLRDHUP;
  } else {
    ev.events = EPOLLOUT;
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, vu.fd, &ev);
}

bool LoadEngine::RetryOnFreshConnection(Vu& vu, uint32_t index, int64_t now_ns) {
  if (!vu.reused || vu.retried) return false;
  vu.retried = true;
  CloseConnection(vu);
  Connect(vu, index, now_ns);
  return true;
}

void LoadEngine::OnEvent(uint32_t index, uint32_t events, int64_t now_ns) {
  Vu& vu = *vus_[index];
  switch (vu.state) {
    case Vu::State::kSleeping:
      // The server closed an idle keep-alive connection (or sent something unasked): drop it.
      CloseConnection(vu);
      return;
    case Vu::State::kConnecting: {
      int error = 0;
      socklen_t len = sizeof(error);
      getsockopt(vu.fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        Finish(vu, index, Outcome::kError, now_ns, false);
        return;
      }
      SendRequest(vu, index, now_ns);
      return;
    }
    case Vu::State::kWriting: {
      const ssize_t n =
          send(vu.fd, vu.request.data() + vu.written, vu.request.size() - vu.written, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) {
        if (vu.written > 0 || !RetryOnFreshConnection(vu, index, now_ns)) {
          Finish(vu, index, Outcome::kError, now_ns, false);
        }
        return;
      }
      if (n > 0) vu.written += static_cast<size_t>(n);
      if (vu.written == vu.request.size()) {
        vu.state = Vu::State::kReading;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u32 = index;
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, vu.fd, &ev);
      }
      return;
    }
    case Vu::State::kReading:
      OnReadable(vu, index, now_ns);
      return;
  }
}

void LoadEngine::OnReadable(Vu& vu, uint32_t index, int64_t now_ns) {
  char buf[4096];
  bool eof = false;
  for (;;) {
    const ssize_t n = recv(vu.fd, buf, sizeof(buf), 0);
    if (n > 0) {
      vu.in.append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof(buf)) break;
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EAGAIN || errno == EINTR) break;
    // Reset by the peer after the request went out: a failure (a POST is not replayable).
    Finish(vu, index, Outcome::kError, now_ns, false);
    return;
  }
  Http1Response response;
  bool error = false;
  if (!ParseHttp1Response(vu.in, eof, &response, &error)) {
    if (error || eof) Finish(vu, index, Outcome::kError, now_ns, false);
    return;
  }
  Finish(vu, index, IsSuccess(response.status) ? Outcome::kOk : Outcome::kNon2xx, now_ns,
         response.keep_alive && !eof, response.status);
}

void LoadEngine::Finish(Vu& vu, uint32_t index, Outcome outcome, int64_t now_ns,
                        bool keep_connection, int status) {
  if (options_.log_requests) {
    RequestRecord r;
    r.start_us = (vu.iteration_start_ns - start_ns_) / 1000;
    r.latency_us = vu.write_start_ns > 0 ? (now_ns - vu.write_start_ns) / 1000 : 0;
    r.status = outcome == Outcome::kTimeout ? RequestRecord::kTimedOut
               : status > 0                 ? status
                                            : RequestRecord::kNoAnswer;
    std::memcpy(r.id, vu.request.data() + uuid_offset_, sizeof(r.id));
    totals_.requests_log.push_back(r);
  }
  --in_flight_;
  ++vu.iteration;  // invalidates this iteration's pending deadline
  totals_.last_finish_ns = now_ns;
  ++totals_.requests;
  ++second_.requests;
  switch (outcome) {
    case Outcome::kOk: {
      const int64_t latency = now_ns - vu.write_start_ns;
      ++totals_.ok;
      ++second_.ok;
      totals_.ok_latencies_ns.push_back(latency);
      second_latencies_.push_back(latency);
      break;
    }
    case Outcome::kNon2xx:
      ++totals_.non_2xx;
      break;
    case Outcome::kTimeout:
      ++totals_.timeouts;
      break;
    case Outcome::kError:
      ++totals_.errors;
      break;
  }
  if (outcome != Outcome::kOk) {
    ++totals_.failed;
    ++second_.failed;
  }
  if (keep_connection) {
    vu.reused = true;
    vu.in.clear();
    epoll_event ev{};
    ev.events = EPOLLRDHUP;  // notice a server-side close while the VU sleeps
    ev.data.u32 = index;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, vu.fd, &ev);
  } else {
    CloseConnection(vu);
  }
  vu.state = Vu::State::kSleeping;
  sleeping_.push_back(Timer{now_ns + options_.think_ms * kNsPerMs, index, vu.iteration});
}

void LoadEngine::FlushSeconds(int64_t now_ns, bool final) {
  const int64_t second_index = (now_ns - start_ns_) / kNsPerS;
  while (current_second_ < second_index || final) {
    second_.t_s = current_second_ + 1;
    second_.vus = static_cast<int>(vus_.size());
    second_.p50_ms = PercentileMs(second_latencies_, 0.50);
    second_.p99_ms = PercentileMs(second_latencies_, 0.99);
    second_.max_ms = MaxMs(second_latencies_);
    // A partial selection over every sample so far: well under a millisecond at 90,000.
    const double p99_so_far = PercentileMs(totals_.ok_latencies_ns, 0.99);
    {
      std::lock_guard<std::mutex> lock(mu_);
      seconds_.push_back(second_);
      live_.elapsed_s = second_.t_s;
      live_.vus = second_.vus;
      live_.requests = totals_.requests;
      live_.ok = totals_.ok;
      live_.failed = totals_.failed;
      live_.last_second_rate = static_cast<double>(second_.requests);
      live_.p99_ms_so_far = p99_so_far;
    }
    second_ = SecondStats{};
    second_latencies_.clear();
    ++current_second_;
    if (final) break;
  }
}

LoadTotals LoadEngine::Run(int64_t start_ns) {
  start_ns_ = start_ns;
  const int64_t end_ns = start_ns + options_.duration_ms * kNsPerMs;
  std::vector<epoll_event> events(1024);
  while (SteadyNanos() < start_ns && !stop_.load()) {
    const int64_t wait_ms = (start_ns - SteadyNanos() + kNsPerMs - 1) / kNsPerMs;
    epoll_wait(epoll_fd_, events.data(), 1, static_cast<int>(std::clamp<int64_t>(wait_ms, 0, 50)));
  }
  for (;;) {
    const int64_t now = SteadyNanos();
    if (stop_.load()) break;
    const bool running = now < end_ns;
    if (!running && in_flight_ == 0) break;
    // Ramp: add the VUs due by now; each starts its first iteration at once.
    if (running) {
      const int target = VusAt((now - start_ns) / kNsPerMs, options_.duration_ms, options_.max_vus);
      while (static_cast<int>(vus_.size()) < target) {
        auto vu = std::make_unique<Vu>();
        vu->request = request_template_;
        vus_.push_back(std::move(vu));
        StartIteration(static_cast<uint32_t>(vus_.size() - 1), now);
      }
    }
    // Timeouts first (the answer did not come within the limit), then sleepers that are due.
    while (!deadlines_.empty() && deadlines_.front().at_ns <= now) {
      const Timer t = deadlines_.front();
      deadlines_.pop_front();
      Vu& vu = *vus_[t.vu];
      if (vu.iteration == t.iteration && vu.state != Vu::State::kSleeping) {
        Finish(vu, t.vu, Outcome::kTimeout, now, false);
      }
    }
    while (!sleeping_.empty() && sleeping_.front().at_ns <= now) {
      const Timer t = sleeping_.front();
      sleeping_.pop_front();
      Vu& vu = *vus_[t.vu];
      // k6 stops starting iterations when the scenario ends (gracefulRampDown 0s).
      if (running && vu.iteration == t.iteration && vu.state == Vu::State::kSleeping) {
        StartIteration(t.vu, now);
      }
    }
    FlushSeconds(now, false);

    int64_t next = now + 50 * kNsPerMs;
    if (!deadlines_.empty()) next = std::min(next, deadlines_.front().at_ns);
    if (running) {
      if (!sleeping_.empty()) next = std::min(next, sleeping_.front().at_ns);
      if (static_cast<int>(vus_.size()) < options_.max_vus) {
        const int64_t ramp_ms =
            RampTimeOfVu(static_cast<int>(vus_.size()) + 1, options_.duration_ms, options_.max_vus);
        next = std::min(next, start_ns + ramp_ms * kNsPerMs);
      }
      next = std::min(next, end_ns);
    }
    next = std::min(next, start_ns + (current_second_ + 1) * kNsPerS);
    const int timeout_ms =
        static_cast<int>(std::max<int64_t>(0, (next - now + kNsPerMs - 1) / kNsPerMs));
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    const int64_t after = SteadyNanos();
    for (int i = 0; i < n; ++i) OnEvent(events[i].data.u32, events[i].events, after);
  }
  FlushSeconds(SteadyNanos(), true);
  for (auto& vu : vus_) CloseConnection(*vu);
  return std::move(totals_);
}

}  // namespace rinha::contest
