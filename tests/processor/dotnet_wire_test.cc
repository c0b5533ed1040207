// The official processor's value formats, each case as its .NET stack reads or prints it.
#include "processor/dotnet_wire.h"

#include <string>

#include "absl/numeric/int128.h"
#include "gtest/gtest.h"

namespace rinha::processor {
namespace {

constexpr int64_t kT = 1'752'582'896'000'000;  // 2025-07-15T12:34:56Z, in microseconds

// The amount GET /payments/{id} prints back for a JSON number sent in POST /payments.
std::string ReadBack(std::string_view sent) {
  absl::StatusOr<DecimalAmount> amount = ParseDecimalAmount(sent);
  if (!amount.ok()) return "error";
  return FormatAmount(*amount);
}

TEST(ProcessorDotnetWireTest, AmountKeepsTheScaleItWasSentWithAfterRoundingToCents) {
  EXPECT_EQ(ReadBack("20.05"), "20.05");
  EXPECT_EQ(ReadBack("19.9"), "19.9");
  EXPECT_EQ(ReadBack("19.90"), "19.90");
  EXPECT_EQ(ReadBack("20.00"), "20.00");
  EXPECT_EQ(ReadBack("20"), "20");
  EXPECT_EQ(ReadBack("1000"), "1000");
  EXPECT_EQ(ReadBack("0.0"), "0.0");
  EXPECT_EQ(ReadBack("-19.9"), "-19.9");
}

TEST(ProcessorDotnetWireTest, AmountBeyondCentsIsRoundedHalfToEvenToScaleTwo) {
  EXPECT_EQ(ReadBack("19.999"), "20.00");
  EXPECT_EQ(ReadBack("0.125"), "0.12");
  EXPECT_EQ(ReadBack("0.135"), "0.14");
  EXPECT_EQ(ReadBack("20.050"), "20.05");
  EXPECT_EQ(ReadBack("1e-30"), "0.00");
  // Postgres's numeric has no negative zero.
  EXPECT_EQ(ReadBack("-0.001"), "0.00");
}

// .NET's parser sets the scale to max(0, fraction digits - exponent).
TEST(ProcessorDotnetWireTest, AmountInExponentFormGetsTheScaleDotNetGivesIt) {
  EXPECT_EQ(ReadBack("2005e-2"), "20.05");
  EXPECT_EQ(ReadBack("1.5e1"), "15");
  EXPECT_EQ(ReadBack("1500e-2"), "15.00");
  EXPECT_EQ(ReadBack("19.90E+1"), "199.0");
  EXPECT_EQ(ReadBack("2E3"), "2000");
  EXPECT_EQ(ReadBack("0e5"), "0");
  EXPECT_EQ(ReadBack("0.000e1"), "0.00");
}

TEST(ProcessorDotnetWireTest, AmountThatIsNoJsonNumberOrTooLargeIsAnError) {
  EXPECT_EQ(ReadBack(""), "error");
  EXPECT_EQ(ReadBack("abc"), "error");
  EXPECT_EQ(ReadBack("01"), "error");
  EXPECT_EQ(ReadBack("1."), "error");
  EXPECT_EQ(ReadBack("1e999"), "error");
}

TEST(ProcessorDotnetWireTest, FormatDecimalPrintsExactlyTheScaleAndNoNegativeZero) {
  EXPECT_EQ(FormatDecimal(0, 0), "0");
  EXPECT_EQ(FormatDecimal(0, 2), "0.00");
  EXPECT_EQ(FormatDecimal(1990, 3), "1.990");
  EXPECT_EQ(FormatDecimal(-1990, 3), "-1.990");
  EXPECT_EQ(FormatDecimal(5, 4), "0.0005");
  EXPECT_EQ(FormatDecimal(398, 1), "39.8");
  EXPECT_EQ(FormatDecimal(absl::MakeInt128(1, 0), 2), "184467440737095516.16");
}

TEST(ProcessorDotnetWireTest, JsonDateTimeReadsEveryShapeOfTheIsoProfile) {
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T12:34:56.780Z"), kT + 780'000);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T12:34:56.78"), kT + 780'000);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T12:34:56"), kT);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T12:34:56Z"), kT);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T12:34"), kT - 56'000'000);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T12:34Z"), kT - 56'000'000);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15"), kT - (12 * 3600 + 34 * 60 + 56) * 1'000'000LL);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T14:34:56+02:00"), kT);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T14:34:56+02"), kT);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T10:04:56.5-02:30"), kT + 500'000);
  EXPECT_EQ(*ParseJsonDateTimeMicros("0001-01-01T00:00:00"), kDateTimeMinMicros);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2024-02-29T00:00:00Z"), 1'709'164'800'000'000);
}

