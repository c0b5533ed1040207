// A deliberately naive second implementation of ParseDecimalCents, used as a test oracle:
// it moves the decimal point textually and rounds on the digit string, sharing no logic with
// common/money.cc. Only for small inputs (it builds strings as long as the exponent).
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/money.h"

namespace rinha::testing {

struct ReferenceCents {
  absl::StatusCode code;
  int64_t cents;  // Meaningful only when code is kOk.
};

// nullopt when the oracle declines (exponent beyond +-400 or text over 400 bytes).
inline std::optional<ReferenceCents> ReferenceParseCents(std::string_view text,
                                                         CentsRounding rounding) {
  if (text.size() > 400) return std::nullopt;
  static const std::regex kNumber(R"(^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$)");
  std::smatch match;
  const std::string owned(text);  // Matched as a whole: embedded NULs must not end the text.
  if (!std::regex_match(owned, match, kNumber)) {
    return ReferenceCents{absl::StatusCode::kInvalidArgument, 0};
  }
  const bool negative = match[1].length() == 1;
  std::string digits = match[2].str() + match[3].str();
  long long exponent = 0;
  if (match[4].matched) {
    std::string e = match[4].str();
    std::string magnitude = (e[0] == '+' || e[0] == '-') ? e.substr(1) : e;
    while (magnitude.size() > 1 && magnitude[0] == '0') magnitude.erase(0, 1);
    if (magnitude.size() > 3) return std::nullopt;
    exponent = std::stoll(magnitude) * (e[0] == '-' ? -1 : 1);
  }
  // Position of the decimal point inside `digits`, then moved two places right for cents.
  long long point = static_cast<long long>(match[2].length()) + exponent + 2;
  if (point < 0) {
    digits.insert(0, static_cast<size_t>(-point), '0');
    point = 0;
  }
  if (point > static_cast<long long>(digits.size())) {
    digits.append(static_cast<size_t>(point) - digits.size(), '0');
  }
  std::string whole = digits.substr(0, static_cast<size_t>(point));
  const std::string rest = digits.substr(static_cast<size_t>(point));
  const bool rest_is_zero = rest.find_first_not_of('0') == std::string::npos;
  if (!rest_is_zero) {
    if (rounding == CentsRounding::kExact) {
      return ReferenceCents{absl::StatusCode::kInvalidArgument, 0};
    }
    const bool tail_after_first_is_zero =
        rest.size() < 2 || rest.find_first_not_of('0', 1) == std::string::npos;
    const char last_whole = whole.empty() ? '0' : whole.back();
    const bool up = rest[0] > '5' || (rest[0] == '5' && !tail_after_first_is_zero) ||
                    (rest[0] == '5' && tail_after_first_is_zero && (last_whole - '0') % 2 == 1);
    if (up) {  // Decimal increment of the digit string.
      int i = static_cast<int>(whole.size()) - 1;
      while (i >= 0 && whole[static_cast<size_t>(i)] == '9') whole[static_cast<size_t>(i--)] = '0';
      if (i < 0) {
        whole.insert(0, 1, '1');
      } else {
        ++whole[static_cast<size_t>(i)];
      }
    }
  }
  while (whole.size() > 1 && whole[0] == '0') whole.erase(0, 1);
  if (whole.empty()) whole = "0";
  const std::string limit = negative ? "9223372036854775808" : "9223372036854775807";
  if (whole.size() > limit.size() || (whole.size() == limit.size() && whole > limit)) {
    return ReferenceCents{absl::StatusCode::kOutOfRange, 0};
  }
  const unsigned long long magnitude = std::stoull(whole);
  const int64_t cents =
      negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return ReferenceCents{absl::StatusCode::kOk, cents};
}

}  // namespace rinha::testing
