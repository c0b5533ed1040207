#include "processor/dotnet_wire.h"

#include <algorithm>
#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/iso_time.h"
#include "common/money.h"
#include "common/uuid.h"

namespace rinha::processor {
namespace {

// .NET DateTime ticks (100 ns since 0001-01-01) of the Unix and the Postgres epochs, and of
// DateTime.MaxValue.
constexpr int64_t kUnixEpochTicks = 621'355'968'000'000'000;
constexpr int64_t kPostgresEpochTicks = 630'822'816'000'000'000;  // 2000-01-01
constexpr int64_t kMaxTicks = 3'155'378'975'999'999'999;
constexpr int64_t kTicksPerSecond = 10'000'000;

absl::Status BadDateTime() {
  return absl::InvalidArgumentError("not a DateTime System.Text.Json reads");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// text[pos, pos + n) as a decimal number; false unless all are digits.
bool ReadDigits(std::string_view text, size_t pos, size_t n, int* out) {
  if (pos + n > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(text[i])) return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// What Npgsql writes for a DateTime of `ticks` to a timestamp column, as Unix microseconds:
// (ticks - 2000-01-01) / 10, C#'s division truncating toward zero.
int64_t NpgsqlMicros(int64_t ticks) {
  return (ticks - kPostgresEpochTicks) / 10 + (kPostgresEpochTicks - kUnixEpochTicks) / 10;
}

absl::StatusOr<int64_t> MicrosOfTicks(int64_t ticks) {
  if (ticks < 0 || ticks > kMaxTicks) {
    return absl::InvalidArgumentError("outside DateTime's range (years 0001-9999)");
  }
  return NpgsqlMicros(ticks);
}

bool IsWhiteSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool AllHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return HexValue(c) >= 0; });
}

std::string LowerHex(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "0x" + 1..max_digits hex digits at text[*pos]; advances past them.
bool ReadHexComponent(std::string_view text, size_t* pos, size_t max_digits, uint64_t* value) {
  size_t i = *pos;
  if (i + 2 > text.size() || text[i] != '0' || (text[i + 1] != 'x' && text[i + 1] != 'X')) {
    return false;
  }
  i += 2;
  const size_t begin = i;
  uint64_t v = 0;
  while (i < text.size() && HexValue(text[i]) >= 0 && i - begin < max_digits) {
    v = v * 16 + static_cast<uint64_t>(HexValue(text[i]));
    ++i;
  }
  if (i == begin) return false;
  *pos = i;
  *value = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, std::string_view what) {
  if (text.substr(*pos, what.size()) != what) return false;
  *pos += what.size();
  return true;
}

void AppendHex(std::string* out, uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out->push_back(kHex[(value >> shift) & 0xf]);
  }
}

// {0xAAAAAAAA,0xBBBB,0xCCCC,{0xDD,0xDD,0xDD,0xDD,0xDD,0xDD,0xDD,0xDD}}, whitespace removed.
absl::StatusOr<std::string> ParseGuidX(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (!IsWhiteSpace(c)) compact.push_back(c);
  }
  const std::string_view s = compact;
  size_t pos = 0;
  uint64_t a = 0, b = 0, c = 0;
  uint64_t bytes[8] = {};
  bool ok = Expect(s, &pos, "{") && ReadHexComponent(s, &pos, 8, &a) && Expect(s, &pos, ",") &&
            ReadHexComponent(s, &pos, 4, &b) && Expect(s, &pos, ",") &&
            ReadHexComponent(s, &pos, 4, &c) && Expect(s, &pos, ",{");
  for (int i = 0; ok && i < 8; ++i) {
    ok = (i == 0 || Expect(s, &pos, ",")) && ReadHexComponent(s, &pos, 2, &bytes[i]);
  }
  ok = ok && Expect(s, &pos, "}}") && pos == s.size();
  if (!ok) return absl::InvalidArgumentError("not a Guid in the X form");
  std::string out;
  out.reserve(36);
  AppendHex(&out, a, 8);
  out.push_back('-');
  AppendHex(&out, b, 4);
  out.push_back('-');
  AppendHex(&out, c, 4);
  out.push_back('-');
  AppendHex(&out, bytes[0], 2);
  AppendHex(&out, bytes[1], 2);
  out.push_back('-');
  for (int i = 2; i < 8; ++i) AppendHex(&out, bytes[i], 2);
  return out;
}

}  // namespace

