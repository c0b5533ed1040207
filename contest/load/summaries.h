// The three summaries the official test reads (ours and both processors' admin summaries): parsing
// their JSON and the audit's inconsistency count. A summary that fails (error, non-200, bad JSON,
// over the timeout) reads as zeros, as in the official requests.js.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "contest/load/score.h"

namespace rinha::contest {

// GET /payments-summary of the backend under test.
struct BackendSummary {
  int64_t default_requests = 0;
  int64_t default_amount_cents = 0;
  int64_t fallback_requests = 0;
  int64_t fallback_amount_cents = 0;
};

// {"default": {"totalRequests": N, "totalAmount": X}, "fallback": {...}}; other members ignored.
absl::StatusOr<BackendSummary> ParseBackendSummary(std::string_view json);

// GET /admin/payments-summary of a processor:
// {"totalAmount": X, "totalRequests": N, "totalFee": F, "feePerTransaction": R}.
absl::StatusOr<ProcessorTotals> ParseProcessorSummary(std::string_view json);

// |ours.default - default| + |ours.fallback - fallback| (request counts), as the official audit.
int64_t AuditInconsistencies(const BackendSummary& ours, const ProcessorTotals& default_totals,
                             const ProcessorTotals& fallback_totals);

}  // namespace rinha::contest
