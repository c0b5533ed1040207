// rinha-hostile's engine: every attack of a run on one epoll thread, as rinha-load drives its
// virtual users. Hold attacks (slow-head, slow-body, half-open, idle, big-head, big-body,
// invalid) keep `conns` connections open, opening a new one reconnect_ms after the server ends
// one; rate attacks (invalid's requests, reset's connections) keep to their rate by catching up
// with what is due on each loop turn. A surge's virtual users loop as k6's (a payment, its
// answer or timeout, sleep); each payment is logged.
//
// Threading: Run() on one thread; Stop() from any thread; Stats() after Run() returned.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "contest/hostile/attack.h"

namespace rinha::contest {

struct HostileOptions {
  std::string host = "127.0.0.1";
  int port = 9999;
  std::vector<AttackSpec> attacks;
  uint64_t seed = 0;  // 0: random
};

// One surge payment, as rinha-load logs its own (--requests_out).
struct SurgeRecord {
  int64_t start_us = 0;    // since Run() began
  int64_t latency_us = 0;  // first byte written to last byte read (0 without an answer)
  int status = 0;          // HTTP status; -1 timed out, -2 no answer (closed, reset)
  char id[36] = {};
};

struct AttackStats {
  std::string spec;
  int64_t opened = 0;          // connections opened (connect issued)
  int64_t connect_errors = 0;  // refused, reset or failed connects
  int64_t requests = 0;        // requests (or heads) written whole
  int64_t bytes_sent = 0;
  int64_t server_closed = 0;  // connections the server ended with a FIN
  int64_t server_reset = 0;   // ... with a reset (or a failed write)
  int64_t resets_sent = 0;    // connections this tool reset (reset attack)
  int64_t skipped = 0;        // rate attacks: sends due while no connection was free
  int64_t open_at_end = 0;
  // Surge: answers 200/201/202/204 within the timeout, timeouts, and the answers' latency.
  int64_t ok = 0;
  int64_t timeouts = 0;
  double ok_p50_ms = 0;
  double ok_p99_ms = 0;
  std::map<int, int64_t> responses;  // answers by status (0: not HTTP)
  // How long the server kept each connection it ended, from the connect, in ms.
  double lifetime_p50_ms = 0;
  double lifetime_max_ms = 0;
};

class HostileEngine {
 public:
  static absl::StatusOr<std::unique_ptr<HostileEngine>> Create(const HostileOptions& options);
  ~HostileEngine();
  HostileEngine(const HostileEngine&) = delete;
  HostileEngine& operator=(const HostileEngine&) = delete;

  // Runs until `duration_ms` has passed (<= 0: until Stop()), then lets surge payments in flight
  // finish (at most their timeout); closes every connection.
  void Run(int64_t duration_ms);
  void Stop() { stop_.store(true); }
  std::vector<AttackStats> Stats() const;
  // Every surge payment sent, in completion order.
  const std::vector<SurgeRecord>& surge_log() const { return surge_log_; }

 private:
  struct Conn;
  struct Attack;
  enum class TimerKind : uint8_t { kDrip, kDeadline, kThink };
  struct Timer {
    int64_t at_ns;
    uint32_t conn;  // kNoConn: open a connection for `attack`
    uint32_t attack;
    uint64_t generation;
    TimerKind kind = TimerKind::kDrip;
    uint64_t seq = 0;  // kDeadline: which request of the connection
    bool operator>(const Timer& o) const { return at_ns > o.at_ns; }
  };
  static constexpr uint32_t kNoConn = UINT32_MAX;

  explicit HostileEngine(const HostileOptions& options);
  void Open(uint32_t attack, int64_t now_ns);
  void OnConnected(uint32_t index, int64_t now_ns);
  void OnEvent(uint32_t index, uint32_t events, int64_t now_ns);
  void OnTimer(const Timer& t, int64_t now_ns);
  void Queue(uint32_t index, const std::string* bytes, int64_t now_ns);
  void Flush(uint32_t index, int64_t now_ns);
  void OnWritten(uint32_t index, int64_t now_ns);
  void OnReadable(uint32_t index, int64_t now_ns);
  // The server ended the connection (reset: with a reset or a failed write).
  void ServerEnded(uint32_t index, bool reset, int64_t now_ns);
  void Reset(uint32_t index);
  void Close(uint32_t index);
  void ScheduleReopen(uint32_t attack, int64_t now_ns);
  void SendPayment(uint32_t index, int64_t now_ns);
  // The surge payment on `index` ended with `status` (see SurgeRecord).
  void RecordPayment(uint32_t index, int status, int64_t now_ns);
  void NewUuid(char* out);
  void RunRates(int64_t now_ns);
  void SetEvents(uint32_t index, bool want_write);
  uint64_t Random();

  const HostileOptions options_;
  sockaddr_in addr_{};
  int epoll_fd_ = -1;
  std::atomic<bool> stop_{false};
  int64_t start_ns_ = 0;
  std::vector<Conn> conns_;
  std::vector<uint32_t> free_;
  std::vector<Attack> attacks_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  uint64_t rng_ = 0;
  bool draining_ = false;  // the run has ended: surge payments in flight get their answers
  int64_t surge_awaiting_ = 0;
  std::vector<SurgeRecord> surge_log_;
};

}  // namespace rinha::contest
