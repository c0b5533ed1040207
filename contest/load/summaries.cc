#include "contest/load/summaries.h"

#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/fee_rate.h"
#include "common/json.h"
#include "common/money.h"

namespace rinha::contest {
namespace {

absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status ParseCount(const JsonValue& value, int64_t* out) {
  if (value.type != JsonType::kNumber || !absl::SimpleAtoi(A(value.raw), out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an integer count: ", std::string(value.raw)));
  }
  return absl::OkStatus();
}

absl::Status ParseAmount(const JsonValue& value, int64_t* out) {
  if (value.type != JsonType::kNumber) return absl::InvalidArgumentError("amount is not a number");
  absl::StatusOr<int64_t> cents = ParseDecimalCents(value.raw, CentsRounding::kHalfEven);
  if (!cents.ok()) return cents.status();
  *out = *cents;
  return absl::OkStatus();
}

absl::Status ParseBucket(std::string_view json, int64_t* requests, int64_t* amount_cents) {
  return ParseJsonObject(json, [&](std::string_view key, const JsonValue& value) {
    if (key == "totalRequests") return ParseCount(value, requests);
    if (key == "totalAmount") return ParseAmount(value, amount_cents);
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<BackendSummary> ParseBackendSummary(std::string_view json) {
  BackendSummary s;
  bool seen_default = false, seen_fallback = false;
  absl::Status status = ParseJsonObject(json, [&](std::string_view key, const JsonValue& value) {
    if (key != "default" && key != "fallback") return absl::OkStatus();
    if (value.type != JsonType::kObject)
      return absl::InvalidArgumentError("bucket is not an object");
    if (key == "default") {
      seen_default = true;
      return ParseBucket(value.raw, &s.default_requests, &s.default_amount_cents);
    }
    seen_fallback = true;
    return ParseBucket(value.raw, &s.fallback_requests, &s.fallback_amount_cents);
  });
  if (!status.ok()) return status;
  if (!seen_default || !seen_fallback) {
    return absl::InvalidArgumentError("summary lacks default or fallback");
  }
  return s;
}

absl::StatusOr<ProcessorTotals> ParseProcessorSummary(std::string_view json) {
  ProcessorTotals t;
  bool seen_requests = false;
  absl::Status status = ParseJsonObject(json, [&](std::string_view key, const JsonValue& value) {
    if (key == "totalRequests") {
      seen_requests = true;
      return ParseCount(value, &t.requests);
    }
    if (key == "totalAmount") return ParseAmount(value, &t.amount_cents);
    if (key == "feePerTransaction") {
      if (value.type != JsonType::kNumber) return absl::InvalidArgumentError("fee is not a number");
      absl::StatusOr<FeeRate> rate = ParseFeeRate(value.raw);
      if (!rate.ok()) return rate.status();
      t.rate_units = rate->units;
      t.rate_scale = rate->scale;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!seen_requests) return absl::InvalidArgumentError("summary lacks totalRequests");
  return t;
}

int64_t AuditInconsistencies(const BackendSummary& ours, const ProcessorTotals& default_totals,
                             const ProcessorTotals& fallback_totals) {
  return std::llabs(ours.default_requests - default_totals.requests) +
         std::llabs(ours.fallback_requests - fallback_totals.requests);
}

}  // namespace rinha::contest
