#include "processor/fault.h"

#include <cstdint>
#include <optional>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"

namespace rinha::processor {
namespace {

constexpr struct {
  FaultMode mode;
  std::string_view name;
} kModes[] = {{FaultMode::kNone, "none"},
              {FaultMode::kReset, "reset"},
              {FaultMode::kGarbage, "garbage"},
              {FaultMode::kTruncated, "truncated"},
              {FaultMode::kSlowHeaders, "slow_headers"},
              {FaultMode::kTooMany, "429"},
              {FaultMode::kRefuse, "refuse"},
              {FaultMode::kStoreThen500, "store_then_500"},
              {FaultMode::kLookups503, "lookups_503"}};

constexpr int64_t kMaxIntervalMs = 60'000;
constexpr int64_t kMaxDurationMs = 3'600'000;

// Debian's Abseil has its own string_view type.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool TakesProbability(FaultMode mode) {
  return mode != FaultMode::kNone && mode != FaultMode::kRefuse;
}

absl::StatusOr<int64_t> ReadMillis(const JsonValue& value, std::string_view key) {
  int64_t ms = 0;
  if (value.type != JsonType::kNumber || !absl::SimpleAtoi(Absl(value.raw), &ms)) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(key), " must be an integer (ms)"));
  }
  return ms;
}

}  // namespace

std::string_view FaultModeName(FaultMode mode) {
  for (const auto& m : kModes) {
    if (m.mode == mode) return m.name;
  }
  return "none";
}

absl::Status ValidateFault(const Fault& fault) {
  if (!(fault.probability >= 0.0 && fault.probability <= 1.0)) {
    return absl::InvalidArgumentError("probability must be between 0 and 1");
  }
  if (fault.interval < absl::Milliseconds(1) ||
      fault.interval > absl::Milliseconds(kMaxIntervalMs)) {
    return absl::InvalidArgumentError(
        absl::StrCat("interval_ms must be between 1 and ", kMaxIntervalMs));
  }
  if (fault.mode == FaultMode::kRefuse && (fault.duration < absl::Milliseconds(1) ||
                                           fault.duration > absl::Milliseconds(kMaxDurationMs))) {
    return absl::InvalidArgumentError(
        absl::StrCat("refuse needs duration_ms between 1 and ", kMaxDurationMs));
  }
  return absl::OkStatus();
}

absl::StatusOr<Fault> ParseFault(std::string_view json) {
  std::optional<FaultMode> mode;
  std::optional<double> probability;
  std::optional<int64_t> interval_ms;
  std::optional<int64_t> duration_ms;
  absl::Status parsed =
      ParseJsonObject(json, [&](std::string_view key, const JsonValue& value) -> absl::Status {
        if (key == "mode") {
          if (value.type == JsonType::kString) {
            for (const auto& m : kModes) {
              if (m.name == value.string) mode = m.mode;
            }
          }
          if (!mode.has_value()) {
            return absl::InvalidArgumentError(
                "mode must be one of none, reset, garbage, truncated, slow_headers, 429, refuse, "
                "store_then_500, lookups_503");
          }
        } else if (key == "probability") {
          double p = 0;
          if (value.type != JsonType::kNumber || !absl::SimpleAtod(Absl(value.raw), &p)) {
            return absl::InvalidArgumentError("probability must be a number");
          }
          probability = p;
        } else if (key == "interval_ms") {
          absl::StatusOr<int64_t> ms = ReadMillis(value, key);
          if (!ms.ok()) return ms.status();
          interval_ms = *ms;
        } else if (key == "duration_ms") {
          absl::StatusOr<int64_t> ms = ReadMillis(value, key);
          if (!ms.ok()) return ms.status();
          duration_ms = *ms;
        } else {
          // A misspelt parameter must not silently leave its default in place.
          return absl::InvalidArgumentError(absl::StrCat("unknown member ", Absl(key)));
        }
        return absl::OkStatus();
      });
  if (!parsed.ok()) return parsed;
  if (!mode.has_value()) return absl::InvalidArgumentError("mode is required");

  Fault fault;
  fault.mode = *mode;
  if (probability.has_value()) {
    if (!TakesProbability(*mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat(Absl(FaultModeName(*mode)), " takes no probability"));
    }
    fault.probability = *probability;
  }
  if (interval_ms.has_value()) {
    if (*mode != FaultMode::kSlowHeaders) {
      return absl::InvalidArgumentError("interval_ms is for slow_headers only");
    }
    fault.interval = absl::Milliseconds(*interval_ms);
  }
  if (duration_ms.has_value()) {
    if (*mode != FaultMode::kRefuse) {
      return absl::InvalidArgumentError("duration_ms is for refuse only");
    }
    fault.duration = absl::Milliseconds(*duration_ms);
  }
  if (absl::Status valid = ValidateFault(fault); !valid.ok()) return valid;
  return fault;
}

std::string FaultJson(const Fault& fault) {
  std::string json;
  JsonWriter writer(&json);
  writer.BeginObject().Key("mode").String(FaultModeName(fault.mode));
  if (TakesProbability(fault.mode)) {
    writer.Key("probability").Raw(absl::StrCat(fault.probability));
  }
  if (fault.mode == FaultMode::kSlowHeaders) {
    writer.Key("interval_ms").Int(absl::ToInt64Milliseconds(fault.interval));
  }
  if (fault.mode == FaultMode::kRefuse) {
    writer.Key("duration_ms").Int(absl::ToInt64Milliseconds(fault.duration));
  }
  writer.EndObject();
  return json;
}

bool DrawFault(double probability) {
  if (probability >= 1.0) return true;
  if (probability <= 0.0) return false;
  // One generator per request thread: no lock, and the draws need no reproducibility.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator) < probability;
}

}  // namespace rinha::processor
