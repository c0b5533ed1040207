// ISO-8601 UTC timestamps <-> milliseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rinha {

// Strict RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS" + optional fraction of 1-9 digits + "Z" or a
// numeric offset "+HH:MM"/"-HH:MM" ('t'/'z' accepted too). Anything else -> InvalidArgument.
// Keeps full precision (sub-millisecond fractions are not truncated).
// Validated fields: month 01-12, day within its month (leap years per the Gregorian rule), hour
// 00-23, minute 00-59, second 00-59, offset hour 00-23 and minute 00-59. A leap second (":60")
// is rejected: absl::Time cannot represent it and no party in this system produces one.
// "-00:00" reads as UTC. Years 0000-9999 (what four digits allow).
//
// IsoZone::kAbsentIsUtc reads what other systems legitimately print as well (Postel): no zone
// designator at all means UTC (the official processor's GET /payments/{id} prints its Postgres
// `timestamp` so: "2025-07-15T12:34:56.78"), a space may stand for the 'T' (Postgres's own text
// form), and an offset may also be written "+HHMM" or "+HH".
enum class IsoZone { kRequired, kAbsentIsUtc };
absl::StatusOr<absl::Time> ParseIsoTime(std::string_view text, IsoZone zone = IsoZone::kRequired);

// Milliseconds for window bounds: `from` rounds up, `to` rounds down, so an inclusive millisecond
// comparison against stored millisecond timestamps stays exact for sub-millisecond bounds.
// Both round toward -inf / +inf, also before 1970. Infinite times saturate at INT64_MIN/MAX.
int64_t FloorMillis(absl::Time t);
int64_t CeilMillis(absl::Time t);

// "2025-07-15T12:34:56.000Z": always three fractional digits and 'Z'. Defined for every int64;
// years outside 0000-9999 use the ISO 8601 expanded form ("-0001-...", "+10000-..."), which
// ParseIsoTime does not accept.
std::string FormatIsoMillis(int64_t unix_ms);
void AppendIsoMillis(std::string* out, int64_t unix_ms);

// The shape .NET's System.Text.Json writes for a DateTime without a zone (a Postgres `timestamp`
// read back): no zone designator, the fraction only as long as it needs to be (0 to 6 digits,
// trailing zeros dropped, no '.' on a whole second): "2025-07-15T12:34:56.78",
// "2025-07-15T12:34:56". Years 0000-9999 only (others are clamped to that range's ends).
std::string FormatIsoMicrosUnzoned(int64_t unix_us);

}  // namespace rinha
