#include "processor/processor_service.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/iso_time.h"
#include "common/json.h"
#include "common/uuid.h"
#include "processor/dotnet_wire.h"

namespace rinha::processor {
namespace {

HttpReply Empty(int status) { return HttpReply{.status = status}; }

HttpReply Json(int status, std::string body) {
  return HttpReply{.status = status, .body = std::move(body), .content_type = kJsonContentType};
}

HttpReply ShuttingDown() { return Empty(503); }

HttpReply Message(int status, std::string_view message) {
  std::string body;
  JsonWriter(&body).BeginObject().Key("message").String(message).EndObject();
  return Json(status, std::move(body));
}

HttpReply Processed() { return Message(200, "payment processed successfully"); }
// The official's message goes on with "Error details: " and the whole PostgresException with its
// stack trace; the part a reader can rely on is kept.
HttpReply Duplicate(std::string_view correlation_id) {
  return Message(422, absl::StrCat("Payment could not be processed. CorrelationId already exists: ",
                                   std::string(correlation_id), "."));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return absl::ascii_tolower(static_cast<unsigned char>(x)) ==
                  absl::ascii_tolower(static_cast<unsigned char>(y));
         });
}

// ASP.NET's body binding with System.Text.Json's web defaults: 415 unless the Content-Type is
// JSON; the body must be one JSON object (400 otherwise); `visit` sees each member, property
// names to be matched case-insensitively, in order, so a later spelling of a property overwrites
// an earlier one; members it does not know are ignored. Simplification: an exact duplicate key is
// a 400 here (common/json.h rejects it), where .NET lets the last one win.
std::optional<HttpReply> BindBody(
    std::string_view body, std::optional<std::string_view> content_type,
    absl::FunctionRef<absl::Status(std::string_view key, const JsonValue& value)> visit) {
  if (!IsJsonContentType(content_type)) return Empty(415);
  if (!ParseJsonObject(body, visit).ok()) return Empty(400);
  return std::nullopt;
}

absl::Status Mismatch() { return absl::InvalidArgumentError("JSON value of the wrong type"); }

// A decimal: a JSON number, or a string holding one (AllowReadingFromString). Simplification:
// the string must hold a JSON number (.NET's parser also takes a '+' or leading zeros there).
absl::StatusOr<DecimalAmount> BindDecimal(const JsonValue& value) {
  if (value.type == JsonType::kNumber) return ParseDecimalAmount(value.raw);
  if (value.type == JsonType::kString) return ParseDecimalAmount(value.string);
  return Mismatch();
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An int: a JSON number without fraction or exponent, or a string of an optional sign and
// digits (AllowReadingFromString), within int32.
absl::StatusOr<int32_t> BindInt32(const JsonValue& value) {
  std::string_view text;
  if (value.type == JsonType::kNumber) {
    text = value.raw;
  } else if (value.type == JsonType::kString) {
    text = value.string;
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  } else {
    return Mismatch();
  }
  const std::string_view digits = !text.empty() && text.front() == '-' ? text.substr(1) : text;
  int64_t parsed = 0;
  if (!IsDigits(digits) || digits.size() > 11 ||
      !absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &parsed) ||
      parsed < INT32_MIN || parsed > INT32_MAX) {
    return absl::InvalidArgumentError("not an int");
  }
  return static_cast<int32_t>(parsed);
}

