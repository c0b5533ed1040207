#include "common/iso_time.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace rinha {
namespace {

constexpr int64_t kJuly15th2025 = 1'752'582'896'000;  // 2025-07-15T12:34:56Z

absl::Time Parse(const std::string& text) {
  absl::StatusOr<absl::Time> t = ParseIsoTime(text);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status();
  return t.value_or(absl::InfinitePast());
}

bool Rejected(const std::string& text) {
  return ParseIsoTime(text).status().code() == absl::StatusCode::kInvalidArgument;
}

absl::Time Utc(int64_t y, int m, int d, int hh, int mm, int ss) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss), absl::UTCTimeZone());
}

// %E4Y pads years 0-999 to four digits; outside 0-9999 it prints the bare year like %Y.
std::string AbslFormat(int64_t unix_ms) {
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

TEST(ParseIsoTime, ReadsTheContestFormat) {
  EXPECT_EQ(Parse("2025-07-15T12:34:56.000Z"), absl::FromUnixMillis(kJuly15th2025));
  EXPECT_EQ(Parse("2025-07-15T12:34:56.789Z"), absl::FromUnixMillis(kJuly15th2025 + 789));
  EXPECT_EQ(Parse("1970-01-01T00:00:00.000Z"), absl::UnixEpoch());
}

TEST(ParseIsoTime, FractionIsOptionalAndKeepsFullPrecision) {
  EXPECT_EQ(Parse("2025-07-15T12:34:56Z"), absl::FromUnixMillis(kJuly15th2025));
  EXPECT_EQ(Parse("2025-07-15T12:34:56.1Z"), absl::FromUnixMillis(kJuly15th2025 + 100));
  EXPECT_EQ(Parse("2025-07-15T12:34:56.12Z"), absl::FromUnixMillis(kJuly15th2025 + 120));
  EXPECT_EQ(Parse("2025-07-15T12:34:56.000001Z"),
            absl::FromUnixMillis(kJuly15th2025) + absl::Microseconds(1));
  EXPECT_EQ(Parse("2025-07-15T12:34:56.123456789Z"),
            absl::FromUnixMillis(kJuly15th2025) + absl::Nanoseconds(123'456'789));
  EXPECT_EQ(Parse("2025-07-15T12:34:56.999999999Z"),
            absl::FromUnixMillis(kJuly15th2025) + absl::Nanoseconds(999'999'999));
}

TEST(ParseIsoTime, AcceptsLowerCaseSeparators) {
  EXPECT_EQ(Parse("2025-07-15t12:34:56.000z"), absl::FromUnixMillis(kJuly15th2025));
}

TEST(ParseIsoTime, AppliesNumericOffsets) {
  EXPECT_EQ(Parse("2025-07-15T13:34:56+01:00"), absl::FromUnixMillis(kJuly15th2025));
  EXPECT_EQ(Parse("2025-07-15T09:34:56.000-03:00"), absl::FromUnixMillis(kJuly15th2025));
  EXPECT_EQ(Parse("2025-07-15T12:34:56-00:00"), absl::FromUnixMillis(kJuly15th2025));
  EXPECT_EQ(Parse("2025-07-15T12:34:56+00:00"), absl::FromUnixMillis(kJuly15th2025));
  EXPECT_EQ(Parse("2025-07-16T12:33:56+23:59"), absl::FromUnixMillis(kJuly15th2025));
  EXPECT_EQ(Parse("2025-07-14T13:04:56-23:30"), absl::FromUnixMillis(kJuly15th2025));
  // Offsets may cross year boundaries in both directions.
  EXPECT_EQ(Parse("0000-01-01T00:00:00+01:00"), Utc(-1, 12, 31, 23, 0, 0));
  EXPECT_EQ(Parse("9999-12-31T23:59:59-01:00"), Utc(10000, 1, 1, 0, 59, 59));
}

TEST(ParseIsoTime, ValidatesCalendarFields) {
  EXPECT_EQ(Parse("2024-02-29T00:00:00Z"), Utc(2024, 2, 29, 0, 0, 0));
  EXPECT_EQ(Parse("2000-02-29T00:00:00Z"), Utc(2000, 2, 29, 0, 0, 0));
  EXPECT_EQ(Parse("1600-02-29T23:59:59Z"), Utc(1600, 2, 29, 23, 59, 59));
  EXPECT_EQ(Parse("0000-02-29T00:00:00Z"), Utc(0, 2, 29, 0, 0, 0));
  EXPECT_EQ(Parse("9999-12-31T23:59:59.999999999Z"),
            Utc(9999, 12, 31, 23, 59, 59) + absl::Nanoseconds(999'999'999));
  EXPECT_EQ(Parse("2025-04-30T00:00:00Z"), Utc(2025, 4, 30, 0, 0, 0));
  EXPECT_EQ(Parse("2025-12-31T00:00:00Z"), Utc(2025, 12, 31, 0, 0, 0));
  for (const char* text : {"2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
                           "2024-02-30T00:00:00Z", "2025-04-31T00:00:00Z", "2025-06-31T00:00:00Z",
                           "2025-09-31T00:00:00Z", "2025-11-31T00:00:00Z", "2025-01-32T00:00:00Z",
                           "2025-00-10T00:00:00Z", "2025-13-10T00:00:00Z", "2025-01-00T00:00:00Z",
                           "2025-01-01T24:00:00Z", "2025-01-01T23:60:00Z", "2025-01-01T23:59:60Z",
                           "2016-12-31T23:59:60Z", "2025-01-01T99:99:99Z"}) {
    EXPECT_TRUE(Rejected(text)) << text;
  }
}

TEST(ParseIsoTime, RejectsMalformedText) {
  const std::vector<std::string> bad = {
      "",
      "2025-07-15",
      "2025-07-15T12:34:56",              // No zone.
      "2025-07-15T12:34:56.000",          // No zone.
      "2025-07-15 12:34:56Z",             // Space separator.
      "2025-07-15T12:34:56.Z",            // Empty fraction.
      "2025-07-15T12:34:56.1234567891Z",  // Ten fraction digits.
      "2025-07-15T12:34:56,000Z",         // Comma fraction.
      "2025-07-15T12:34Z",                // No seconds.
      "2025-7-15T12:34:56Z",
      "2025-07-5T12:34:56Z",
      "25-07-15T12:34:56Z",
      "02025-07-15T12:34:56Z",
      "+2025-07-15T12:34:56Z",
      "-2025-07-15T12:34:56Z",
      "20250715T123456Z",  // ISO 8601 basic format is not RFC 3339.
      " 2025-07-15T12:34:56Z",
      "2025-07-15T12:34:56Z ",
      "2025-07-15T12:34:56ZZ",
      "2025-07-15T12:34:56.000Zjunk",
      "2025-07-15T12:34:56+01",
      "2025-07-15T12:34:56+0100",
      "2025-07-15T12:34:56+01:0",
      "2025-07-15T12:34:56+1:00",
      "2025-07-15T12:34:56+24:00",
      "2025-07-15T12:34:56+01:60",
      "2025-07-15T12:34:56+01:00Z",
      "2025-07-15T12:34:56UTC",
      "2025-07-15T12:34:56GMT",
      "2025-07-15T12:34:56 +01:00",
      "2025-07-15X12:34:56Z",
      "2025/07/15T12:34:56Z",
      "2025-07-15T12.34.56Z",
      "2025-07-15T12:34:5６Z",  // Full-width digit.
      "2025-07-15T-1:34:56Z",
      "2025-07-15T+1:34:56Z",
      "2025-07-15T12:34:56.-1Z",
      std::string("2025-07-15T12:34:56\0Z", 21),
      "2025-07-15T12:34:56.000\xc2\xa0Z",
  };
  for (const std::string& text : bad) EXPECT_TRUE(Rejected(text)) << text;
}

TEST(ParseIsoTime, RejectsEveryTruncation) {
  for (const std::string full :
       {"2025-07-15T12:34:56.123+01:30", "2025-07-15T12:34:56.123456789Z"}) {
    for (size_t length = 0; length < full.size(); ++length) {
      const std::string prefix = full.substr(0, length);
      // A prefix that ends right after the fraction's digits still lacks its zone.
      EXPECT_TRUE(Rejected(prefix)) << prefix;
    }
  }
}

TEST(ParseIsoTime, AgreesWithAbslCivilTimeOnRandomTimestamps) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20'000; ++i) {
    const int64_t year = static_cast<int64_t>(rng() % 10'000);
    const int month = static_cast<int>(1 + rng() % 12);
    const int day = static_cast<int>(1 + rng() % 28);
    const int hour = static_cast<int>(rng() % 24);
    const int minute = static_cast<int>(rng() % 60);
    const int second = static_cast<int>(rng() % 60);
    const int nanos = static_cast<int>(rng() % 1'000'000'000);
    const int offset_minutes = static_cast<int>(rng() % (2 * 24 * 60 - 1)) - (24 * 60 - 1);
    const int offset_abs = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    const std::string text = absl::StrFormat(
        "%04d-%02d-%02dT%02d:%02d:%02d.%09d%c%02d:%02d", year, month, day, hour, minute, second,
        nanos, offset_minutes < 0 ? '-' : '+', offset_abs / 60, offset_abs % 60);
    const absl::Time expected = Utc(year, month, day, hour, minute, second) +
                                absl::Nanoseconds(nanos) - absl::Minutes(offset_minutes);
    ASSERT_EQ(Parse(text), expected) << text;
  }
}

absl::Time ParseLenient(const std::string& text) {
  absl::StatusOr<absl::Time> t = ParseIsoTime(text, IsoZone::kAbsentIsUtc);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status();
  return t.value_or(absl::InfinitePast());
}

// Every shape docs/contest.md gives for the official processor's GET /payments/{id}: a Postgres
// `timestamp` printed by .NET with no zone and 0 to 6 fraction digits, trailing zeros dropped.
TEST(ParseIsoTimeAbsentIsUtc, ReadsTheOfficialProcessorsEcho) {
  const absl::Time at = absl::FromUnixMillis(kJuly15th2025);
  EXPECT_EQ(ParseLenient("2025-07-15T12:34:56.789"), at + absl::Milliseconds(789));
  EXPECT_EQ(ParseLenient("2025-07-15T12:34:56.78"), at + absl::Milliseconds(780));
  EXPECT_EQ(ParseLenient("2025-07-15T12:34:56.7"), at + absl::Milliseconds(700));
  EXPECT_EQ(ParseLenient("2025-07-15T12:34:56"), at);
  EXPECT_EQ(ParseLenient("2025-07-15T12:34:56.000001"), at + absl::Microseconds(1));
  EXPECT_EQ(ParseLenient("2025-07-15T12:34:56.123456"), at + absl::Microseconds(123'456));
  EXPECT_EQ(ParseLenient("2025-07-15T12:34:56.123456789"), at + absl::Nanoseconds(123'456'789));
}

TEST(ParseIsoTimeAbsentIsUtc, StillReadsZonesAndOffsetsInEveryCommonSpelling) {
  const absl::Time at = absl::FromUnixMillis(kJuly15th2025);
  EXPECT_EQ(ParseLenient("2025-07-15T12:34:56.780Z"), at + absl::Milliseconds(780));
  EXPECT_EQ(ParseLenient("2025-07-15T12:34:56.78+00:00"), at + absl::Milliseconds(780));
  EXPECT_EQ(ParseLenient("2025-07-15T14:34:56.78+02:00"), at + absl::Milliseconds(780));
  EXPECT_EQ(ParseLenient("2025-07-15T14:34:56.78+0200"), at + absl::Milliseconds(780));
  EXPECT_EQ(ParseLenient("2025-07-15T09:34:56-03"), at);
  EXPECT_EQ(ParseLenient("2025-07-15 12:34:56.78"), at + absl::Milliseconds(780));
}

TEST(ParseIsoTimeAbsentIsUtc, RejectsWhatIsNotATimestamp) {
  for (const std::string text :
       {"", "2025-07-15", "2025-07-15T12:34", "2025-07-15T12:34:56.",
        "2025-07-15T12:34:56.1234567891", "2025-07-15T12:34:56 ", "2025-07-15T12:34:56+1",
        "2025-07-15T12:34:56+01:00Z", "2025-07-15T12:34:56UTC", "2025-13-15T12:34:56", "garbage"}) {
    EXPECT_FALSE(ParseIsoTime(text, IsoZone::kAbsentIsUtc).ok()) << text;
  }
}

TEST(ParseIsoTimeAbsentIsUtc, AgreesWithTheStrictModeWhereBothRead) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 5'000; ++i) {
    const int64_t ms = static_cast<int64_t>(rng() % 4'102'444'800'000);
    const std::string text = FormatIsoMillis(ms);
    ASSERT_EQ(ParseLenient(text), Parse(text)) << text;
  }
}

TEST(FormatIsoMicrosUnzoned, WritesDotNetsShapeOfAZonelessTimestamp) {
  const int64_t us = kJuly15th2025 * 1000;
  EXPECT_EQ(FormatIsoMicrosUnzoned(us + 789'000), "2025-07-15T12:34:56.789");
  EXPECT_EQ(FormatIsoMicrosUnzoned(us + 780'000), "2025-07-15T12:34:56.78");
  EXPECT_EQ(FormatIsoMicrosUnzoned(us + 700'000), "2025-07-15T12:34:56.7");
  EXPECT_EQ(FormatIsoMicrosUnzoned(us), "2025-07-15T12:34:56");
  EXPECT_EQ(FormatIsoMicrosUnzoned(us + 1), "2025-07-15T12:34:56.000001");
  EXPECT_EQ(FormatIsoMicrosUnzoned(us + 123'450), "2025-07-15T12:34:56.12345");
  EXPECT_EQ(FormatIsoMicrosUnzoned(0), "1970-01-01T00:00:00");
  EXPECT_EQ(FormatIsoMicrosUnzoned(-1), "1969-12-31T23:59:59.999999");
}

TEST(FormatIsoMicrosUnzoned, RoundTripsThroughTheLenientParser) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 20'000; ++i) {
    const int64_t us = static_cast<int64_t>(rng() % 4'102'444'800'000'000);
    const std::string text = FormatIsoMicrosUnzoned(us);
    ASSERT_EQ(ParseLenient(text), absl::FromUnixMicros(us)) << text;
  }
}

TEST(FloorAndCeilMillis, AreIdentityOnWholeMilliseconds) {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{-1}, kJuly15th2025, -kJuly15th2025}) {
    EXPECT_EQ(FloorMillis(absl::FromUnixMillis(ms)), ms);
    EXPECT_EQ(CeilMillis(absl::FromUnixMillis(ms)), ms);
  }
}

TEST(FloorAndCeilMillis, RoundTowardMinusAndPlusInfinity) {
  const absl::Time epoch = absl::UnixEpoch();
  EXPECT_EQ(FloorMillis(epoch + absl::Microseconds(1500)), 1);
  EXPECT_EQ(CeilMillis(epoch + absl::Microseconds(1500)), 2);
  EXPECT_EQ(FloorMillis(epoch + absl::Nanoseconds(1)), 0);
  EXPECT_EQ(CeilMillis(epoch + absl::Nanoseconds(1)), 1);
  // Before 1970 floor still goes down and ceil up (not toward zero).
  EXPECT_EQ(FloorMillis(epoch - absl::Microseconds(500)), -1);
  EXPECT_EQ(CeilMillis(epoch - absl::Microseconds(500)), 0);
  EXPECT_EQ(FloorMillis(epoch - absl::Microseconds(1500)), -2);
  EXPECT_EQ(CeilMillis(epoch - absl::Microseconds(1500)), -1);
  EXPECT_EQ(FloorMillis(epoch - absl::Nanoseconds(1)), -1);
  EXPECT_EQ(CeilMillis(epoch - absl::Nanoseconds(1)), 0);
  // Sub-nanosecond resolution of absl::Time counts too.
  EXPECT_EQ(CeilMillis(epoch + absl::Nanoseconds(1) / 4), 1);
  EXPECT_EQ(FloorMillis(epoch - absl::Nanoseconds(1) / 4), -1);
}

TEST(FloorAndCeilMillis, BoundAParsedSubMillisecondWindow) {
  const absl::Time from = Parse("2025-07-15T12:34:56.000500Z");
  const absl::Time to = Parse("2025-07-15T12:34:56.999500Z");
  EXPECT_EQ(CeilMillis(from), kJuly15th2025 + 1);
  EXPECT_EQ(FloorMillis(to), kJuly15th2025 + 999);
}

TEST(FloorAndCeilMillis, SaturateForInfiniteTimes) {
  EXPECT_EQ(FloorMillis(absl::InfiniteFuture()), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(CeilMillis(absl::InfiniteFuture()), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(FloorMillis(absl::InfinitePast()), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(CeilMillis(absl::InfinitePast()), std::numeric_limits<int64_t>::min());
}

TEST(FormatIsoMillis, WritesMillisecondsAndZ) {
  EXPECT_EQ(FormatIsoMillis(kJuly15th2025), "2025-07-15T12:34:56.000Z");
  EXPECT_EQ(FormatIsoMillis(kJuly15th2025 + 7), "2025-07-15T12:34:56.007Z");
  EXPECT_EQ(FormatIsoMillis(kJuly15th2025 + 999), "2025-07-15T12:34:56.999Z");
  EXPECT_EQ(FormatIsoMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoMillis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIsoMillis(-86'400'000), "1969-12-31T00:00:00.000Z");
  EXPECT_EQ(FormatIsoMillis(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatIsoMillis(4'107'542'400'000), "2100-03-01T00:00:00.000Z");
}

TEST(FormatIsoMillis, CoversYearsZeroTo9999AndExpandsBeyond) {
  const int64_t year_zero = absl::ToUnixMillis(Utc(0, 1, 1, 0, 0, 0));
  const int64_t year_10000 = absl::ToUnixMillis(Utc(10000, 1, 1, 0, 0, 0));
  EXPECT_EQ(FormatIsoMillis(year_zero), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoMillis(year_zero - 1), "-0001-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIsoMillis(year_10000 - 1), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIsoMillis(year_10000), "+10000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoMillis(std::numeric_limits<int64_t>::max()), "+292278994-08-17T07:12:55.807Z");
  EXPECT_EQ(FormatIsoMillis(std::numeric_limits<int64_t>::min()), "-292275055-05-16T16:47:04.192Z");
}

TEST(AppendIsoMillis, AppendsToExistingText) {
  std::string out = "at ";
  AppendIsoMillis(&out, 0);
  EXPECT_EQ(out, "at 1970-01-01T00:00:00.000Z");
}

TEST(FormatIsoMillis, MatchesAbslFormatTimeAndRoundTrips) {
  std::vector<int64_t> samples;
  // Every day (at a varying time of day) of years around the interesting Gregorian rules.
  std::mt19937_64 rng(11);
  for (int64_t year : {0,    1,    4,    99,   100,  399,  400,  1582, 1600, 1899, 1900,
                       1969, 1970, 1999, 2000, 2023, 2024, 2025, 2100, 2400, 9998, 9999}) {
    const int64_t start = absl::ToUnixMillis(Utc(year, 1, 1, 0, 0, 0));
    for (int64_t day = 0; day < 366; ++day) {
      const int64_t ms = start + day * 86'400'000 + static_cast<int64_t>(rng() % 86'400'000);
      samples.push_back(ms);
      samples.push_back(start + day * 86'400'000);
      samples.push_back(start + day * 86'400'000 - 1);
    }
  }
  const int64_t lo = absl::ToUnixMillis(Utc(0, 1, 1, 0, 0, 0));
  const int64_t hi = absl::ToUnixMillis(Utc(10000, 1, 1, 0, 0, 0));
  for (int i = 0; i < 100'000; ++i) {
    samples.push_back(lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo)));
  }
  for (int64_t ms : samples) {
    if (ms < lo || ms >= hi) continue;  // Year 10000 is in the day loop for 9999.
    const std::string text = FormatIsoMillis(ms);
    ASSERT_EQ(text, AbslFormat(ms));
    absl::StatusOr<absl::Time> parsed = ParseIsoTime(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    ASSERT_EQ(FloorMillis(*parsed), ms) << text;
    ASSERT_EQ(CeilMillis(*parsed), ms) << text;
  }
}

TEST(FormatIsoMillis, MatchesAbslOutsideTheFourDigitYears) {
  const int64_t lo = absl::ToUnixMillis(Utc(-9999, 1, 1, 0, 0, 0));
  const int64_t hi = absl::ToUnixMillis(Utc(10000, 1, 1, 0, 0, 0));
  std::mt19937_64 rng(13);
  for (int i = 0; i < 20'000; ++i) {
    const auto ms = static_cast<int64_t>(rng());
    if (ms >= lo && ms < hi) continue;  // Covered above (absl pads small years differently).
    std::string expected = AbslFormat(ms);
    // absl prints the bare year number; ISO 8601 expanded years carry a sign.
    if (ms >= hi) expected.insert(0, "+");
    ASSERT_EQ(FormatIsoMillis(ms), expected) << ms;
  }
}

}  // namespace
}  // namespace rinha
