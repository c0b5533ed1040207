// The edge's HTTP codec: JSON request bodies, query strings and path ids in, protobuf out, and
// the summary and payment status JSON back. The only place where the JSON field names live.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "payments.pb.h"

namespace rinha::edge {

// Largest accepted amount: 1,000,000,000.00. Far above any real payment, and small enough that
// the sum of ten million of them still fits in int64 cents with room to spare.
inline constexpr int64_t kMaxAmountCents = 100'000'000'000;

// Decodes a POST /payments body into `payment` (correlation_id canonical lower-case UUID,
// amount_cents; accepted_at_ms untouched). Other members are ignored.
// Errors (one mapping to HTTP, see HttpStatusForDecodeError):
//   InvalidArgument     the body is not one well-formed JSON object (garbage, trailing bytes,
//                       duplicate keys, invalid UTF-8) -> 400;
//   FailedPrecondition  well-formed, but correlationId/amount missing, of the wrong JSON type,
//                       not a UUID, not a positive amount with at most two decimals, or above
//                       kMaxAmountCents -> 422.
// No allocation on the success path beyond the id string of `payment`.
absl::Status DecodePayment(std::string_view body, rinha::v1::Payment* payment);

// 400 or 422 as documented above; 400 for any other non-OK status.
int HttpStatusForDecodeError(const absl::Status& status);

// Builds the ledger query from GET /payments-summary's `from`/`to` parameters (absent or empty:
// unbounded). A bound is an ISO-8601/RFC 3339 timestamp, with or without fractional seconds;
// a bound without a zone is read as UTC. `from` rounds up and `to` rounds down to the
// millisecond, so the inclusive window never grows. InvalidArgument (-> 400) when unparsable.
absl::StatusOr<rinha::v1::SummaryRequest> ParseSummaryQuery(std::optional<std::string_view> from,
                                                            std::optional<std::string_view> to);

// Appends {"default":{"totalRequests":N,"totalAmount":X.YY},"fallback":{...}} (the contest's
// exact shape; amounts always with two decimals).
void AppendSummaryJson(const rinha::v1::SummaryResponse& summary, std::string* out);

// {"error":"<message>"}, the message JSON-escaped.
std::string ErrorJson(absl::string_view message);

// The {id} of GET /payments/{id}: any case of a UUID, returned canonical (lower-case);
// InvalidArgument (-> 400) otherwise.
absl::StatusOr<std::string> ParsePaymentId(std::string_view text);

// Where a payment is, as GET /payments/{id} says it ("status" in its JSON).
enum class PaymentStage {
  kAccepted,    // held by this edge, not yet taken by the router
  kQueued,      // router: waiting for a processor
  kInFlight,    // router: a POST of it in flight
  kAmbiguous,   // router: a processor may hold it; being looked up
  kRecovering,  // router: taken over from its earlier run, being looked up
  kSettling,    // router: paid at a processor; the ledger has no row yet
  kSettled,     // ledger: recorded
};

// The stage of a router's pending state; nullopt for STATE_UNKNOWN and STATE_SETTLED.
std::optional<PaymentStage> PendingStage(rinha::v1::PaymentStatus::State state);

// Appends the answer of GET /payments/{id}:
//   {"correlationId":"...","status":"accepted|queued|in_flight|ambiguous|recovering|settling|
//    settled","processor":"default|fallback","alsoHeldBy":"default|fallback","amount":19.90,
//    "requestedAt":"2025-07-15T12:34:56.000Z","pendingMs":12}
// `details` is what the router (pending stages) or the ledger (kSettled) said; a member is
// written only when known: processor and alsoHeldBy when specified, amount when positive,
// requestedAt when settled, pendingMs in the router's pending stages.
void AppendPaymentStatusJson(std::string_view correlation_id, PaymentStage stage,
                             const rinha::v1::PaymentStatus& details, std::string* out);

}  // namespace rinha::edge