// PaymentWireRequest(Guid CorrelationId, decimal Amount, DateTime RequestedAt): a member left out
// keeps its default (Guid.Empty, 0, DateTime.MinValue); null or a value of another type is a 400.
std::variant<Payment, HttpReply> BindPayment(std::string_view body,
                                             std::optional<std::string_view> content_type) {
  Payment payment{.correlation_id = "00000000-0000-0000-0000-000000000000",
                  .amount = DecimalAmount{0, 0},
                  .requested_at_us = kDateTimeMinMicros};
  std::optional<HttpReply> failed = BindBody(
      body, content_type, [&payment](std::string_view key, const JsonValue& value) -> absl::Status {
        if (EqualsIgnoreCase(key, "correlationId")) {
          // A JSON Guid is read in the D form only (any case).
          if (value.type != JsonType::kString) return Mismatch();
          absl::StatusOr<std::string> id = CanonicalUuid(value.string);
          if (!id.ok()) return id.status();
          payment.correlation_id = *std::move(id);
        } else if (EqualsIgnoreCase(key, "amount")) {
          absl::StatusOr<DecimalAmount> amount = BindDecimal(value);
          if (!amount.ok()) return amount.status();
          payment.amount = *amount;
        } else if (EqualsIgnoreCase(key, "requestedAt")) {
          if (value.type != JsonType::kString) return Mismatch();
          absl::StatusOr<int64_t> at = ParseJsonDateTimeMicros(value.string);
          if (!at.ok()) return at.status();
          payment.requested_at_us = *at;
        }
        return absl::OkStatus();
      });
  if (failed.has_value()) return *std::move(failed);
  return payment;
}

// An admin summary's bounds: microseconds as Npgsql sends them.
struct Window {
  std::optional<int64_t> from_us;
  std::optional<int64_t> to_us;
};

