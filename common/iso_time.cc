#include "common/iso_time.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rinha {
namespace {

constexpr int64_t kSecondsPerDay = 86'400;
constexpr int64_t kMillisPerDay = kSecondsPerDay * 1000;

bool IsLeapYear(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date. Counts in 400-year eras (146097 days each)
// of years starting on March 1st, so the leap day is the last day of its year.
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;                            // [0, 399]
  const int64_t month_from_march = month > 2 ? month - 3 : month + 9;      // [0, 11]
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;  // [0, 365]
  const int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // [0, 146096]
  return era * 146'097 + day_of_era - 719'468;
}

struct CivilDate {
  int64_t year;
  int month;
  int day;
};

// Inverse of DaysFromCivil, valid for every int64 day count that an int64 of milliseconds yields.
CivilDate CivilFromDays(int64_t days) {
  days += 719'468;
  const int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const int64_t day_of_era = days - era * 146'097;  // [0, 146096]
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;  // [0, 11]
  CivilDate date;
  date.day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  date.month =
      static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  date.year = year_of_era + era * 400 + (date.month <= 2 ? 1 : 0);
  return date;
}

absl::Status Malformed() {
  return absl::InvalidArgumentError("not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.fff]Z)");
}

// Reads `count` ASCII digits at text[pos]; false if any is missing or not a digit.
bool ReadDigits(std::string_view text, size_t pos, size_t count, int* value) {
  if (pos + count > text.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *value = v;
  return true;
}

bool CharAt(std::string_view text, size_t pos, char expected) {
  return pos < text.size() && text[pos] == expected;
}

char* WriteTwoDigits(char* p, int value) {
  p[0] = static_cast<char>('0' + value / 10);
  p[1] = static_cast<char>('0' + value % 10);
  return p + 2;
}

}  // namespace

absl::StatusOr<absl::Time> ParseIsoTime(std::string_view text, IsoZone zone) {
  const bool lenient = zone == IsoZone::kAbsentIsUtc;
  int year, month, day, hour, minute, second;
  if (!ReadDigits(text, 0, 4, &year) || !CharAt(text, 4, '-') || !ReadDigits(text, 5, 2, &month) ||
      !CharAt(text, 7, '-') || !ReadDigits(text, 8, 2, &day) ||
      !(CharAt(text, 10, 'T') || CharAt(text, 10, 't') || (lenient && CharAt(text, 10, ' '))) ||
      !ReadDigits(text, 11, 2, &hour) || !CharAt(text, 13, ':') ||
      !ReadDigits(text, 14, 2, &minute) || !CharAt(text, 16, ':') ||
      !ReadDigits(text, 17, 2, &second)) {
    return Malformed();
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return absl::InvalidArgumentError("RFC 3339 timestamp has a field out of range");
  }

  size_t pos = 19;
  int64_t nanos = 0;
  if (CharAt(text, pos, '.')) {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++digits > 9) return Malformed();
      nanos = nanos * 10 + (text[pos] - '0');
      ++pos;
    }
    if (digits == 0) return Malformed();
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }

  int64_t offset_seconds = 0;
  if (CharAt(text, pos, 'Z') || CharAt(text, pos, 'z')) {
    ++pos;
  } else if (CharAt(text, pos, '+') || CharAt(text, pos, '-')) {
    const bool behind_utc = text[pos] == '-';
    int offset_hour, offset_minute = 0;
    if (!ReadDigits(text, pos + 1, 2, &offset_hour)) return Malformed();
    if (CharAt(text, pos + 3, ':')) {
      if (!ReadDigits(text, pos + 4, 2, &offset_minute)) return Malformed();
      pos += 6;
    } else if (lenient && ReadDigits(text, pos + 3, 2, &offset_minute)) {
      pos += 5;  // +HHMM
    } else if (lenient) {
      pos += 3;  // +HH
    } else {
      return Malformed();
    }
    if (offset_hour > 23 || offset_minute > 59) {
      return absl::InvalidArgumentError("RFC 3339 timestamp has an offset out of range");
    }
    offset_seconds = (offset_hour * 3600 + offset_minute * 60) * (behind_utc ? -1 : 1);
  } else if (!lenient || pos != text.size()) {
    return Malformed();
  }
  if (pos != text.size()) return Malformed();

  const int64_t seconds = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 +
                          minute * 60 + second - offset_seconds;
  return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
}

