#include "processor/processor_service.h"

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/iso_time.h"
#include "common/json.h"
#include "common/money.h"
#include "common/uuid.h"

namespace rinha::processor {
namespace {

HttpReply Empty(int status) { return HttpReply{status, "", {}}; }

HttpReply Json(int status, std::string body) { return HttpReply{status, std::move(body), {}}; }

HttpReply BadRequest(std::string_view reason) {
  std::string body;
  JsonWriter(&body).BeginObject().Key("error").String(reason).EndObject();
  return Json(400, std::move(body));
}

HttpReply TooManyRequests() { return HttpReply{429, "", {{"Retry-After", "5"}}}; }

HttpReply ShuttingDown() { return Empty(503); }

HttpReply Message(int status, std::string_view message) {
  std::string body;
  JsonWriter(&body).BeginObject().Key("message").String(message).EndObject();
  return Json(status, std::move(body));
}

HttpReply Processed() { return Message(200, "payment processed successfully"); }
HttpReply Duplicate() { return Message(422, "correlationId already processed"); }

struct PaymentRequest {
  std::optional<std::string> correlation_id;
  std::optional<int64_t> amount_cents;
  std::optional<int64_t> requested_at_ms;
};

absl::StatusOr<Payment> ParsePaymentRequest(std::string_view body) {
  PaymentRequest request;
  absl::Status parsed = ParseJsonObject(
      body, [&request](std::string_view key, const JsonValue& value) -> absl::Status {
        if (key == "correlationId") {
          if (value.type != JsonType::kString) {
            return absl::InvalidArgumentError("correlationId must be a string");
          }
          absl::StatusOr<std::string> id = CanonicalUuid(value.string);
          if (!id.ok()) return absl::InvalidArgumentError("correlationId must be a UUID");
          request.correlation_id = *std::move(id);
        } else if (key == "amount") {
          if (value.type != JsonType::kNumber) {
            return absl::InvalidArgumentError("amount must be a number");
          }
          absl::StatusOr<int64_t> cents = ParseDecimalCents(value.raw, CentsRounding::kHalfEven);
          if (!cents.ok()) return absl::InvalidArgumentError("amount is out of range");
          request.amount_cents = *cents;
        } else if (key == "requestedAt") {
          if (value.type != JsonType::kString) {
            return absl::InvalidArgumentError("requestedAt must be a string");
          }
          absl::StatusOr<absl::Time> at = ParseIsoTime(value.string);
          if (!at.ok()) return absl::InvalidArgumentError("requestedAt must be an ISO timestamp");
          request.requested_at_ms = FloorMillis(*at);
        }
        return absl::OkStatus();
      });
  if (!parsed.ok()) return parsed;
  if (!request.correlation_id || !request.amount_cents || !request.requested_at_ms) {
    return absl::InvalidArgumentError("correlationId, amount and requestedAt are required");
  }
  return Payment{*std::move(request.correlation_id), *request.amount_cents,
                 *request.requested_at_ms};
}

// Reads the single member `key` of an admin body; the visitor checks its type.
absl::Status ParseSingleMember(std::string_view body, std::string_view key,
                               const std::function<absl::Status(const JsonValue&)>& read) {
  bool seen = false;
  absl::Status parsed =
      ParseJsonObject(body, [&](std::string_view k, const JsonValue& value) -> absl::Status {
        if (k != key) return absl::OkStatus();
        seen = true;
        return read(value);
      });
  if (!parsed.ok()) return parsed;
  if (!seen) return absl::InvalidArgumentError(absl::StrCat(std::string(key), " is required"));
  return absl::OkStatus();
}

// An admin summary's bounds, in the official processor's units.
struct Window {
  std::optional<int64_t> from_ms;
  std::optional<int64_t> to_ms;
};

absl::StatusOr<Window> ParseWindow(std::optional<std::string_view> from,
                                   std::optional<std::string_view> to) {
  Window window;
  // An empty parameter ("?from=") binds to null, like a missing one.
  if (from.has_value() && !from->empty()) {
    absl::StatusOr<absl::Time> t = ParseIsoTime(*from);
    if (!t.ok()) return absl::InvalidArgumentError("from must be an ISO timestamp");
    window.from_ms = CeilMillis(*t);
  }
  if (to.has_value() && !to->empty()) {
    absl::StatusOr<absl::Time> t = ParseIsoTime(*to);
    if (!t.ok()) return absl::InvalidArgumentError("to must be an ISO timestamp");
    window.to_ms = FloorMillis(*t);
  }
  return window;
}

std::string ConfigChange(std::string_view config, std::string_view was, std::string_view is) {
  std::string body;
  JsonWriter(&body)
      .BeginObject()
      .Key("config")
      .String(config)
      .Key("was")
      .Raw(was)
      .Key("is")
      .Raw(is)
      .EndObject();
  return body;
}

}  // namespace

ProcessorService::ProcessorService(Clock& clock, ProcessorOptions options)
    : clock_(clock),
      options_(std::move(options)),
      config_(options_.initial_delay_ms, options_.initial_failure, options_.token),
      limiter_(options_.max_in_flight, options_.max_queued),
      health_limiter_(clock, options_.health_window, options_.health_max_queued) {
  // The front starts an initial refusal itself; as a mode it is never kept.
  if (options_.initial_fault.mode != FaultMode::kRefuse) config_.SetFault(options_.initial_fault);
}

bool ProcessorService::WaitUntil(absl::Time deadline) {
  while (!shutting_down_.load(std::memory_order_relaxed)) {
    const absl::Time now = clock_.Now();
    if (now >= deadline) return true;
    clock_.SleepUntil(std::min(deadline, now + options_.shutdown_poll));
  }
  return false;
}

HttpReply ProcessorService::PostPayment(std::string_view body) {
  const std::optional<Fault> fault = config_.DrawFaultForPayment();
  if (fault.has_value() && fault->mode == FaultMode::kTooMany) return TooManyRequests();
  std::optional<FifoConcurrencyLimiter::Permit> permit = limiter_.Acquire();
  if (!permit.has_value()) return TooManyRequests();

  absl::StatusOr<Payment> payment = ParsePaymentRequest(body);
  if (!payment.ok()) return BadRequest(std::string(payment.status().message()));

  const int64_t delay_ms = config_.delay_ms();
  if (delay_ms > 0 && !WaitUntil(clock_.Now() + absl::Milliseconds(delay_ms))) {
    return ShuttingDown();
  }
  if (config_.failing()) return Empty(500);

  const bool inserted = store_.Insert(*std::move(payment)).ok();
  if (fault.has_value()) return FaultyAnswer(*fault, inserted);
  return inserted ? Processed() : Duplicate();
}

HttpReply ProcessorService::FaultyAnswer(const Fault& fault, bool inserted) {
  HttpReply reply = inserted ? Processed() : Duplicate();
  switch (fault.mode) {
    case FaultMode::kReset:
      reply.delivery = Delivery::kResetInHead;
      break;
    case FaultMode::kTruncated:
      reply.delivery = Delivery::kTruncatedBody;
      break;
    case FaultMode::kSlowHeaders:
      reply.delivery = Delivery::kDripHead;
      reply.pace = fault.interval;
      break;
    case FaultMode::kGarbage:
      // Claims JSON (the formatter's Content-Type) and is not.
      return HttpReply{200, "<html>payment processed successfully}{\x01", {}};
    case FaultMode::kStoreThen500:
      return Empty(500);
    case FaultMode::kNone:
    case FaultMode::kTooMany:
    case FaultMode::kRefuse:
      break;
  }
  return reply;
}

HttpReply ProcessorService::GetPayment(std::string_view id) {
  std::optional<FifoConcurrencyLimiter::Permit> permit = limiter_.Acquire();
  if (!permit.has_value()) return TooManyRequests();

  absl::StatusOr<std::string> canonical = CanonicalUuid(id);
  if (!canonical.ok()) return Empty(404);
  std::optional<Payment> payment = store_.Find(*canonical);
  if (!payment.has_value()) return Empty(404);

  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject().Key("correlationId").String(payment->correlation_id);
  writer.Key("amount").Raw(FormatCents(payment->amount_cents));
  writer.Key("requestedAt").String(FormatIsoMillis(payment->requested_at_ms));
  writer.EndObject();
  return Json(200, std::move(body));
}

HttpReply ProcessorService::GetHealth() {
  absl::StatusOr<absl::Time> turn = health_limiter_.Reserve();
  if (!turn.ok()) return TooManyRequests();
  if (!WaitUntil(*turn)) return ShuttingDown();

  std::string body;
  JsonWriter(&body)
      .BeginObject()
      .Key("failing")
      .Bool(config_.failing())
      .Key("minResponseTime")
      .Int(config_.delay_ms())
      .EndObject();
  return Json(200, std::move(body));
}

HttpReply ProcessorService::AdminSummary(std::optional<std::string_view> token,
                                         std::optional<std::string_view> from,
                                         std::optional<std::string_view> to) {
  if (!config_.TokenMatches(token)) return Empty(401);
  absl::StatusOr<Window> window = ParseWindow(from, to);
  if (!window.ok()) return BadRequest(std::string(window.status().message()));
  const PaymentTotals totals = store_.Summarize(window->from_ms, window->to_ms);

  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject();
  writer.Key("totalAmount").Raw(FormatCents(totals.amount_cents));
  writer.Key("totalRequests").Int(totals.count);
  writer.Key("totalFee").Raw(FormatExactFee(totals.amount_cents, options_.fee));
  writer.Key("feePerTransaction").Raw(FormatFeeRate(options_.fee));
  writer.EndObject();
  return Json(200, std::move(body));
}

HttpReply ProcessorService::AdminPaymentIds(std::optional<std::string_view> token,
                                            std::optional<std::string_view> from,
                                            std::optional<std::string_view> to) {
  if (!config_.TokenMatches(token)) return Empty(401);
  absl::StatusOr<Window> window = ParseWindow(from, to);
  if (!window.ok()) return BadRequest(std::string(window.status().message()));
  const std::vector<std::string> ids = store_.Ids(window->from_ms, window->to_ms);

  std::string body = "[";
  body.reserve(ids.size() * 39 + 2);
  JsonWriter writer(&body);  // separates the strings with commas
  for (const std::string& id : ids) writer.String(id);
  body.push_back(']');
  return Json(200, std::move(body));
}

HttpReply ProcessorService::AdminSetToken(std::optional<std::string_view> token,
                                          std::string_view body) {
  if (!config_.TokenMatches(token)) return Empty(401);
  std::string new_token;
  absl::Status parsed = ParseSingleMember(body, "token", [&](const JsonValue& v) {
    if (v.type != JsonType::kString) return absl::InvalidArgumentError("token must be a string");
    new_token = std::string(v.string);
    return absl::OkStatus();
  });
  if (!parsed.ok()) return BadRequest(std::string(parsed.message()));
  config_.SetToken(std::move(new_token));
  return Empty(204);
}

HttpReply ProcessorService::AdminSetDelay(std::optional<std::string_view> token,
                                          std::string_view body) {
  if (!config_.TokenMatches(token)) return Empty(401);
  int64_t delay_ms = 0;
  absl::Status parsed = ParseSingleMember(body, "delay", [&](const JsonValue& v) {
    if (v.type != JsonType::kNumber ||
        !absl::SimpleAtoi(absl::string_view(v.raw.data(), v.raw.size()), &delay_ms) ||
        delay_ms < 0) {
      return absl::InvalidArgumentError("delay must be a non-negative integer (ms)");
    }
    return absl::OkStatus();
  });
  if (!parsed.ok()) return BadRequest(std::string(parsed.message()));
  const int64_t was = config_.SetDelayMs(delay_ms);
  return Json(200, ConfigChange("delay", absl::StrCat(was), absl::StrCat(delay_ms)));
}

HttpReply ProcessorService::AdminSetFailure(std::optional<std::string_view> token,
                                            std::string_view body) {
  if (!config_.TokenMatches(token)) return Empty(401);
  bool failing = false;
  absl::Status parsed = ParseSingleMember(body, "failure", [&](const JsonValue& v) {
    if (v.type != JsonType::kTrue && v.type != JsonType::kFalse) {
      return absl::InvalidArgumentError("failure must be a boolean");
    }
    failing = v.type == JsonType::kTrue;
    return absl::OkStatus();
  });
  if (!parsed.ok()) return BadRequest(std::string(parsed.message()));
  const bool was = config_.SetFailing(failing);
  return Json(200, ConfigChange("failure", was ? "true" : "false", failing ? "true" : "false"));
}

HttpReply ProcessorService::AdminSetFault(std::optional<std::string_view> token,
                                          std::string_view body) {
  if (!config_.TokenMatches(token)) return Empty(401);
  absl::StatusOr<Fault> fault = ParseFault(body);
  if (!fault.ok()) return BadRequest(std::string(fault.status().message()));
  const bool refuse = fault->mode == FaultMode::kRefuse;
  // No request reaches the emulator while it refuses: the mode is none once it listens again.
  const Fault was = config_.SetFault(refuse ? Fault{} : *fault);
  HttpReply reply = Json(200, ConfigChange("fault", FaultJson(was), FaultJson(*fault)));
  if (refuse) {
    reply.delivery = Delivery::kThenRefuse;
    reply.pace = fault->duration;
  }
  return reply;
}

HttpReply ProcessorService::AdminPurge(std::optional<std::string_view> token) {
  if (!config_.TokenMatches(token)) return Empty(401);
  store_.Purge();
  return Message(200, "All payments purged.");
}

}  // namespace rinha::processor
