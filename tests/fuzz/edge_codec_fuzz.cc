// libFuzzer target for the edge's request decoding: DecodePayment (POST /payments bodies) and
// ParseSummaryQuery (GET /payments-summary bounds). Beyond "no crash, no sanitizer report", it
// checks the contract the HTTP layer relies on; any violation aborts so libFuzzer keeps the input.
// Built and run by scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/json.h"
#include "common/uuid.h"
#include "edge/payment_codec.h"
#include "payments.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace rinha::edge {
namespace {

void CheckPayment(std::string_view body) {
  rinha::v1::Payment payment;
  const absl::Status status = DecodePayment(body, &payment);
  const int http = HttpStatusForDecodeError(status);
  if (!status.ok()) {
    // Only the two documented error classes, each with its one HTTP code.
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument ||
               status.code() == absl::StatusCode::kFailedPrecondition);
    FUZZ_CHECK(http == (status.code() == absl::StatusCode::kInvalidArgument ? 400 : 422));
    // The error body is valid JSON with one member.
    int members = 0;
    FUZZ_CHECK(ParseJsonObject(ErrorJson(status.message()), [&](std::string_view key,
                                                                const JsonValue& value) {
                 FUZZ_CHECK(key == "error" && value.type == JsonType::kString);
                 ++members;
                 return absl::OkStatus();
               }).ok());
    FUZZ_CHECK(members == 1);
    return;
  }
  // Accepted: what goes to the router is canonical and in range...
  FUZZ_CHECK(IsCanonicalUuid(payment.correlation_id()));
  FUZZ_CHECK(payment.amount_cents() > 0 && payment.amount_cents() <= kMaxAmountCents);
  FUZZ_CHECK(payment.accepted_at_ms() == 0);
  // ...and writing it back as the contest's JSON decodes to the same payment.
  std::string json;
  JsonWriter(&json)
      .BeginObject()
      .Key("correlationId")
      .String(payment.correlation_id())
      .Key("amount")
      .Cents(payment.amount_cents())
      .EndObject();
  rinha::v1::Payment again;
  FUZZ_CHECK(DecodePayment(json, &again).ok());
  FUZZ_CHECK(again.correlation_id() == payment.correlation_id());
  FUZZ_CHECK(again.amount_cents() == payment.amount_cents());
}

void CheckSummaryQuery(std::string_view text) {
  // The input split at its first '&' into the two bounds, as a query string would carry them.
  const size_t amp = text.find('&');
  const std::string_view from = text.substr(0, amp);
  const std::optional<std::string_view> to =
      amp == std::string_view::npos ? std::nullopt
                                    : std::optional<std::string_view>(text.substr(amp + 1));
  const auto request = ParseSummaryQuery(from, to);
  if (!request.ok()) {
    FUZZ_CHECK(request.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  // An empty bound is unbounded; a present one is set.
  FUZZ_CHECK(request->has_from_ms() == !from.empty());
  FUZZ_CHECK(request->has_to_ms() == (to.has_value() && !to->empty()));
  // The same text as both bounds never yields an inverted window of more than one millisecond's
  // rounding (from rounds up, to rounds down).
  if (!from.empty()) {
    const auto same = ParseSummaryQuery(from, from);
    FUZZ_CHECK(same.ok() && same->from_ms() - same->to_ms() <= 1 &&
               same->from_ms() >= same->to_ms());
  }
}

}  // namespace
}  // namespace rinha::edge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  rinha::edge::CheckPayment(text);
  rinha::edge::CheckSummaryQuery(text);
  return 0;
}