// ASP.NET binds a missing or empty query value to null, and fails (400) on one that does not
// parse; the comparison is then Postgres's, in microseconds.
absl::StatusOr<Window> ParseWindow(std::optional<std::string_view> from,
                                   std::optional<std::string_view> to) {
  Window window;
  if (from.has_value() && !from->empty()) {
    absl::StatusOr<int64_t> us = ParseQueryDateTimeMicros(*from);
    if (!us.ok()) return us.status();
    window.from_us = *us;
  }
  if (to.has_value() && !to->empty()) {
    absl::StatusOr<int64_t> us = ParseQueryDateTimeMicros(*to);
    if (!us.ok()) return us.status();
    window.to_us = *us;
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

int64_t CentsDivisor(int scale) { return scale >= 2 ? 1 : scale == 1 ? 10 : 100; }

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

HttpReply ProcessorService::TooManyRequests() const {
  const int64_t seconds =
      absl::ToInt64Seconds(absl::Ceil(options_.health_window, absl::Seconds(1)));
  return HttpReply{.status = 429,
                   .body = "Calm down, bitch. Try again later.",
                   .headers = {{"Retry-After", absl::StrCat(seconds)}}};
}

HttpReply ProcessorService::PostPayment(std::string_view body,
                                        std::optional<std::string_view> content_type) {
  const std::optional<Fault> fault = config_.DrawFaultForPayment();
  if (fault.has_value() && fault->mode == FaultMode::kTooMany) return TooManyRequests();
  std::optional<FifoConcurrencyLimiter::Permit> permit = limiter_.Acquire();
  if (!permit.has_value()) return TooManyRequests();

  std::variant<Payment, HttpReply> bound = BindPayment(body, content_type);
  if (HttpReply* rejected = std::get_if<HttpReply>(&bound)) return std::move(*rejected);
  Payment& payment = std::get<Payment>(bound);

  // The official's filter sleeps only for a positive delay: a negative one is no delay.
  const int64_t delay_ms = config_.delay_ms();
  if (delay_ms > 0 && !WaitUntil(clock_.Now() + absl::Milliseconds(delay_ms))) {
    return ShuttingDown();
  }
  if (config_.failing()) return Empty(500);

  payment.inserted_at_ms = clock_.NowMillis();
  const std::string id = payment.correlation_id;
  const bool inserted = store_.Insert(payment).ok();
  if (fault.has_value()) return FaultyAnswer(*fault, inserted, id);
  return inserted ? Processed() : Duplicate(id);
}

HttpReply ProcessorService::FaultyAnswer(const Fault& fault, bool inserted,
                                         std::string_view correlation_id) {
  HttpReply reply = inserted ? Processed() : Duplicate(correlation_id);
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
      // Claims JSON (the Content-Type) and is not.
      return Json(200, "<html>payment processed successfully}{\x01");
    case FaultMode::kStoreThen500:
      return Empty(500);
    case FaultMode::kNone:
    case FaultMode::kTooMany:
    case FaultMode::kRefuse:
    case FaultMode::kLookups503:
      break;
  }
  return reply;
}

HttpReply ProcessorService::GetPayment(std::string_view id) {
  std::optional<FifoConcurrencyLimiter::Permit> permit = limiter_.Acquire();
  if (!permit.has_value()) return TooManyRequests();
  const std::optional<Fault> fault = config_.DrawFaultForPayment();
  if (fault.has_value() && fault->mode == FaultMode::kLookups503) return Empty(503);

  absl::StatusOr<std::string> canonical = ParseRouteGuid(id);
  if (!canonical.ok()) return Empty(400);
  std::optional<Payment> payment = store_.Find(*canonical);
  if (!payment.has_value()) return Empty(404);

  // The official prints the route's Guid, the row's amount and its timestamp (no zone).
  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject().Key("correlationId").String(*canonical);
  writer.Key("amount").Raw(FormatAmount(payment->amount));
  writer.Key("requestedAt").String(FormatIsoMicrosUnzoned(payment->requested_at_us));
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
  absl::StatusOr<Window> window = ParseWindow(from, to);
  if (!window.ok()) return Empty(400);
  if (!config_.TokenMatches(token)) return Empty(401);
  const PaymentTotals totals = store_.Summarize(window->from_us, window->to_us);

  // SUM keeps the largest scale of the rows; totalAmount x fee in .NET's decimal adds the scales.
  const int scale = totals.amount_scale;
  const int64_t unscaled = totals.amount_cents / CentsDivisor(scale);
  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject();
  writer.Key("totalAmount").Raw(FormatDecimal(unscaled, scale));
  writer.Key("totalRequests").Int(totals.count);
  writer.Key("totalFee")
      .Raw(FormatDecimal(absl::int128(unscaled) * options_.fee.units, scale + options_.fee.scale));
  writer.Key("feePerTransaction").Raw(FormatFeeRate(options_.fee));
  writer.EndObject();
  return Json(200, std::move(body));
}

HttpReply ProcessorService::AdminHealthCalls(std::optional<std::string_view> token) {
  if (!config_.TokenMatches(token)) return Empty(401);
  const FixedWindowRateLimiter::Stats stats = health_limiter_.stats();
  std::string body;
  JsonWriter(&body)
      .BeginObject()
      .Key("calls")
      .Int(stats.calls)
      .Key("queued")
      .Int(stats.queued)
      .Key("rejected")
      .Int(stats.rejected)
      .Key("maxPerWindow")
      .Int(stats.max_per_window)
      .Key("windowMs")
      .Int(absl::ToInt64Milliseconds(options_.health_window))
      .EndObject();
  return Json(200, std::move(body));
}

HttpReply ProcessorService::AdminPaymentIds(std::optional<std::string_view> token,
                                            std::optional<std::string_view> from,
                                            std::optional<std::string_view> to,
                                            std::optional<std::string_view> with) {
  absl::StatusOr<Window> window = ParseWindow(from, to);
  if (!window.ok()) return Empty(400);
  const bool with_inserted_at = with.has_value() && !with->empty();
  if (with_inserted_at && *with != "inserted_at") return Empty(400);
  if (!config_.TokenMatches(token)) return Empty(401);

  std::string body = "[";
  JsonWriter writer(&body);  // separates the elements with commas
  if (with_inserted_at) {
    const std::vector<InsertedId> ids = store_.InsertedIds(window->from_us, window->to_us);
    body.reserve(ids.size() * 72 + 2);
    for (const InsertedId& id : ids) {
      writer.BeginObject()
          .Key("correlationId")
          .String(id.correlation_id)
          .Key("insertedAtMs")
          .Int(id.inserted_at_ms)
          .EndObject();
    }
  } else {
    const std::vector<std::string> ids = store_.Ids(window->from_us, window->to_us);
    body.reserve(ids.size() * 39 + 2);
    for (const std::string& id : ids) writer.String(id);
  }
  body.push_back(']');
  return Json(200, std::move(body));
}

HttpReply ProcessorService::AdminSetToken(std::optional<std::string_view> token,
                                          std::string_view body,
                                          std::optional<std::string_view> content_type) {
  // ConfigurationTokenSetWireRequest(string Token): absent or null is a null token.
  std::optional<std::string> new_token;
  std::optional<HttpReply> failed =
      BindBody(body, content_type, [&](std::string_view key, const JsonValue& v) -> absl::Status {
        if (!EqualsIgnoreCase(key, "token")) return absl::OkStatus();
        if (v.type == JsonType::kNull) {
          new_token.reset();
          return absl::OkStatus();
        }
        if (v.type != JsonType::kString) return Mismatch();
        new_token = std::string(v.string);
        return absl::OkStatus();
      });
  if (failed.has_value()) return *std::move(failed);
  if (!config_.TokenMatches(token)) return Empty(401);
  config_.SetToken(std::move(new_token));
  return Empty(204);
}

HttpReply ProcessorService::AdminSetDelay(std::optional<std::string_view> token,
                                          std::string_view body,
                                          std::optional<std::string_view> content_type) {
  // ConfigurationDelaySetWireRequest(int Delay): absent is 0; any int, negative ones included.
  int32_t delay_ms = 0;
  std::optional<HttpReply> failed =
      BindBody(body, content_type, [&](std::string_view key, const JsonValue& v) -> absl::Status {
        if (!EqualsIgnoreCase(key, "delay")) return absl::OkStatus();
        absl::StatusOr<int32_t> delay = BindInt32(v);
        if (!delay.ok()) return delay.status();
        delay_ms = *delay;
        return absl::OkStatus();
      });
  if (failed.has_value()) return *std::move(failed);
  if (!config_.TokenMatches(token)) return Empty(401);
  const int64_t was = config_.SetDelayMs(delay_ms);
  return Json(200, ConfigChange("delay", absl::StrCat(was), absl::StrCat(delay_ms)));
}

HttpReply ProcessorService::AdminSetFailure(std::optional<std::string_view> token,
                                            std::string_view body,
                                            std::optional<std::string_view> content_type) {
  // ConfigurationFailureSetWireRequest(bool Failure): absent is false; only true/false read.
  bool failing = false;
  std::optional<HttpReply> failed =
      BindBody(body, content_type, [&](std::string_view key, const JsonValue& v) -> absl::Status {
        if (!EqualsIgnoreCase(key, "failure")) return absl::OkStatus();
        if (v.type != JsonType::kTrue && v.type != JsonType::kFalse) return Mismatch();
        failing = v.type == JsonType::kTrue;
        return absl::OkStatus();
      });
  if (failed.has_value()) return *std::move(failed);
  if (!config_.TokenMatches(token)) return Empty(401);
  const bool was = config_.SetFailing(failing);
  return Json(200, ConfigChange("failure", was ? "true" : "false", failing ? "true" : "false"));
}

HttpReply ProcessorService::AdminSetFault(std::optional<std::string_view> token,
                                          std::string_view body) {
  if (!config_.TokenMatches(token)) return Empty(401);
  absl::StatusOr<Fault> fault = ParseFault(body);
  if (!fault.ok()) {
    // An emulator extra: it says what was wrong.
    std::string reason;
    JsonWriter(&reason)
        .BeginObject()
        .Key("error")
        .String(std::string(fault.status().message()))
        .EndObject();
    return Json(400, std::move(reason));
  }
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
