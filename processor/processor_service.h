// The emulated payment processor's endpoints, independent of the HTTP library: each method takes
// what the request carried and returns the status, body and headers to answer with. Behaviour
// follows the official processor (see shared/docs/contest.md, "The payment processors").
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/fee_rate.h"
#include "processor/concurrency_limiter.h"
#include "processor/fault.h"
#include "processor/health_rate_limiter.h"
#include "processor/payment_store.h"
#include "processor/runtime_config.h"

namespace rinha::processor {

// How the HTTP front writes a reply. Anything but kWhole is a fault mode at work (fault.h).
enum class Delivery {
  kWhole,
  kResetInHead,    // the first half of the head, then a TCP reset
  kTruncatedBody,  // the head and half the body, then a clean close
  kDripHead,       // the head one byte per `pace`, then the body
  kThenRefuse,     // the whole reply, then no listener and no connection for `pace`
};

struct HttpReply {
  int status = 200;
  std::string body;  // JSON, or empty
  std::vector<std::pair<std::string, std::string>> headers;
  Delivery delivery = Delivery::kWhole;
  absl::Duration pace = absl::ZeroDuration();
};

struct ProcessorOptions {
  FeeRate fee{7, 2};
  std::string token = "123";
  int64_t initial_delay_ms = 0;
  bool initial_failure = false;
  absl::Duration health_window = absl::Seconds(5);
  int health_max_queued = 2;
  int max_in_flight = 800;
  int max_queued = 500;
  // A fault mode from the start (--fault), as if set through the admin endpoint.
  Fault initial_fault;
  // Long waits (delay, queued health checks) wake at least this often to notice Shutdown().
  absl::Duration shutdown_poll = absl::Seconds(1);
};

// Thread-safe: every method may be called from any request thread at once. Methods that wait
// (PostPayment, GetPayment, GetHealth) block the calling thread for the limiter, the configured
// delay or the health window; they measure and wait only through the injected Clock.
class ProcessorService {
 public:
  ProcessorService(Clock& clock, ProcessorOptions options);

  // POST /payments: limiter -> body validation (400) -> delay -> failure (500, empty body,
  // nothing stored) -> insert (422 on a duplicate) -> 200. The insert does not depend on the
  // caller still being connected. A fault mode (fault.h) answers 429 before the limiter or
  // changes the answer after the insert; without one the path is exactly the above.
  HttpReply PostPayment(std::string_view body);
  // GET /payments/{id}: shares the limiter; never delayed, never failing.
  HttpReply GetPayment(std::string_view id);
  // GET /payments/service-health.
  HttpReply GetHealth();

  // Admin endpoints; `token` is the X-Rinha-Token header (nullopt when absent).
  HttpReply AdminSummary(std::optional<std::string_view> token,
                         std::optional<std::string_view> from, std::optional<std::string_view> to);
  // GET /admin/payments/ids: the stored correlation ids as a sorted JSON array of strings; `from`
  // and `to` as for AdminSummary. Not an official endpoint: for fault and crash tests.
  HttpReply AdminPaymentIds(std::optional<std::string_view> token,
                            std::optional<std::string_view> from,
                            std::optional<std::string_view> to);
  HttpReply AdminSetToken(std::optional<std::string_view> token, std::string_view body);
  HttpReply AdminSetDelay(std::optional<std::string_view> token, std::string_view body);
  HttpReply AdminSetFailure(std::optional<std::string_view> token, std::string_view body);
  HttpReply AdminPurge(std::optional<std::string_view> token);
  // PUT /admin/configurations/fault (not an official endpoint): ParseFault's JSON; 200 with
  // {"config":"fault","was":{..},"is":{..}}, 400 on a bad body. refuse is not kept as the mode:
  // its reply asks the front to refuse (kThenRefuse), and the mode is none when it listens again.
  HttpReply AdminSetFault(std::optional<std::string_view> token, std::string_view body);

  // Sleeps on the injected clock; false when Shutdown() cut it short. For the front's dripping
  // answers.
  bool Pause(absl::Duration d) { return WaitUntil(clock_.Now() + d); }

  // Makes waiting requests give up (503) within options.shutdown_poll, so the server can stop.
  void Shutdown() { shutting_down_.store(true); }

  const FifoConcurrencyLimiter& limiter() const { return limiter_; }
  const PaymentStore& store() const { return store_; }

 private:
  // False when Shutdown() interrupted the wait.
  bool WaitUntil(absl::Time deadline);
  // The answer of a stored (or already stored) payment under `fault`.
  static HttpReply FaultyAnswer(const Fault& fault, bool inserted);

  Clock& clock_;
  const ProcessorOptions options_;
  RuntimeConfig config_;
  FifoConcurrencyLimiter limiter_;
  FixedWindowRateLimiter health_limiter_;
  PaymentStore store_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace rinha::processor
