// The emulated payment processor's endpoints, independent of the HTTP library: each method takes
// what the request carried and returns the status, body and headers to answer with. Behaviour
// and answers follow the official processor (docs/contest.md, "The processors" and "The exact
// answers"); processor/dotnet_wire.h reads and prints values as its .NET stack does.
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

// The Content-Type of the official's JSON answers (ASP.NET Core's Results.Ok and friends).
inline constexpr char kJsonContentType[] = "application/json; charset=utf-8";

// An answer as the official processor gives it; the front frames it as Kestrel does
// (FormatReply in processor_server.h: a body is sent chunked, no body with Content-Length: 0).
struct HttpReply {
  int status = 200;
  std::string body;  // empty: none
  // The body's Content-Type (kJsonContentType for JSON); empty: no Content-Type header.
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Retry-After, Allow
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

  // Every answer is the official's, status, headers and body (docs/contest.md, "The exact
  // answers"). `content_type` is the request's Content-Type header (nullopt when absent): a body
  // is bound only from JSON (415 otherwise); binding comes before the token check (400 before
  // 401), as ASP.NET binds an endpoint's parameters before its filters run.

  // POST /payments: limiter (429) -> body binding (415, 400; missing members take .NET's
  // defaults) -> delay -> failure (500, empty body, nothing stored) -> insert (422 on a
  // duplicate) -> 200. The insert does not depend on the caller still being connected. A fault
  // mode (fault.h) answers 429 before the limiter or changes the answer after the insert;
  // without one the path is exactly the above.
  HttpReply PostPayment(std::string_view body,
                        std::optional<std::string_view> content_type = "application/json");
  // GET /payments/{id}: shares the limiter; never delayed, never failing. 400 when `id` is not a
  // Guid (any of .NET's forms), 404 when not stored.
  HttpReply GetPayment(std::string_view id);
  // GET /payments/service-health.
  HttpReply GetHealth();

  // Admin endpoints; `token` is the X-Rinha-Token header (nullopt when absent).
  // `from`/`to` as ASP.NET binds DateTime? from the query: missing or empty is null (every row),
  // unparseable is 400 whatever the token.
  HttpReply AdminSummary(std::optional<std::string_view> token,
                         std::optional<std::string_view> from, std::optional<std::string_view> to);
  // GET /admin/payments/ids: the stored correlation ids as a sorted JSON array of strings; `from`
  // and `to` as for AdminSummary. With `with` = "inserted_at": an array of
  // {"correlationId":"...","insertedAtMs":N} (N: the emulator's wall clock at the insert), sorted
  // by id; another non-empty `with` is 400. Not an official endpoint: for fault and crash tests.
  HttpReply AdminPaymentIds(std::optional<std::string_view> token,
                            std::optional<std::string_view> from,
                            std::optional<std::string_view> to,
                            std::optional<std::string_view> with = std::nullopt);
  // GET /admin/health-calls (not an official endpoint): what GET /payments/service-health
  // received since the start, all callers together:
  // {"calls":N,"queued":Q,"rejected":R,"maxPerWindow":M,"windowMs":W}; queued: calls that came
  // while their window's call was taken (answered in a later window), rejected: 429s,
  // maxPerWindow: the most calls that arrived within one window. For measuring whether clients
  // keep to the budget of one call per window.
  HttpReply AdminHealthCalls(std::optional<std::string_view> token);
  HttpReply AdminSetToken(std::optional<std::string_view> token, std::string_view body,
                          std::optional<std::string_view> content_type = "application/json");
  HttpReply AdminSetDelay(std::optional<std::string_view> token, std::string_view body,
                          std::optional<std::string_view> content_type = "application/json");
  HttpReply AdminSetFailure(std::optional<std::string_view> token, std::string_view body,
                            std::optional<std::string_view> content_type = "application/json");
  HttpReply AdminPurge(std::optional<std::string_view> token);
  // PUT /admin/configurations/fault (not an official endpoint): ParseFault's JSON, whatever the
  // Content-Type; 200 with {"config":"fault","was":{..},"is":{..}}, 400 on a bad body. refuse is
  // not kept as the mode: its reply asks the front to refuse (kThenRefuse), and the mode is none
  // when it listens again.
  HttpReply AdminSetFault(std::optional<std::string_view> token, std::string_view body);

  // Sleeps on the injected clock; false when Shutdown() cut it short. For the front's dripping
  // answers.
  bool Pause(absl::Duration d) { return WaitUntil(clock_.Now() + d); }

  // Makes waiting requests give up (503) within options.shutdown_poll, so the server can stop.
  void Shutdown() { shutting_down_.store(true); }

  // The rate limiters' rejection (the official's OnRejected): 429, `Retry-After` the health
  // window in seconds (its RATE_LIMIT_SECONDS, rounded up), a plain-text body. Also what the
  // front answers when every worker slot is taken.
  HttpReply TooManyRequests() const;

  const FifoConcurrencyLimiter& limiter() const { return limiter_; }
  const PaymentStore& store() const { return store_; }

 private:
  // False when Shutdown() interrupted the wait.
  bool WaitUntil(absl::Time deadline);
  // The answer of a stored (or already stored) payment under `fault`.
  static HttpReply FaultyAnswer(const Fault& fault, bool inserted, std::string_view correlation_id);

  Clock& clock_;
  const ProcessorOptions options_;
  RuntimeConfig config_;
  FifoConcurrencyLimiter limiter_;
  FixedWindowRateLimiter health_limiter_;
  PaymentStore store_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace rinha::processor
