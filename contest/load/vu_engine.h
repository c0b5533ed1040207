// The virtual users of the official k6 test on one epoll thread: each VU owns one keep-alive TCP
// connection and loops "POST /payments with a fresh UUID v4, wait for the answer (at most the
// client timeout), sleep 1 s"; VUs are added on k6's linear ramp. Latency is measured with the
// monotonic clock from the first byte written to the last byte of the answer, as k6's
// http_req_duration (connect time excluded).
//
// Hot path: no allocation per request (each VU rewrites the UUID inside its own request buffer),
// no logging, timers in two FIFO queues (every sleep and every timeout has the same length, so
// their expiry order is their start order).
//
// Threading: Run() on one thread; Stop(), Live() and Seconds() from any thread.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rinha::contest {

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 9999;
  int64_t duration_ms = 300'000;
  int max_vus = 603;
  int64_t amount_cents = 2005;
  int64_t timeout_ms = 1500;  // the official client timeout: a slower answer is a failure
  int64_t think_ms = 1000;    // sleep(1) after each request
  // Keep one RequestRecord per request (LoadTotals::requests_log), for harnesses that check
  // every payment's fate.
  bool log_requests = false;
};

// One request, as the client saw it.
struct RequestRecord {
  int64_t start_us = 0;    // steady time since the load started, when the iteration began
  int64_t latency_us = 0;  // first byte written to last byte read (0 when nothing came back)
  int status = 0;          // the HTTP status; kTimedOut or kNoAnswer otherwise
  char id[36] = {};        // the correlationId sent
  static constexpr int kTimedOut = -1;
  static constexpr int kNoAnswer = -2;  // refused, reset, malformed answer
};

// One second of the run (t_s = 1 covers [0 s, 1 s)), counted when requests complete.
struct SecondStats {
  int64_t t_s = 0;
  int vus = 0;
  int64_t requests = 0;
  int64_t ok = 0;
  int64_t failed = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

struct LoadTotals {
  int64_t requests = 0;
  int64_t ok = 0;        // 200, 201, 202, 204 within the timeout
  int64_t failed = 0;    // everything else
  int64_t timeouts = 0;  // of failed: no complete answer within the timeout
  int64_t errors = 0;    // of failed: connect refused, reset, malformed answer
  int64_t non_2xx = 0;   // of failed: answered with another status
  int64_t connections_opened = 0;
  int64_t last_finish_ns = 0;            // steady time the last request ended (its VU then sleeps)
  std::vector<int64_t> ok_latencies_ns;  // every successful request
  std::vector<RequestRecord> requests_log;  // with LoadOptions::log_requests
};

// What the progress line shows; refreshed once a second.
struct LiveStatus {
  int64_t elapsed_s = 0;
  int vus = 0;
  int64_t requests = 0;
  int64_t ok = 0;
  int64_t failed = 0;
  double last_second_rate = 0;
  double p99_ms_so_far = 0;
};

class LoadEngine {
 public:
  static absl::StatusOr<std::unique_ptr<LoadEngine>> Create(const LoadOptions& options);
  ~LoadEngine();
  LoadEngine(const LoadEngine&) = delete;
  LoadEngine& operator=(const LoadEngine&) = delete;

  // Starts the ramp at steady-clock time `start_ns` (waits for it) and returns when the duration
  // has passed and every request in flight has finished (or timed out), or soon after Stop().
  LoadTotals Run(int64_t start_ns);
  void Stop();

  LiveStatus Live() const;
  std::vector<SecondStats> Seconds() const;

 private:
  struct Vu;
  struct Timer {
    int64_t at_ns;
    uint32_t vu;
    uint64_t iteration;
  };

  explicit LoadEngine(const LoadOptions& options);
  void StartIteration(uint32_t index, int64_t now_ns);
  void Connect(Vu& vu, uint32_t index, int64_t now_ns);
  void SendRequest(Vu& vu, uint32_t index, int64_t now_ns);
  void OnEvent(uint32_t index, uint32_t events, int64_t now_ns);
  void OnReadable(Vu& vu, uint32_t index, int64_t now_ns);
  // A request on a reused connection whose write failed with nothing written: the server had
  // closed the idle connection. Resent once on a new connection, as Go's HTTP client (k6) does
  // for a request with a rewindable body; once written, a POST is never resent.
  bool RetryOnFreshConnection(Vu& vu, uint32_t index, int64_t now_ns);
  enum class Outcome { kOk, kNon2xx, kTimeout, kError };
  // `status`: the answer's HTTP status (0 without one).
  void Finish(Vu& vu, uint32_t index, Outcome outcome, int64_t now_ns, bool keep_connection,
              int status = 0);
  void CloseConnection(Vu& vu);
  void FlushSeconds(int64_t now_ns, bool final);
  void NewUuid(char* out);

  const LoadOptions options_;
  sockaddr_in addr_{};
  int epoll_fd_ = -1;
  std::atomic<bool> stop_{false};
  int64_t start_ns_ = 0;
  std::vector<std::unique_ptr<Vu>> vus_;
  std::string request_template_;
  size_t uuid_offset_ = 0;
  std::deque<Timer> sleeping_;   // wake-up order
  std::deque<Timer> deadlines_;  // timeout order
  int in_flight_ = 0;
  uint64_t rng_[4] = {};

  LoadTotals totals_;
  int64_t current_second_ = 0;  // index of the second being counted (0-based)
  std::vector<int64_t> second_latencies_;
  SecondStats second_;

  mutable std::mutex mu_;  // guards live_ and seconds_
  LiveStatus live_;
  std::vector<SecondStats> seconds_;
};

}  // namespace rinha::contest
