#include "common/money.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rinha {
namespace {

// Exponents are clamped here while reading: any larger magnitude behaves the same because the text
// cannot hold enough digits (2^50 bytes) to bring the value back into range.
constexpr int64_t kExponentClamp = int64_t{1} << 50;

// 19 decimal digits always fit in uint64 (10^19 - 1 < 2^64); int64 cents never need 20.
constexpr int kMaxDigits = 19;

constexpr uint64_t kPow10[kMaxDigits + 1] = {1ULL,
                                             10ULL,
                                             100ULL,
                                             1000ULL,
                                             10000ULL,
                                             100000ULL,
                                             1000000ULL,
                                             10000000ULL,
                                             100000000ULL,
                                             1000000000ULL,
                                             10000000000ULL,
                                             100000000000ULL,
                                             1000000000000ULL,
                                             10000000000000ULL,
                                             100000000000000ULL,
                                             1000000000000000ULL,
                                             10000000000000000ULL,
                                             100000000000000000ULL,
                                             1000000000000000000ULL,
                                             10000000000000000000ULL};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

absl::Status NotANumber() { return absl::InvalidArgumentError("amount is not a JSON number"); }
absl::Status TooLarge() { return absl::OutOfRangeError("amount does not fit in int64 cents"); }

// The mantissa digits of a number are the integer digits followed by the fraction digits; this
// views them as one sequence without copying.
class Digits {
 public:
  Digits(std::string_view integer, std::string_view fraction)
      : integer_(integer), fraction_(fraction) {}
  size_t size() const { return integer_.size() + fraction_.size(); }
  int operator[](size_t i) const {
    const char c = i < integer_.size() ? integer_[i] : fraction_[i - integer_.size()];
    return c - '0';
  }

 private:
  std::string_view integer_;
  std::string_view fraction_;
};

// Value of digits[begin, begin + count) with count <= kMaxDigits.
uint64_t Accumulate(const Digits& digits, size_t begin, size_t count) {
  uint64_t value = 0;
  for (size_t i = 0; i < count; ++i) value = value * 10 + static_cast<uint64_t>(digits[begin + i]);
  return value;
}

}  // namespace

absl::StatusOr<int64_t> ParseDecimalCents(std::string_view text, CentsRounding rounding) {
  const size_t n = text.size();
  size_t i = 0;
  const bool negative = i < n && text[i] == '-';
  if (negative) ++i;

  // int = "0" / digit1-9 *DIGIT
  const size_t int_begin = i;
  if (i >= n || !IsDigit(text[i])) return NotANumber();
  if (text[i] == '0') {
    ++i;
  } else {
    while (i < n && IsDigit(text[i])) ++i;
  }
  const std::string_view integer = text.substr(int_begin, i - int_begin);

  std::string_view fraction;
  if (i < n && text[i] == '.') {
    const size_t frac_begin = ++i;
    while (i < n && IsDigit(text[i])) ++i;
    if (i == frac_begin) return NotANumber();
    fraction = text.substr(frac_begin, i - frac_begin);
  }

  int64_t exponent = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) {
      exponent_negative = text[i] == '-';
      ++i;
    }
    if (i >= n || !IsDigit(text[i])) return NotANumber();
    for (; i < n && IsDigit(text[i]); ++i) {
      if (exponent < kExponentClamp) exponent = exponent * 10 + (text[i] - '0');
    }
    if (exponent_negative) exponent = -exponent;
  }
  if (i != n) return NotANumber();

  // cents = mantissa digits * 10^scale. Strip leading and trailing zeros so that only the
  // significant digits remain; their count bounds the magnitude.
  const Digits digits(integer, fraction);
  const size_t total = digits.size();
  size_t first = 0;
  while (first < total && digits[first] == 0) ++first;
  if (first == total) return 0;  // Any spelling of zero, "-0.0" and "0e999999999" included.
  size_t last = total - 1;
  while (digits[last] == 0) --last;
  const int64_t significant = static_cast<int64_t>(last - first + 1);
  const int64_t scale =
      exponent - static_cast<int64_t>(fraction.size()) + 2 + static_cast<int64_t>(total - 1 - last);
  // Number of significant digits at or above the cents position; the first one is non-zero, so
  // the magnitude is at least 10^(whole_digits - 1).
  const int64_t whole_digits = significant + scale;
  // A cent fraction is a property of the text, so it is reported before the magnitude.
  if (scale < 0 && rounding == CentsRounding::kExact) {
    return absl::InvalidArgumentError("amount has more than two decimal places");
  }
  if (whole_digits > kMaxDigits) return TooLarge();

  uint64_t magnitude;
  if (scale >= 0) {
    // whole_digits <= 19, so significant <= 19 and the product stays below 10^19.
    magnitude = Accumulate(digits, first, static_cast<size_t>(significant)) *
                kPow10[static_cast<size_t>(scale)];
  } else {
    // Non-zero digits below a cent (the last significant digit is one of them), kHalfEven.
    // Half-even on the exact value: the first dropped digit decides, unless it is exactly 5 with
    // nothing after it, which is the tie.
    magnitude = whole_digits > 0 ? Accumulate(digits, first, static_cast<size_t>(whole_digits)) : 0;
    int first_dropped = 0;  // A dropped leading zero when whole_digits < 0.
    bool more_after_first_dropped = true;
    if (whole_digits >= 0) {
      first_dropped = digits[first + static_cast<size_t>(whole_digits)];
      more_after_first_dropped = whole_digits + 1 < significant;
    }
    const bool round_up = first_dropped > 5 || (first_dropped == 5 &&
                                                (more_after_first_dropped || (magnitude & 1) == 1));
    if (round_up) ++magnitude;  // magnitude < 10^19 before, so no wrap.
  }

  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (magnitude > kMaxPositive + (negative ? 1 : 0)) return TooLarge();
  if (!negative) return static_cast<int64_t>(magnitude);
  if (magnitude == kMaxPositive + 1) return std::numeric_limits<int64_t>::min();
  return -static_cast<int64_t>(magnitude);
}

std::string FormatCents(int64_t cents) {
  std::string out;
  AppendCents(&out, cents);
  return out;
}

void AppendCents(std::string* out, int64_t cents) {
  // Unsigned negation keeps INT64_MIN well defined.
  uint64_t magnitude = static_cast<uint64_t>(cents);
  if (cents < 0) magnitude = 0 - magnitude;
  char buffer[24];  // Longest: "-92233720368547758.08" (21 chars).
  char* const end = buffer + sizeof(buffer);
  char* p = end;
  const uint64_t fraction = magnitude % 100;
  uint64_t whole = magnitude / 100;
  *--p = static_cast<char>('0' + fraction % 10);
  *--p = static_cast<char>('0' + fraction / 10);
  *--p = '.';
  do {
    *--p = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole != 0);
  if (cents < 0) *--p = '-';
  out->append(p, static_cast<size_t>(end - p));
}

}  // namespace rinha
