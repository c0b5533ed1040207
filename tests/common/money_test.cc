#include "common/money.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/common/decimal_reference.h"

namespace rinha {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

int64_t Exact(const std::string& text) {
  absl::StatusOr<int64_t> cents = ParseDecimalCents(text, CentsRounding::kExact);
  EXPECT_TRUE(cents.ok()) << text << ": " << cents.status();
  return cents.value_or(-999'999);
}

int64_t HalfEven(const std::string& text) {
  absl::StatusOr<int64_t> cents = ParseDecimalCents(text, CentsRounding::kHalfEven);
  EXPECT_TRUE(cents.ok()) << text << ": " << cents.status();
  return cents.value_or(-999'999);
}

absl::StatusCode CodeOf(const std::string& text, CentsRounding rounding) {
  return ParseDecimalCents(text, rounding).status().code();
}

TEST(ParseDecimalCents, ReadsIntegersAndDecimalsExactly) {
  EXPECT_EQ(Exact("0"), 0);
  EXPECT_EQ(Exact("1"), 100);
  EXPECT_EQ(Exact("19.9"), 1990);
  EXPECT_EQ(Exact("19.90"), 1990);
  EXPECT_EQ(Exact("20.05"), 2005);
  EXPECT_EQ(Exact("0.01"), 1);
  EXPECT_EQ(Exact("0.1"), 10);
  EXPECT_EQ(Exact("-3"), -300);
  EXPECT_EQ(Exact("-0.05"), -5);
  EXPECT_EQ(Exact("123456789.12"), 12345678912);
  EXPECT_EQ(Exact("100"), 10000);
}

TEST(ParseDecimalCents, NegativeZeroIsZero) {
  EXPECT_EQ(Exact("-0"), 0);
  EXPECT_EQ(Exact("-0.0"), 0);
  EXPECT_EQ(Exact("-0.000e-7"), 0);
  EXPECT_EQ(HalfEven("-0.001"), 0);
}

TEST(ParseDecimalCents, AppliesExponents) {
  EXPECT_EQ(Exact("2005e-2"), 2005);
  EXPECT_EQ(Exact("1.5E+1"), 1500);
  EXPECT_EQ(Exact("1e2"), 10000);
  EXPECT_EQ(Exact("1E0"), 100);
  EXPECT_EQ(Exact("1e-0"), 100);
  EXPECT_EQ(Exact("1e+00002"), 10000);
  EXPECT_EQ(Exact("0.0001e4"), 100);
  EXPECT_EQ(Exact("1e-2"), 1);
  EXPECT_EQ(Exact("-19.9e0"), -1990);
  EXPECT_EQ(Exact("0.1999e2"), 1999);
  EXPECT_EQ(Exact("199900e-4"), 1999);
}

TEST(ParseDecimalCents, ExactAcceptsTrailingZerosBeyondCents) {
  EXPECT_EQ(Exact("19.900"), 1990);
  EXPECT_EQ(Exact("19.9000000000000000000000000000000000"), 1990);
  EXPECT_EQ(Exact("1.10e1"), 1100);
  EXPECT_EQ(Exact("20050000e-6"), 2005);
}

TEST(ParseDecimalCents, ExactRejectsNonZeroDigitsBeyondCents) {
  for (const char* text : {"19.999", "0.001", "0.0000000000000000000000001", "1e-3", "2005e-3",
                           "-0.005", "0.1234", "1.0000000000000000000000000000001"}) {
    EXPECT_EQ(CodeOf(text, CentsRounding::kExact), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(ParseDecimalCents, HalfEvenRoundsTiesToTheEvenCent) {
  EXPECT_EQ(HalfEven("0.125"), 12);
  EXPECT_EQ(HalfEven("0.135"), 14);
  EXPECT_EQ(HalfEven("0.145"), 14);
  EXPECT_EQ(HalfEven("0.005"), 0);
  EXPECT_EQ(HalfEven("0.015"), 2);
  EXPECT_EQ(HalfEven("2.675"), 268);
  EXPECT_EQ(HalfEven("1.005"), 100);
  EXPECT_EQ(HalfEven("-0.125"), -12);
  EXPECT_EQ(HalfEven("-0.135"), -14);
  EXPECT_EQ(HalfEven("0.99995e1"), 1000);  // 9.9995 -> 999.95 cents -> 1000
  EXPECT_EQ(HalfEven("125e-3"), 12);
  EXPECT_EQ(HalfEven("0.5e-2"), 0);
  EXPECT_EQ(HalfEven("1.5e-2"), 2);
}

TEST(ParseDecimalCents, HalfEvenRoundsNonTiesToTheNearestCent) {
  EXPECT_EQ(HalfEven("0.1250000000000001"), 13);
  EXPECT_EQ(HalfEven("0.12499999999999999"), 12);
  EXPECT_EQ(HalfEven("0.0050000001"), 1);
  EXPECT_EQ(HalfEven("0.004999"), 0);
  EXPECT_EQ(HalfEven("0.126"), 13);
  EXPECT_EQ(HalfEven("19.999"), 2000);
  EXPECT_EQ(HalfEven("-19.999"), -2000);
  EXPECT_EQ(HalfEven("0.0000000000000000000000001"), 0);
  EXPECT_EQ(HalfEven("1999e-3"), 200);
}

TEST(ParseDecimalCents, HalfEvenSeesDigitsFarBeyondTheTie) {
  const std::string zeros(10'000, '0');
  EXPECT_EQ(HalfEven("0.125" + zeros + "1"), 13);
  EXPECT_EQ(HalfEven("0.125" + zeros), 12);
  EXPECT_EQ(HalfEven("0.135" + zeros), 14);
  EXPECT_EQ(HalfEven("0.124" + std::string(10'000, '9')), 12);
}

TEST(ParseDecimalCents, RejectsTextOutsideTheJsonNumberGrammar) {
  const std::vector<std::string> bad = {"",
                                        "-",
                                        "+1",
                                        "01",
                                        "00",
                                        "-01",
                                        "00.5",
                                        "1.",
                                        ".5",
                                        "-.5",
                                        "1e",
                                        "1e+",
                                        "1E-",
                                        "e5",
                                        "0x10",
                                        " 1",
                                        "1 ",
                                        "\t1",
                                        "1\n",
                                        "1,5",
                                        "1.5.5",
                                        "NaN",
                                        "nan",
                                        "Infinity",
                                        "-Infinity",
                                        "inf",
                                        "1e5.5",
                                        "1_000",
                                        "--1",
                                        "1e--1",
                                        "1e+-1",
                                        "1.e5",
                                        "1.0e",
                                        "\xd9\xa1",
                                        "１",
                                        std::string("1\0", 2),
                                        std::string("\0", 1),
                                        "1d",
                                        "1f",
                                        "0.5f",
                                        "\"1\"",
                                        "true",
                                        "null",
                                        "1e 5",
                                        "- 1",
                                        "1ee5",
                                        "1E5E5"};
  for (const std::string& text : bad) {
    EXPECT_EQ(CodeOf(text, CentsRounding::kExact), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(CodeOf(text, CentsRounding::kHalfEven), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(ParseDecimalCents, ExactReportsSubCentDigitsBeforeMagnitude) {
  EXPECT_EQ(CodeOf("1" + std::string(30, '0') + ".001", CentsRounding::kExact),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("326301060105036672.00947490", CentsRounding::kExact),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("326301060105036672.00947490", CentsRounding::kHalfEven),
            absl::StatusCode::kOutOfRange);
}

TEST(ParseDecimalCents, AcceptsTheWholeInt64RangeAndNoMore) {
  EXPECT_EQ(Exact("92233720368547758.07"), kMax);
  EXPECT_EQ(Exact("-92233720368547758.08"), kMin);
  EXPECT_EQ(Exact("9223372036854775807e-2"), kMax);
  EXPECT_EQ(Exact("-9.223372036854775808e16"), kMin);
  for (const char* text : {"92233720368547758.08", "-92233720368547758.09", "1e17", "-1e17",
                           "100000000000000000", "99999999999999999999999"}) {
    for (CentsRounding rounding : {CentsRounding::kExact, CentsRounding::kHalfEven}) {
      EXPECT_EQ(CodeOf(text, rounding), absl::StatusCode::kOutOfRange) << text;
    }
  }
  // Rounding can carry into overflow, and the tie goes to the even neighbour.
  EXPECT_EQ(CodeOf("92233720368547758.075", CentsRounding::kHalfEven),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(HalfEven("92233720368547758.065"), kMax - 1);
  EXPECT_EQ(HalfEven("92233720368547758.0749"), kMax);
  EXPECT_EQ(HalfEven("-92233720368547758.075"), kMin);
  EXPECT_EQ(CodeOf("-92233720368547758.0851", CentsRounding::kHalfEven),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(HalfEven("0.99999999999999999999999"), 100);
}

TEST(ParseDecimalCents, HugeExponentsAndLongTextsNeitherOverflowNorLoop) {
  EXPECT_EQ(CodeOf("1e999999999", CentsRounding::kExact), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(CodeOf("1e99999999999999999999999999999999", CentsRounding::kHalfEven),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(CodeOf("-1e9223372036854775808", CentsRounding::kExact), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Exact("0e999999999"), 0);
  EXPECT_EQ(Exact("0.0e99999999999999999999999999999"), 0);
  EXPECT_EQ(CodeOf("1e-999999999", CentsRounding::kExact), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HalfEven("1e-999999999"), 0);
  EXPECT_EQ(HalfEven("-5e-99999999999999999999999999999999"), 0);
  EXPECT_EQ(CodeOf("1" + std::string(10'000, '0'), CentsRounding::kExact),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(CodeOf(std::string(10'000, '7'), CentsRounding::kHalfEven),
            absl::StatusCode::kOutOfRange);
  // Exponents may have leading zeros, any number of them.
  EXPECT_EQ(Exact("1e" + std::string(10'000, '0') + "2"), 10000);
  EXPECT_EQ(Exact("1e-" + std::string(10'000, '0') + "2"), 1);
  // Digits and exponent cancel out exactly.
  EXPECT_EQ(Exact("1" + std::string(10'000, '0') + "e-10000"), 100);
  EXPECT_EQ(Exact("0." + std::string(9'999, '0') + "1e10000"), 100);
  EXPECT_EQ(Exact("0." + std::string(9'999, '0') + "1e10001"), 1000);
  EXPECT_EQ(HalfEven("1" + std::string(10'000, '0') + "e-9999999999999999999999"), 0);
}

TEST(ParseDecimalCents, AgreesWithAStringShiftingReference) {
  std::mt19937_64 rng(20250715);
  const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const auto digits = [&](int count, bool leading_nonzero) {
    std::string s;
    for (int i = 0; i < count; ++i) {
      s.push_back(static_cast<char>('0' + (i == 0 && leading_nonzero ? 1 + pick(9) : pick(10))));
    }
    return s;
  };
  for (int iteration = 0; iteration < 20'000; ++iteration) {
    std::string text;
    if (pick(2) == 0) text += '-';
    text += pick(4) == 0 ? "0" : digits(1 + pick(22), true);
    if (pick(2) == 0) {
      text += '.';
      // Favour fractions ending in 5 and 0 so ties and trailing zeros come up often.
      text += digits(1 + pick(8), false);
      if (pick(3) == 0) text += pick(2) == 0 ? "5" : "50";
    }
    if (pick(2) == 0) {
      text += pick(2) == 0 ? 'e' : 'E';
      const int sign = pick(3);
      if (sign == 1) text += '+';
      if (sign == 2) text += '-';
      text += std::to_string(pick(25));
    }
    for (CentsRounding rounding : {CentsRounding::kExact, CentsRounding::kHalfEven}) {
      const std::optional<testing::ReferenceCents> expected =
          testing::ReferenceParseCents(text, rounding);
      ASSERT_TRUE(expected.has_value()) << text;
      const absl::StatusOr<int64_t> actual = ParseDecimalCents(text, rounding);
      ASSERT_EQ(actual.status().code(), expected->code) << text;
      if (actual.ok()) {
        ASSERT_EQ(*actual, expected->cents) << text;
      }
    }
  }
}

TEST(FormatCents, WritesExactlyTwoDecimals) {
  EXPECT_EQ(FormatCents(0), "0.00");
  EXPECT_EQ(FormatCents(5), "0.05");
  EXPECT_EQ(FormatCents(10), "0.10");
  EXPECT_EQ(FormatCents(199), "1.99");
  EXPECT_EQ(FormatCents(1990), "19.90");
  EXPECT_EQ(FormatCents(2005), "20.05");
  EXPECT_EQ(FormatCents(123450), "1234.50");
  EXPECT_EQ(FormatCents(-5), "-0.05");
  EXPECT_EQ(FormatCents(-300), "-3.00");
  EXPECT_EQ(FormatCents(-100), "-1.00");
}

TEST(FormatCents, HandlesTheInt64Extremes) {
  EXPECT_EQ(FormatCents(kMax), "92233720368547758.07");
  EXPECT_EQ(FormatCents(kMin), "-92233720368547758.08");
  EXPECT_EQ(FormatCents(kMin + 1), "-92233720368547758.07");
}

TEST(AppendCents, AppendsToExistingText) {
  std::string out = "amount=";
  AppendCents(&out, 1990);
  AppendCents(&out, -1);
  EXPECT_EQ(out, "amount=19.90-0.01");
}

TEST(FormatCents, RoundTripsThroughParseDecimalCents) {
  std::vector<int64_t> values = {0, 1, -1, 99, 100, -100, kMax, kMin, kMax - 1, kMin + 1};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 50'000; ++i) {
    const auto value = static_cast<int64_t>(rng());
    values.push_back(value);
    values.push_back(value >> (rng() % 64));
  }
  for (int64_t value : values) {
    ASSERT_EQ(Exact(FormatCents(value)), value);
    ASSERT_EQ(HalfEven(FormatCents(value)), value);
  }
}

}  // namespace
}  // namespace rinha
