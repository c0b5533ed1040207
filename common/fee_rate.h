// A processor's fee rate as an exact decimal, so that totalFee = totalAmount x rate is printed
// exactly (20.05 x 0.07 = 1.4035) instead of going through floating point: the emulator reports
// it, the load generator reads it back and checks the fees.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace rinha {

// value = units / 10^scale; scale keeps the digits the rate was written with ("0.10" -> 10, 2).
struct FeeRate {
  int64_t units = 0;
  int scale = 0;
};

// Accepts plain non-negative decimals: "0.07", "0.1", "1", "1.5" (at most 9 decimals).
absl::StatusOr<FeeRate> ParseFeeRate(std::string_view text);

// The rate as written: "0.07", "0.10".
std::string FormatFeeRate(const FeeRate& rate);

// cents x rate, exact, with 2 + rate.scale decimals ("1.4035" for 2005 cents at 0.07).
std::string FormatExactFee(int64_t cents, const FeeRate& rate);

}  // namespace rinha
