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
  // A missing zone ("2025-07-15T12:34:56.000") reads as UTC: a 400 here would read as a zero
  // summary to the auditor, which costs far more than leniency.
  absl::StatusOr<absl::Time> t = ParseIsoTime(text, IsoZone::kAbsentIsUtc);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(is_from ? "from" : "to", ": not an ISO-8601 UTC timestamp"));
  }
  return is_from ? CeilMillis(*t) : FloorMillis(*t);
}

const char* ProcessorName(rinha::v1::Processor processor) {
  switch (processor) {
    case rinha::v1::PROCESSOR_DEFAULT:
      return "default";
    case rinha::v1::PROCESSOR_FALLBACK:
      return "fallback";
    default:
      return nullptr;
  }
}

const char* StageName(PaymentStage stage) {
  switch (stage) {
    case PaymentStage::kAccepted:
      return "accepted";
    case PaymentStage::kQueued:
      return "queued";
    case PaymentStage::kInFlight:
      return "in_flight";
    case PaymentStage::kAmbiguous:
      return "ambiguous";
    case PaymentStage::kRecovering:
      return "recovering";
    case PaymentStage::kSettling:
      return "settling";
    case PaymentStage::kSettled:
      return "settled";
  }
  return "unknown";
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

absl::StatusOr<std::string> ParsePaymentId(std::string_view text) {
  absl::StatusOr<std::string> id = CanonicalUuid(text);
  if (!id.ok()) return absl::InvalidArgumentError("the payment id must be a UUID");
  return id;
}

std::optional<PaymentStage> PendingStage(rinha::v1::PaymentStatus::State state) {
  switch (state) {
    case rinha::v1::PaymentStatus::STATE_QUEUED:
      return PaymentStage::kQueued;
    case rinha::v1::PaymentStatus::STATE_IN_FLIGHT:
      return PaymentStage::kInFlight;
    case rinha::v1::PaymentStatus::STATE_AMBIGUOUS:
      return PaymentStage::kAmbiguous;
    case rinha::v1::PaymentStatus::STATE_RECOVERING:
      return PaymentStage::kRecovering;
    default:
      return std::nullopt;
  }
}

void AppendPaymentStatusJson(std::string_view correlation_id, PaymentStage stage,
                             const rinha::v1::PaymentStatus& details, std::string* out) {
  JsonWriter w(out);
  w.BeginObject()
      .Key("correlationId")
      .String(correlation_id)
      .Key("status")
      .String(StageName(stage));
  if (const char* name = ProcessorName(details.processor())) w.Key("processor").String(name);
  if (const char* name = ProcessorName(details.also_held_by())) w.Key("alsoHeldBy").String(name);
  if (details.amount_cents() > 0) w.Key("amount").Cents(details.amount_cents());
  if (stage == PaymentStage::kSettled) w.Key("requestedAt").IsoMillis(details.requested_at_ms());
  if (PendingStage(details.state()) == stage) w.Key("pendingMs").Int(details.pending_ms());
  w.EndObject();
}

}  // namespace rinha::edge