absl::StatusOr<DecimalAmount> ParseDecimalAmount(std::string_view json_number) {
  absl::StatusOr<int64_t> cents = ParseDecimalCents(json_number, CentsRounding::kHalfEven);
  if (!cents.ok()) return cents.status();
  // The grammar is valid here: [-] int [. frac] [e|E [+|-] digits].
  size_t i = json_number.front() == '-' ? 1 : 0;
  while (i < json_number.size() && IsDigit(json_number[i])) ++i;
  int64_t fraction_digits = 0;
  if (i < json_number.size() && json_number[i] == '.') {
    ++i;
    while (i < json_number.size() && IsDigit(json_number[i])) {
      ++i;
      ++fraction_digits;
    }
  }
  int64_t exponent = 0;
  if (i < json_number.size()) {  // 'e' or 'E'
    ++i;
    bool negative = false;
    if (json_number[i] == '+' || json_number[i] == '-') negative = json_number[i++] == '-';
    // Any exponent beyond a few digits' worth gives the same clamped scale.
    for (; i < json_number.size(); ++i) {
      exponent = std::min<int64_t>(exponent * 10 + (json_number[i] - '0'), int64_t{1} << 40);
    }
    if (negative) exponent = -exponent;
  }
  const int64_t scale = std::clamp<int64_t>(fraction_digits - exponent, 0, 2);
  return DecimalAmount{*cents, static_cast<int>(scale)};
}

std::string FormatDecimal(absl::int128 unscaled, int scale) {
  const bool negative = unscaled < 0;
  absl::uint128 magnitude =
      negative ? static_cast<absl::uint128>(-unscaled) : static_cast<absl::uint128>(unscaled);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(absl::Uint128Low64(magnitude % 10))));
    magnitude /= 10;
  } while (magnitude != 0);
  while (static_cast<int>(digits.size()) <= scale) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  std::string out;
  if (negative) out.push_back('-');
  const size_t integer_digits = digits.size() - static_cast<size_t>(scale);
  out.append(digits, 0, integer_digits);
  if (scale > 0) {
    out.push_back('.');
    out.append(digits, integer_digits, std::string::npos);
  }
  return out;
}

std::string FormatAmount(const DecimalAmount& amount) {
  const int64_t divisor = amount.scale >= 2 ? 1 : amount.scale == 1 ? 10 : 100;
  return FormatDecimal(amount.cents / divisor, std::clamp(amount.scale, 0, 2));
}

absl::StatusOr<int64_t> ParseJsonDateTimeMicros(std::string_view text) {
  int year, month, day;
  if (text.size() < 10 || !ReadDigits(text, 0, 4, &year) || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day)) {
    return BadDateTime();
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return BadDateTime();
  }
  int hour = 0, minute = 0, second = 0;
  int64_t fraction_ticks = 0;
  int offset_minutes = 0;
  size_t pos = 10;
  if (pos < text.size()) {
    if (text[pos] != 'T' || !ReadDigits(text, 11, 2, &hour) || text.size() < 16 ||
        text[13] != ':' || !ReadDigits(text, 14, 2, &minute) || hour > 23 || minute > 59) {
      return BadDateTime();
    }
    pos = 16;
    if (pos < text.size() && text[pos] == ':') {
      if (!ReadDigits(text, pos + 1, 2, &second) || second > 59) return BadDateTime();
      pos += 3;
      if (pos < text.size() && text[pos] == '.') {
        const size_t begin = ++pos;
        while (pos < text.size() && IsDigit(text[pos])) ++pos;
        const size_t digits = pos - begin;
        if (digits == 0 || digits > 16) return BadDateTime();
        // Only the first seven digits count; the rest read as zeros.
        for (size_t i = 0; i < 7; ++i) {
          fraction_ticks = fraction_ticks * 10 + (i < digits ? text[begin + i] - '0' : 0);
        }
      }
    }
    if (pos < text.size()) {
      if (text[pos] == 'Z') {
        ++pos;
      } else if (text[pos] == '+' || text[pos] == '-') {
        const int sign = text[pos] == '-' ? -1 : 1;
        int offset_hour = 0, offset_minute = 0;
        if (!ReadDigits(text, pos + 1, 2, &offset_hour)) return BadDateTime();
        pos += 3;
        if (pos < text.size()) {
          if (text[pos] != ':' || !ReadDigits(text, pos + 1, 2, &offset_minute)) {
            return BadDateTime();
          }
          pos += 3;
        }
        // DateTimeOffset's range: at most 14 hours either way.
        if (offset_minute > 59 || offset_hour * 60 + offset_minute > 14 * 60) return BadDateTime();
        offset_minutes = sign * (offset_hour * 60 + offset_minute);
      }
    }
    if (pos != text.size()) return BadDateTime();
  }
  const int64_t seconds =
      DaysFromCivil(year, month, day) * 86'400 + hour * 3600 + minute * 60 + second;
  // A time with an offset is the instant it names; the local time of a UTC container is UTC.
  return MicrosOfTicks(kUnixEpochTicks +
                       (seconds - int64_t{offset_minutes} * 60) * kTicksPerSecond + fraction_ticks);
}

