#include "common/fee_rate.h"

#include <algorithm>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rinha {
namespace {

constexpr int kMaxScale = 9;

// Prints |value| / 10^scale with exactly `scale` decimals; 128 bits so totals x rate never wrap.
std::string FormatScaled(absl::int128 value, int scale) {
  const bool negative = value < 0;
  absl::uint128 magnitude =
      negative ? static_cast<absl::uint128>(-value) : static_cast<absl::uint128>(value);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(absl::Uint128Low64(magnitude % 10))));
    magnitude /= 10;
  } while (magnitude != 0);
  while (static_cast<int>(digits.size()) <= scale) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  std::string out;
  if (negative) out.push_back('-');
  const size_t int_len = digits.size() - static_cast<size_t>(scale);
  out.append(digits, 0, int_len);
  if (scale > 0) {
    out.push_back('.');
    out.append(digits, int_len, std::string::npos);
  }
  return out;
}

}  // namespace

absl::StatusOr<FeeRate> ParseFeeRate(std::string_view text) {
  FeeRate rate;
  bool seen_dot = false;
  int digits = 0;
  for (char c : text) {
    if (c == '.' && !seen_dot) {
      seen_dot = true;
      continue;
    }
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(
          absl::StrCat("fee rate is not a plain decimal: ", std::string(text)));
    }
    if (++digits > 18) return absl::InvalidArgumentError("fee rate has too many digits");
    rate.units = rate.units * 10 + (c - '0');
    if (seen_dot) ++rate.scale;
  }
  if (digits == 0 || text.front() == '.' || text.back() == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("fee rate is not a plain decimal: ", std::string(text)));
  }
  if (rate.scale > kMaxScale) return absl::InvalidArgumentError("fee rate has too many decimals");
  return rate;
}

std::string FormatFeeRate(const FeeRate& rate) { return FormatScaled(rate.units, rate.scale); }

std::string FormatExactFee(int64_t cents, const FeeRate& rate) {
  return FormatScaled(absl::int128(cents) * rate.units, 2 + rate.scale);
}

}  // namespace rinha
