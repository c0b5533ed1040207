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
absl::StatusOr<absl::Time> ParseIsoTime(std::string_view text);

// Milliseconds for window bounds: `from` rounds up, `to` rounds down, so an inclusive millisecond
// comparison against stored millisecond timestamps stays exact for sub-millisecond bounds.
int64_t FloorMillis(absl::Time t);
int64_t CeilMillis(absl::Time t);

// "2025-07-15T12:34:56.000Z": always three fractional digits and 'Z'.
std::string FormatIsoMillis(int64_t unix_ms);
void AppendIsoMillis(std::string* out, int64_t unix_ms);

}  // namespace rinha