// System.Text.Json keeps 7 fraction digits (ticks) and ignores up to 9 more; Npgsql then drops
// the 7th, truncating toward 2000-01-01 (C#'s integer division).
TEST(ProcessorDotnetWireTest, JsonDateTimeKeepsMicrosecondsTruncatedTowardTheYear2000) {
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T12:34:56.123456Z"), kT + 123'456);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T12:34:56.1234567Z"), kT + 123'456);
  EXPECT_EQ(*ParseJsonDateTimeMicros("2025-07-15T12:34:56.1234569999999999Z"), kT + 123'456);
  EXPECT_FALSE(ParseJsonDateTimeMicros("2025-07-15T12:34:56.12345699999999999Z").ok());
  // Before 2000 the truncation goes up: 0.9 µs before 1970 is 1970 itself.
  EXPECT_EQ(*ParseJsonDateTimeMicros("1969-12-31T23:59:59.9999991Z"), 0);
  EXPECT_EQ(*ParseJsonDateTimeMicros("1999-12-31T23:59:59.9999995Z"), 946'684'800'000'000);
  EXPECT_EQ(*ParseJsonDateTimeMicros("9999-12-31T23:59:59.9999999"), 253'402'300'799'999'999);
}

TEST(ProcessorDotnetWireTest, JsonDateTimeRejectsWhatSystemTextJsonRejects) {
  for (const char* text :
       {"2025-07-15t12:34:56Z", "2025-07-15T12:34:56z", "2025-07-15 12:34:56",
        "2025-07-15T12:34:56.", "2025-07-15T12:34:56.Z", "2025-02-30", "0000-01-01T00:00:00",
        "2025-07-15T24:00:00", "2025-07-15T12:34:60", "2025-07-15T12:34:56+15:00",
        "2025-07-15T12:34:56+0200", "2025-07-15T12:34:56+02:", "2025-07-15T12", "2025-07-15Z",
        "2025-7-15", "0001-01-01T00:00:00+01:00", "yesterday", ""}) {
    EXPECT_FALSE(ParseJsonDateTimeMicros(text).ok()) << text;
  }
}

TEST(ProcessorDotnetWireTest, QueryDateTimeReadsTheJsonShapesAndIsoVariants) {
  EXPECT_EQ(*ParseQueryDateTimeMicros("2025-07-15T12:34:56.000Z"), kT);
  EXPECT_EQ(*ParseQueryDateTimeMicros("2025-07-15T12:34:56"), kT);
  EXPECT_EQ(*ParseQueryDateTimeMicros("2025-07-15 12:34:56"), kT);
  EXPECT_EQ(*ParseQueryDateTimeMicros("2025-07-15t12:34:56.001z"), kT + 1000);
  EXPECT_EQ(*ParseQueryDateTimeMicros("2025-07-15T14:34:56+0200"), kT);
  EXPECT_EQ(*ParseQueryDateTimeMicros("2025-07-15T12:34:56.0000019Z"), kT + 1);
  EXPECT_FALSE(ParseQueryDateTimeMicros("yesterday").ok());
  EXPECT_FALSE(ParseQueryDateTimeMicros("0000-01-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseQueryDateTimeMicros("").ok());
}

TEST(ProcessorDotnetWireTest, RouteGuidReadsEveryFormGuidTryParseReads) {
  const std::string d = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";
  EXPECT_EQ(*ParseRouteGuid(d), d);
  EXPECT_EQ(*ParseRouteGuid("4A7901B8-7D26-4D9D-AA19-4DC1C7CF60B3"), d);
  EXPECT_EQ(*ParseRouteGuid("4a7901b87d264d9daa194dc1c7cf60b3"), d);
  EXPECT_EQ(*ParseRouteGuid("{4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3}"), d);
  EXPECT_EQ(*ParseRouteGuid("(4A7901B8-7d26-4d9d-aa19-4dc1c7cf60b3)"), d);
  EXPECT_EQ(*ParseRouteGuid("{0x4a7901b8,0x7d26,0x4d9d,{0xaa,0x19,0x4d,0xc1,0xc7,0xcf,0x60,0xb3}}"),
            d);
  EXPECT_EQ(*ParseRouteGuid("{ 0x1, 0x2,0X3,{0x4,0x5,0x6,0x7,0x8,0x9,0xa,0xB}}"),
            "00000001-0002-0003-0405-060708090a0b");
  EXPECT_EQ(*ParseRouteGuid(" \t4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3 "), d);
}

TEST(ProcessorDotnetWireTest, RouteGuidRejectsWhatIsNoGuid) {
  for (const char* text :
       {"", " ", "not-a-uuid", "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b",
        "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3x", "4a7901b87d264d9daa194dc1c7cf60bg",
        "{4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3)", "(4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3",
        "{4a7901b87d264d9daa194dc1c7cf60b3}", "4a7901b8_7d26_4d9d_aa19_4dc1c7cf60b3",
        "{0x4a7901b8,0x7d26,0x4d9d,{0xaa,0x19,0x4d,0xc1,0xc7,0xcf,0x60}}",
        "{0x123456789,0x7d26,0x4d9d,{0xaa,0x19,0x4d,0xc1,0xc7,0xcf,0x60,0xb3}}"}) {
    EXPECT_FALSE(ParseRouteGuid(text).ok()) << text;
  }
}

TEST(ProcessorDotnetWireTest, JsonContentTypeIsApplicationJsonOrAPlusJsonSuffixInAnyCase) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON"));
  EXPECT_TRUE(IsJsonContentType("application/problem+json"));
  EXPECT_FALSE(IsJsonContentType(std::nullopt));
  EXPECT_FALSE(IsJsonContentType(""));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType("application/x-www-form-urlencoded"));
  EXPECT_FALSE(IsJsonContentType("application/jsonx"));
  EXPECT_FALSE(IsJsonContentType("json"));
  EXPECT_FALSE(IsJsonContentType("+json"));
}

}  // namespace
}  // namespace rinha::processor