absl::StatusOr<int64_t> ParseQueryDateTimeMicros(std::string_view text) {
  if (absl::StatusOr<int64_t> json = ParseJsonDateTimeMicros(text); json.ok()) return json;
  absl::StatusOr<absl::Time> t = ParseIsoTime(text, IsoZone::kAbsentIsUtc);
  if (!t.ok()) return BadDateTime();
  const int64_t seconds = absl::ToUnixSeconds(*t);  // rounds toward -infinity
  // Within DateTime's range, so that the ticks below cannot overflow.
  if (seconds < -62'135'596'800 || seconds > 253'402'300'799) return BadDateTime();
  absl::Duration rest;
  const int64_t sub_ticks =
      absl::IDivDuration(*t - absl::FromUnixSeconds(seconds), absl::Nanoseconds(100), &rest);
  return MicrosOfTicks(kUnixEpochTicks + seconds * kTicksPerSecond + sub_ticks);
}

absl::StatusOr<std::string> ParseRouteGuid(std::string_view text) {
  while (!text.empty() && IsWhiteSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsWhiteSpace(text.back())) text.remove_suffix(1);
  const absl::Status bad = absl::InvalidArgumentError("not a Guid");
  if (text.empty()) return bad;
  const bool has_dash = text.find('-') != std::string_view::npos;
  if (text.front() == '(' || (text.front() == '{' && has_dash)) {
    const char close = text.front() == '(' ? ')' : '}';
    if (text.size() != 38 || text.back() != close) return bad;
    text = text.substr(1, 36);
  } else if (text.front() == '{') {
    return ParseGuidX(text);
  } else if (!has_dash) {
    if (text.size() != 32 || !AllHex(text)) return bad;
    const std::string n = LowerHex(text);
    return n.substr(0, 8) + "-" + n.substr(8, 4) + "-" + n.substr(12, 4) + "-" + n.substr(16, 4) +
           "-" + n.substr(20);
  }
  absl::StatusOr<std::string> d = CanonicalUuid(text);
  if (!d.ok()) return bad;
  return d;
}

bool IsJsonContentType(std::optional<std::string_view> content_type) {
  if (!content_type.has_value()) return false;
  std::string_view media = content_type->substr(0, content_type->find(';'));
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  std::string lower(media);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "application/json") return true;
  const size_t slash = lower.find('/');
  if (slash == std::string::npos || slash == 0) return false;
  const std::string_view subtype = std::string_view(lower).substr(slash + 1);
  constexpr std::string_view kSuffix = "+json";
  return subtype.size() > kSuffix.size() &&
         subtype.substr(subtype.size() - kSuffix.size()) == kSuffix &&
         subtype.find_first_of(" \t/") == std::string_view::npos;
}

}  // namespace rinha::processor
