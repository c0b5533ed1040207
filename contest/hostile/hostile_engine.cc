#include "contest/hostile/hostile_engine.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/http1_response.h"
#include "common/uuid.h"
#include "contest/load/latency.h"

namespace rinha::contest {

struct HostileEngine::Conn {
  int fd = -1;
  uint32_t attack = 0;
  uint64_t generation = 0;
  bool connecting = false;
  bool writing = false;   // EPOLLOUT registered
  bool awaiting = false;  // a whole request was written; its answer is awaited
  int reset_stage = 0;    // reset attack: 0 after the connect, 1 mid-head, 2 after a request
  int64_t opened_ns = 0;
  const std::string* out = nullptr;  // bytes being written (owned by the attack)
  size_t out_off = 0;
  int64_t dripped = 0;
  std::string in;
  std::string own;      // surge: this connection's request (its UUID changes each time)
  int64_t sent_ns = 0;  // surge: when the payment's first byte was written
  uint64_t seq = 0;     // surge: payments sent on this connection
};

struct HostileEngine::Attack {
  AttackSpec spec;
  AttackStats stats;
  std::vector<int64_t> lifetimes_ns;
  std::string head_prefix;
  std::string slow_body_head;
  std::string half_open_head;
  std::string big;
  std::vector<std::string> invalid;
  size_t next_invalid = 0;
  std::string surge;  // surge: the request, with a placeholder UUID at surge_uuid_offset
  size_t surge_uuid_offset = 0;
  std::vector<int64_t> ok_latencies_ns;
  int64_t open = 0;
  int64_t rate_done = 0;  // rate attacks: sends (invalid) or connections (reset) so far
  std::vector<std::pair<uint32_t, uint64_t>> idle;  // invalid: free connections (index, generation)
};

namespace {

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerS = 1'000'000'000;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool IsHold(AttackMode mode) { return mode != AttackMode::kReset; }

bool IsSuccess(int status) {
  return status == 200 || status == 201 || status == 202 || status == 204;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HostileEngine>> HostileEngine::Create(
    const HostileOptions& options) {
  if (options.attacks.empty()) return absl::InvalidArgumentError("no attack given");
  std::unique_ptr<HostileEngine> engine(new HostileEngine(options));
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
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  return engine;
}

HostileEngine::HostileEngine(const HostileOptions& options) : options_(options) {
  const std::string host = absl::StrCat(options.host, ":", options.port);
  for (const AttackSpec& spec : options.attacks) {
    Attack a;
    a.spec = spec;
    a.stats.spec = spec.text;
    a.head_prefix = HeadPrefix(host);
    if (spec.mode == AttackMode::kSlowBody) a.slow_body_head = SlowBodyHead(host, spec.body_bytes);
    if (spec.mode == AttackMode::kHalfOpen) a.half_open_head = HalfOpenHead(host, spec.size);
    if (spec.mode == AttackMode::kBigHead) a.big = BigHeadRequest(host, spec.size);
    if (spec.mode == AttackMode::kBigBody) a.big = BigBodyRequest(host, spec.size);
    if (spec.mode == AttackMode::kInvalid || spec.mode == AttackMode::kReset) {
      a.invalid = InvalidRequests(host);
    }
    if (spec.mode == AttackMode::kSurge) a.surge = SurgeRequest(host, &a.surge_uuid_offset);
    attacks_.push_back(std::move(a));
  }
  rng_ = options.seed != 0 ? options.seed : (uint64_t{std::random_device{}()} << 32) | 1;
}

HostileEngine::~HostileEngine() {
  for (uint32_t i = 0; i < conns_.size(); ++i) {
    if (conns_[i].fd >= 0) close(conns_[i].fd);
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

uint64_t HostileEngine::Random() {
  // splitmix64
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

void HostileEngine::SetEvents(uint32_t index, bool want_write) {
  Conn& c = conns_[index];
  c.writing = want_write;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want_write ? uint32_t{EPOLLOUT} : 0u);
  ev.data.u32 = index;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void HostileEngine::Open(uint32_t attack, int64_t now_ns) {
  Attack& a = attacks_[attack];
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ++a.stats.connect_errors;
    if (IsHold(a.spec.mode)) ScheduleReopen(attack, now_ns);
    return;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(conns_.size());
    conns_.emplace_back();
  }
  Conn& c = conns_[index];
  const uint64_t generation = c.generation;
  c = Conn{};
  c.generation = generation;
  c.fd = fd;
  c.attack = attack;
  c.connecting = true;
  c.writing = true;
  c.opened_ns = now_ns;
  ++a.open;
  ++a.stats.opened;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
  ev.data.u32 = index;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof(addr_)) == 0) {
    OnConnected(index, now_ns);
  } else if (errno != EINPROGRESS) {
    ++a.stats.connect_errors;
    Close(index);
    if (IsHold(a.spec.mode)) ScheduleReopen(attack, now_ns);
  }
}

void HostileEngine::OnConnected(uint32_t index, int64_t now_ns) {
  Conn& c = conns_[index];
  Attack& a = attacks_[c.attack];
  c.connecting = false;
  SetEvents(index, false);
  const auto drip = [&] {
    timers_.push(Timer{now_ns + a.spec.interval_ms * kNsPerMs, index, c.attack, c.generation});
  };
  switch (a.spec.mode) {
    case AttackMode::kSlowHead:
      drip();
      Queue(index, &a.head_prefix, now_ns);
      return;
    case AttackMode::kSlowBody:
      drip();
      Queue(index, &a.slow_body_head, now_ns);
      return;
    case AttackMode::kHalfOpen:
      Queue(index, &a.half_open_head, now_ns);
      return;
    case AttackMode::kIdle:
      return;
    case AttackMode::kBigHead:
    case AttackMode::kBigBody:
      Queue(index, &a.big, now_ns);
      return;
    case AttackMode::kInvalid:
      a.idle.emplace_back(index, c.generation);
      return;
    case AttackMode::kSurge:
      SendPayment(index, now_ns);
      return;
    case AttackMode::kReset:
      c.reset_stage = static_cast<int>(Random() % 3);
      if (c.reset_stage == 0) {
        ++a.stats.resets_sent;
        Reset(index);
      } else if (c.reset_stage == 1) {
        Queue(index, &a.head_prefix, now_ns);
      } else {
        Queue(index, &a.invalid[a.next_invalid++ % a.invalid.size()], now_ns);
      }
      return;
  }
}

void HostileEngine::Queue(uint32_t index, const std::string* bytes, int64_t now_ns) {
  Conn& c = conns_[index];
  c.out = bytes;
  c.out_off = 0;
  Flush(index, now_ns);
}

void HostileEngine::Flush(uint32_t index, int64_t now_ns) {
  Conn& c = conns_[index];
  Attack& a = attacks_[c.attack];
  while (c.out != nullptr && c.out_off < c.out->size()) {
    const ssize_t n =
        send(c.fd, c.out->data() + c.out_off, c.out->size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      a.stats.bytes_sent += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!c.writing) SetEvents(index, true);
      return;
    }
    ServerEnded(index, true, now_ns);
    return;
  }
  c.out = nullptr;
  if (c.writing) SetEvents(index, false);
  OnWritten(index, now_ns);
}

void HostileEngine::OnWritten(uint32_t index, int64_t now_ns) {
  Conn& c = conns_[index];
  Attack& a = attacks_[c.attack];
  switch (a.spec.mode) {
    case AttackMode::kBigHead:
    case AttackMode::kBigBody:
    case AttackMode::kInvalid:
      ++a.stats.requests;
      c.awaiting = true;
      return;
    case AttackMode::kReset:
      if (c.reset_stage == 2) ++a.stats.requests;
      ++a.stats.resets_sent;
      Reset(index);
      return;
    default:
      (void)now_ns;
      return;
  }
}

void HostileEngine::OnTimer(const Timer& t, int64_t now_ns) {
  if (t.conn == kNoConn) {
    if (!draining_) Open(t.attack, now_ns);
    return;
  }
  Conn& c = conns_[t.conn];
  if (c.fd < 0 || c.generation != t.generation) return;
  Attack& a = attacks_[c.attack];
  if (t.kind == TimerKind::kThink) {
    if (!draining_) SendPayment(t.conn, now_ns);
    return;
  }
  if (t.kind == TimerKind::kDeadline) {
    if (!c.awaiting || c.seq != t.seq) return;  // answered meanwhile
    RecordPayment(t.conn, -1, now_ns);
    const uint32_t attack = c.attack;
    Close(t.conn);
    ScheduleReopen(attack, now_ns);
    return;
  }
  const bool body = a.spec.mode == AttackMode::kSlowBody;
  if (body && c.dripped >= a.spec.body_bytes) return;
  if (c.out == nullptr) {  // the head is out: one more byte
    const char byte = body ? '1' : SlowHeadByte(c.dripped);
    const ssize_t n = send(c.fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == 1) {
      ++c.dripped;
      ++a.stats.bytes_sent;
      if (body && c.dripped == a.spec.body_bytes) {
        ++a.stats.requests;
        c.awaiting = true;
        return;
      }
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      ServerEnded(t.conn, true, now_ns);
      return;
    }
  }
  timers_.push(Timer{now_ns + a.spec.interval_ms * kNsPerMs, t.conn, t.attack, t.generation});
}

void HostileEngine::OnEvent(uint32_t index, uint32_t events, int64_t now_ns) {
  Conn& c = conns_[index];
  if (c.fd < 0) return;
  if (c.connecting) {
    int error = 0;
    socklen_t len = sizeof(error);
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) {
      Attack& a = attacks_[c.attack];
      ++a.stats.connect_errors;
      const uint32_t attack = c.attack;
      Close(index);
      if (IsHold(a.spec.mode)) ScheduleReopen(attack, now_ns);
      return;
    }
    OnConnected(index, now_ns);
    return;
  }
  if ((events & EPOLLOUT) != 0 && c.out != nullptr) Flush(index, now_ns);
  if (conns_[index].fd >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    OnReadable(index, now_ns);
  }
}

void HostileEngine::OnReadable(uint32_t index, int64_t now_ns) {
  Conn& c = conns_[index];
  Attack& a = attacks_[c.attack];
  char buf[8192];
  bool eof = false;
  for (;;) {
    const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
    if (n > 0) {
      if (c.in.size() < 256 * 1024) c.in.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) break;
    ServerEnded(index, true, now_ns);
    return;
  }
  if (!c.in.empty()) {
    Http1Response response;
    bool error = false;
    if (ParseHttp1Response(c.in, eof, &response, &error)) {
      ++a.stats.responses[response.status];
      c.in.clear();
      if (c.awaiting && a.spec.mode == AttackMode::kSurge) {
        RecordPayment(index, response.status, now_ns);
        if (!response.keep_alive || eof) {
          const uint32_t attack = c.attack;
          Close(index);
          ScheduleReopen(attack, now_ns);
          return;
        }
        timers_.push(Timer{now_ns + a.spec.interval_ms * kNsPerMs, index, c.attack, c.generation,
                           TimerKind::kThink});
      } else if (c.awaiting) {
        c.awaiting = false;
        if (a.spec.mode == AttackMode::kInvalid && response.keep_alive && !eof) {
          a.idle.emplace_back(index, c.generation);
        } else if (a.spec.mode == AttackMode::kBigHead || a.spec.mode == AttackMode::kBigBody) {
          // Answered (often before the whole request was sent): next one on a new connection.
          const uint32_t attack = c.attack;
          Close(index);
          ScheduleReopen(attack, now_ns);
          return;
        }
      }
    } else if (error) {
      ++a.stats.responses[0];
      c.in.clear();
    }
  }
  if (eof) ServerEnded(index, false, now_ns);
}

void HostileEngine::ServerEnded(uint32_t index, bool reset, int64_t now_ns) {
  Conn& c = conns_[index];
  Attack& a = attacks_[c.attack];
  ++(reset ? a.stats.server_reset : a.stats.server_closed);
  a.lifetimes_ns.push_back(now_ns - c.opened_ns);
  if (a.spec.mode == AttackMode::kSurge && c.awaiting) RecordPayment(index, -2, now_ns);
  const uint32_t attack = c.attack;
  Close(index);
  if (IsHold(a.spec.mode)) ScheduleReopen(attack, now_ns);
}

void HostileEngine::Reset(uint32_t index) {
  const linger abort{1, 0};
  setsockopt(conns_[index].fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  Close(index);
}

void HostileEngine::Close(uint32_t index) {
  Conn& c = conns_[index];
  if (c.fd < 0) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  close(c.fd);
  c.fd = -1;
  c.out = nullptr;
  c.in.clear();
  ++c.generation;  // its timers and idle entries are stale now
  --attacks_[c.attack].open;
  free_.push_back(index);
}

void HostileEngine::ScheduleReopen(uint32_t attack, int64_t now_ns) {
  if (draining_) return;
  const AttackSpec& spec = attacks_[attack].spec;
  // A surge's user sleeps before its next payment, on a new connection; the others reconnect.
  const int64_t wait_ms = spec.mode == AttackMode::kSurge ? spec.interval_ms : spec.reconnect_ms;
  timers_.push(Timer{now_ns + wait_ms * kNsPerMs, kNoConn, attack, 0});
}

void HostileEngine::SendPayment(uint32_t index, int64_t now_ns) {
  Conn& c = conns_[index];
  Attack& a = attacks_[c.attack];
  c.own = a.surge;
  NewUuid(c.own.data() + a.surge_uuid_offset);
  c.awaiting = true;
  c.sent_ns = now_ns;
  ++c.seq;
  ++surge_awaiting_;
  timers_.push(Timer{now_ns + a.spec.timeout_ms * kNsPerMs, index, c.attack, c.generation,
                     TimerKind::kDeadline, c.seq});
  Queue(index, &c.own, now_ns);
}

void HostileEngine::RecordPayment(uint32_t index, int status, int64_t now_ns) {
  Conn& c = conns_[index];
  Attack& a = attacks_[c.attack];
  c.awaiting = false;
  --surge_awaiting_;
  ++a.stats.requests;
  if (status == -1) ++a.stats.timeouts;
  if (IsSuccess(status)) {
    ++a.stats.ok;
    a.ok_latencies_ns.push_back(now_ns - c.sent_ns);
  }
  SurgeRecord r;
  r.start_us = (c.sent_ns - start_ns_) / 1000;
  r.latency_us = status > 0 ? (now_ns - c.sent_ns) / 1000 : 0;
  r.status = status;
  std::memcpy(r.id, c.own.data() + a.surge_uuid_offset, sizeof(r.id));
  surge_log_.push_back(r);
}

void HostileEngine::NewUuid(char* out) {
  const uint64_t hi = Random(), lo = Random();
  WriteUuidV4(hi, lo, out);
}

void HostileEngine::RunRates(int64_t now_ns) {
  for (uint32_t i = 0; i < attacks_.size(); ++i) {
    Attack& a = attacks_[i];
    if (a.spec.mode != AttackMode::kInvalid && a.spec.mode != AttackMode::kReset) continue;
    int64_t due = (now_ns - start_ns_) / 1000 * a.spec.rate / 1'000'000;
    // More than a second behind (a stall of this process): drop what was missed, no burst.
    if (due - a.rate_done > a.spec.rate) {
      a.stats.skipped += due - a.rate_done - a.spec.rate;
      a.rate_done = due - a.spec.rate;
    }
    while (a.rate_done < due) {
      if (a.spec.mode == AttackMode::kReset) {
        Open(i, now_ns);
        ++a.rate_done;
        continue;
      }
      uint32_t index = kNoConn;
      while (!a.idle.empty()) {
        const auto [candidate, generation] = a.idle.back();
        a.idle.pop_back();
        if (conns_[candidate].fd >= 0 && conns_[candidate].generation == generation) {
          index = candidate;
          break;
        }
      }
      if (index == kNoConn) {
        a.stats.skipped += due - a.rate_done;
        a.rate_done = due;
        break;
      }
      Queue(index, &a.invalid[a.next_invalid++ % a.invalid.size()], now_ns);
      ++a.rate_done;
    }
  }
}

void HostileEngine::Run(int64_t duration_ms) {
  start_ns_ = NowNs();
  const int64_t end_ns = duration_ms > 0 ? start_ns_ + duration_ms * kNsPerMs : INT64_MAX;
  int64_t max_timeout_ms = 0;
  for (uint32_t i = 0; i < attacks_.size(); ++i) {
    if (attacks_[i].spec.mode == AttackMode::kSurge) {
      max_timeout_ms = std::max(max_timeout_ms, attacks_[i].spec.timeout_ms);
    }
    if (!IsHold(attacks_[i].spec.mode)) continue;
    for (int k = 0; k < attacks_[i].spec.conns; ++k) Open(i, start_ns_);
  }
  std::vector<epoll_event> events(1024);
  int64_t drain_until = 0;
  for (;;) {
    int64_t now = NowNs();
    if (!draining_ && (stop_.load() || now >= end_ns)) {
      // As k6 ends a scenario: nothing new starts; payments in flight get their answer (or
      // their timeout), so that none is left unlogged. Every other attack stops at once.
      draining_ = true;
      drain_until = now + max_timeout_ms * kNsPerMs;
      for (Attack& a : attacks_) a.stats.open_at_end = a.open;
      for (uint32_t i = 0; i < conns_.size(); ++i) {
        const Conn& c = conns_[i];
        if (c.fd >= 0 && !(c.awaiting && attacks_[c.attack].spec.mode == AttackMode::kSurge)) {
          Close(i);
        }
      }
    }
    if (draining_ && (surge_awaiting_ == 0 || now >= drain_until)) break;
    if (!draining_) RunRates(now);
    while (!timers_.empty() && timers_.top().at_ns <= now) {
      const Timer t = timers_.top();
      timers_.pop();
      OnTimer(t, now);
    }
    int64_t next = now + 50 * kNsPerMs;  // Stop() is noticed within 50 ms
    if (!draining_) next = std::min(next, end_ns);
    if (!timers_.empty()) next = std::min(next, timers_.top().at_ns);
    for (const Attack& a : attacks_) {
      if (!draining_ &&
          (a.spec.mode == AttackMode::kInvalid || a.spec.mode == AttackMode::kReset)) {
        next = std::min(next, start_ns_ + (a.rate_done + 1) * kNsPerS / a.spec.rate);
      }
    }
    const int timeout_ms =
        static_cast<int>(std::max<int64_t>(0, (next - now + kNsPerMs - 1) / kNsPerMs));
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    now = NowNs();
    for (int i = 0; i < n; ++i) OnEvent(events[i].data.u32, events[i].events, now);
  }
  for (uint32_t i = 0; i < conns_.size(); ++i) {
    // A payment still unanswered after its timeout: the client gave up.
    if (conns_[i].fd >= 0 && conns_[i].awaiting &&
        attacks_[conns_[i].attack].spec.mode == AttackMode::kSurge) {
      RecordPayment(i, -1, NowNs());
    }
    Close(i);
  }
}

std::vector<AttackStats> HostileEngine::Stats() const {
  std::vector<AttackStats> out;
  for (const Attack& a : attacks_) {
    AttackStats s = a.stats;
    std::vector<int64_t> lifetimes = a.lifetimes_ns;
    s.lifetime_p50_ms = PercentileMs(lifetimes, 0.5);
    s.lifetime_max_ms = MaxMs(lifetimes);
    std::vector<int64_t> ok = a.ok_latencies_ns;
    s.ok_p50_ms = PercentileMs(ok, 0.5);
    s.ok_p99_ms = PercentileMs(ok, 0.99);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rinha::contest
