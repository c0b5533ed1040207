// Exact decimal money: JSON number text <-> int64 cents. No floating point anywhere.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace rinha {

enum class CentsRounding {
  // More than two decimals that are not all zero -> InvalidArgument ("19.999" fails, "19.900" ok).
  kExact,
  // Round to cents half-to-even, like the processors store amounts ("0.125" -> 12, "0.135" -> 14).
  // The rounding looks at the exact decimal value, however many digits it has.
  kHalfEven,
};

// Parses a JSON number (RFC 8259 grammar: optional '-', no leading zeros, optional fraction and
// exponent, e.g. "19.9", "2005e-2") into cents. Fails with InvalidArgument on anything else
// (surrounding whitespace included; for kExact also non-zero digits beyond cents, whatever the
// magnitude) and with OutOfRange when the cents do not fit in int64 (INT64_MIN is accepted).
// Sign is kept ("-0.0" is 0); callers validate the range. Linear time and no allocation for any
// input: "1e999999999" is an immediate OutOfRange, "0e999999999" is 0.
absl::StatusOr<int64_t> ParseDecimalCents(std::string_view text, CentsRounding rounding);

// "1234.50", "0.05", "-3.00": always exactly two decimals. Every int64 (INT64_MIN included)
// formats to text that ParseDecimalCents reads back to the same value.
std::string FormatCents(int64_t cents);
void AppendCents(std::string* out, int64_t cents);

}  // namespace rinha
