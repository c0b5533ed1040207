// Blocking HTTP for the control work of a contest run (setup, instability timeline, audits,
// teardown), as the official test's requests.js does it: admin calls with the X-Rinha-Token
// header, summaries that read as zeros when they fail. cpp-httplib, one short-lived client per
// call: these are a few requests a second at most, far from the VUs' hot path.
//
// Threading: every method may be called from any thread, concurrently.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "contest/load/summaries.h"

namespace rinha::contest {

enum class Processor { kDefault, kFallback };
const char* ProcessorName(Processor p);

struct HttpEndpoint {
  std::string host;
  int port = 0;
};
// "http://host:port" -> endpoint; InvalidArgument otherwise.
absl::StatusOr<HttpEndpoint> ParseEndpoint(const std::string& url);

class ContestHttp {
 public:
  ContestHttp(HttpEndpoint target, HttpEndpoint default_processor, HttpEndpoint fallback_processor,
              std::string admin_token, int64_t timeout_ms = 1500, int64_t admin_timeout_ms = 5000);

  // POST /purge-payments on the target; the official test ignores the answer, so does this.
  void PurgeTarget() const;
  // Waits until GET /payments-summary answers below 400 (the official runner's readiness check);
  // Unavailable with the last status seen when it does not within `timeout_ms`.
  absl::Status WaitTargetReady(int64_t timeout_ms) const;

  // Admin calls: FailedPrecondition with a clear message when the code is not the contest's
  // (200), as the official test aborts then.
  absl::Status PurgeProcessor(Processor p) const;
  absl::Status SetDelay(Processor p, int delay_ms) const;
  absl::Status SetFailure(Processor p, bool failure) const;

  // Summaries over [from_ms, to_ms] (ISO UTC milliseconds). An error, a non-200 answer, bad JSON
  // or an answer slower than the timeout is an error status; callers read it as zeros.
  absl::StatusOr<ProcessorTotals> ProcessorSummary(Processor p, int64_t from_ms,
                                                   int64_t to_ms) const;
  absl::StatusOr<BackendSummary> TargetSummary(int64_t from_ms, int64_t to_ms) const;

  // Every correlation id the processor holds with when it inserted each, as the JSON array our
  // emulator's GET /admin/payments/ids?with=inserted_at answers (ParseProcessorIds reads it, and
  // the plain array of ids of an emulator without the times). The official processors have no
  // such endpoint.
  absl::StatusOr<std::string> ProcessorIdsJson(Processor p) const;

 private:
  const HttpEndpoint& Of(Processor p) const;
  absl::Status AdminCall(Processor p, const char* method, const std::string& path,
                         const std::string& body, int expected_status) const;

  const HttpEndpoint target_;
  const HttpEndpoint default_;
  const HttpEndpoint fallback_;
  const std::string token_;
  const int64_t timeout_ms_;
  const int64_t admin_timeout_ms_;
};

}  // namespace rinha::contest
