#include "common/fee_rate.h"

#include "gtest/gtest.h"

namespace rinha {
namespace {

TEST(FeeRateTest, ParsesPlainDecimalsKeepingTheirScale) {
  absl::StatusOr<FeeRate> rate = ParseFeeRate("0.10");
  ASSERT_TRUE(rate.ok());
  EXPECT_EQ(rate->units, 10);
  EXPECT_EQ(rate->scale, 2);
  EXPECT_EQ(FormatFeeRate(*rate), "0.10");
  EXPECT_EQ(FormatFeeRate(*ParseFeeRate("0.07")), "0.07");
  EXPECT_EQ(FormatFeeRate(*ParseFeeRate("1")), "1");
}

TEST(FeeRateTest, RejectsAnythingButAPlainNonNegativeDecimal) {
  for (const char* bad : {"", ".", "1.", ".5", "-0.07", "0.07x", "1e-2", "0.0000000001"}) {
    EXPECT_FALSE(ParseFeeRate(bad).ok()) << bad;
  }
}

TEST(FeeRateTest, FeeIsExactWithTwoPlusRateDecimals) {
  const FeeRate seven = *ParseFeeRate("0.07");
  EXPECT_EQ(FormatExactFee(2005, seven), "1.4035");  // 20.05 x 0.07
  EXPECT_EQ(FormatExactFee(0, seven), "0.0000");
  EXPECT_EQ(FormatExactFee(4010, *ParseFeeRate("0.10")), "4.0100");
  EXPECT_EQ(FormatExactFee(1, *ParseFeeRate("0.05")), "0.0005");
}

TEST(FeeRateTest, LargeTotalsDoNotOverflow) {
  const FeeRate rate = *ParseFeeRate("0.999999999");
  EXPECT_EQ(FormatExactFee(9'000'000'000'000'000'000, rate), "89999999910000000.00000000000");
}

}  // namespace
}  // namespace rinha