int64_t FloorMillis(absl::Time t) {
  // absl rounds toward negative infinity and saturates for infinite times.
  return absl::ToUnixMillis(t);
}

int64_t CeilMillis(absl::Time t) {
  const int64_t floor = absl::ToUnixMillis(t);
  if (floor == std::numeric_limits<int64_t>::max()) return floor;
  return absl::FromUnixMillis(floor) < t ? floor + 1 : floor;
}

std::string FormatIsoMillis(int64_t unix_ms) {
  std::string out;
  AppendIsoMillis(&out, unix_ms);
  return out;
}

namespace {

// "YYYY-MM-DDTHH:MM:SS" of a second since the epoch, for years 0000-9999.
char* WriteIsoSeconds(char* p, int64_t unix_seconds) {
  int64_t days = unix_seconds / kSecondsPerDay;
  int64_t second_of_day = unix_seconds % kSecondsPerDay;
  if (second_of_day < 0) {
    second_of_day += kSecondsPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  const int y = static_cast<int>(date.year);
  p = WriteTwoDigits(p, y / 100);
  p = WriteTwoDigits(p, y % 100);
  *p++ = '-';
  p = WriteTwoDigits(p, date.month);
  *p++ = '-';
  p = WriteTwoDigits(p, date.day);
  *p++ = 'T';
  p = WriteTwoDigits(p, static_cast<int>(second_of_day / 3600));
  *p++ = ':';
  p = WriteTwoDigits(p, static_cast<int>(second_of_day / 60 % 60));
  *p++ = ':';
  return WriteTwoDigits(p, static_cast<int>(second_of_day % 60));
}

}  // namespace

std::string FormatIsoMicrosUnzoned(int64_t unix_us) {
  // 0000-01-01T00:00:00 and 9999-12-31T23:59:59.999999 in µs since the epoch.
  constexpr int64_t kMinUs = -62'167'219'200'000'000;
  constexpr int64_t kMaxUs = 253'402'300'799'999'999;
  unix_us = std::clamp(unix_us, kMinUs, kMaxUs);
  int64_t seconds = unix_us / 1'000'000;
  int64_t micros = unix_us % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    --seconds;
  }
  char buffer[32];
  char* p = WriteIsoSeconds(buffer, seconds);
  if (micros != 0) {
    *p++ = '.';
    int digits = 6;
    while (micros % 10 == 0) {
      micros /= 10;
      --digits;
    }
    for (int i = digits - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + micros % 10);
      micros /= 10;
    }
    p += digits;
  }
  return std::string(buffer, static_cast<size_t>(p - buffer));
}

void AppendIsoMillis(std::string* out, int64_t unix_ms) {
  // Floor division so that times before 1970 land on the previous day.
  int64_t days = unix_ms / kMillisPerDay;
  int64_t ms_of_day = unix_ms % kMillisPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMillisPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  const int ms = static_cast<int>(ms_of_day % 1000);
  const int64_t seconds_of_day = ms_of_day / 1000;

  char buffer[48];
  char* p = buffer;
  if (date.year >= 0 && date.year <= 9999) {
    const int y = static_cast<int>(date.year);
    p = WriteTwoDigits(p, y / 100);
    p = WriteTwoDigits(p, y % 100);
  } else {
    // ISO 8601 expanded year: sign and at least four digits.
    *p++ = date.year < 0 ? '-' : '+';
    uint64_t magnitude = static_cast<uint64_t>(date.year);
    if (date.year < 0) magnitude = 0 - magnitude;
    char digits[24];
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + magnitude % 10);
      magnitude /= 10;
    } while (magnitude != 0);
    while (count < 4) digits[count++] = '0';
    while (count > 0) *p++ = digits[--count];
  }
  *p++ = '-';
  p = WriteTwoDigits(p, date.month);
  *p++ = '-';
  p = WriteTwoDigits(p, date.day);
  *p++ = 'T';
  p = WriteTwoDigits(p, static_cast<int>(seconds_of_day / 3600));
  *p++ = ':';
  p = WriteTwoDigits(p, static_cast<int>(seconds_of_day / 60 % 60));
  *p++ = ':';
  p = WriteTwoDigits(p, static_cast<int>(seconds_of_day % 60));
  *p++ = '.';
  *p++ = static_cast<char>('0' + ms / 100);
  p = WriteTwoDigits(p, ms % 100);
  *p++ = 'Z';
  out->append(buffer, static_cast<size_t>(p - buffer));
}

}  // namespace rinha
