// The official processor's value formats: what its .NET stack (ASP.NET Core minimal APIs with
// System.Text.Json's web defaults, Npgsql, a Postgres `payments` table with `amount DECIMAL` and
// `requested_at TIMESTAMP`) accepts and prints, so that the emulator answers byte for byte as it
// does. Pure functions; each documents the .NET behaviour it reproduces and where it simplifies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"

namespace rinha::processor {

// A stored amount: decimal.Round(sent, 2) (half to even) in a Postgres DECIMAL without a scale,
// which keeps the scale .NET's decimal carried: the sent one, at most 2 after the rounding.
// value = cents / 100, printed with `scale` decimals; scale < 2 implies cents is a multiple of
// 10^(2 - scale) (the sent number had no digit below that).
struct DecimalAmount {
  int64_t cents = 0;
  int scale = 0;  // 0..2
};

// A JSON number's text (RFC 8259 grammar) read as System.Text.Json reads a decimal, then
// decimal.Round(x, 2): 20.05 -> {2005, 2}, 19.9 -> {1990, 1}, 19.90 -> {1990, 2}, 20 -> {2000, 0},
// 19.999 -> {2000, 2}, 0.125 -> {12, 2}, 2005e-2 -> {2005, 2}, 1.5e1 -> {1500, 0}. The scale
// before rounding is max(0, fraction digits - exponent), as .NET's number parser sets it.
// InvalidArgument for anything else, OutOfRange beyond int64 cents (.NET's decimal goes to about
// 7.9e28: amounts between 9.2e16 and that are accepted there, rejected here).
absl::StatusOr<DecimalAmount> ParseDecimalAmount(std::string_view json_number);

// unscaled / 10^scale with exactly `scale` decimals, as .NET prints a decimal: "0", "-1.990",
// "0.00" (never "-0": Postgres's numeric has no negative zero).
std::string FormatDecimal(absl::int128 unscaled, int scale);
std::string FormatAmount(const DecimalAmount& amount);

// 0001-01-01T00:00:00 (DateTime.MinValue, the default of a missing requestedAt) in microseconds
// since the Unix epoch.
inline constexpr int64_t kDateTimeMinMicros = -62'135'596'800'000'000;

// A JSON string as System.Text.Json reads a DateTime (the ISO 8601-1:2019 extended profile):
// "YYYY-MM-DD", "YYYY-MM-DDTHH:MM", "YYYY-MM-DDTHH:MM:SS" with an optional fraction of 1-16
// digits (only the first 7 count), each time form with an optional "Z", "+HH" or "+HH:MM" offset;
// upper-case 'T' and 'Z' only; years 0001-9999. A time without a zone is taken as UTC (the
// official containers run in UTC), an offset is applied. Returns what Npgsql writes to the
// `timestamp` column: microseconds since the Unix epoch, the 100 ns ticks truncated toward
// 2000-01-01 (Npgsql drops sub-microsecond precision). InvalidArgument otherwise (the 400).
// Simplification: DateTime.MaxValue (which Npgsql writes as 'infinity' and reads back with 7
// fraction digits) is stored as its microsecond.
absl::StatusOr<int64_t> ParseJsonDateTimeMicros(std::string_view text);

// A query-string bound (`from`/`to` of the admin summary) as ASP.NET binds a DateTime?
// (DateTime.TryParse, invariant culture, adjusted to UTC) and Npgsql sends it: microseconds, as
// ParseJsonDateTimeMicros. Simplification: DateTime.TryParse reads many more shapes ("07/15/2025",
// "15 July 2025"); this reads the JSON shapes above plus what ParseIsoTime(kAbsentIsUtc) reads
// (a space for the 'T', lower-case 't'/'z', "+HHMM" offsets, 1-9 fraction digits).
absl::StatusOr<int64_t> ParseQueryDateTimeMicros(std::string_view text);

// A route value as ASP.NET binds a Guid (Guid.TryParse): surrounding whitespace ignored, then the
// "D" (8-4-4-4-12), "N" (32 digits), "B" ({D}), "P" ((D)) or "X"
// ({0xAAAAAAAA,0xBBBB,0xCCCC,{0xDD,...}}, whitespace inside ignored) form, hex digits of any case.
// Returns the canonical lower-case D text (how the official prints the Guid back).
// InvalidArgument otherwise (the 400). Simplification: the legacy quirks Guid.TryParse keeps for
// compatibility (a "0x" or '+' inside D components) are not accepted.
absl::StatusOr<std::string> ParseRouteGuid(std::string_view text);

// What ASP.NET's body binding accepts as JSON (HttpRequest.HasJsonContentType): a media type of
// application/json or any type with a "+json" suffix, any case, parameters ignored. A request
// body of any other (or no) Content-Type is answered 415.
bool IsJsonContentType(std::optional<std::string_view> content_type);

}  // namespace rinha::processor
