#include "contest/report/svg.h"

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::report {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::Pointwise;

TEST(EscapeXmlTest, EscapesMarkupCharacters) {
  EXPECT_EQ(EscapeXml(R"(<a href="x">Tom & 'Jerry'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  EXPECT_EQ(EscapeXml("plain 2.55ms é"), "plain 2.55ms é");
  EXPECT_EQ(EscapeXml(""), "");
}

TEST(LinearScaleTest, MapsDomainOntoRangeIncludingInvertedRanges) {
  const LinearScale x(0, 300, 64, 944);
  EXPECT_DOUBLE_EQ(x.Map(0), 64);
  EXPECT_DOUBLE_EQ(x.Map(300), 944);
  EXPECT_DOUBLE_EQ(x.Map(150), 504);
  const LinearScale y(0, 50, 210, 22);  // SVG y grows downwards
  EXPECT_DOUBLE_EQ(y.Map(0), 210);
  EXPECT_DOUBLE_EQ(y.Map(50), 22);
  EXPECT_DOUBLE_EQ(y.Map(25), 116);
}

TEST(LinearScaleTest, DegenerateDomainStaysFinite) {
  const LinearScale flat(5, 5, 0, 100);
  EXPECT_TRUE(std::isfinite(flat.Map(5)));
  EXPECT_DOUBLE_EQ(flat.Map(5), 50);
}

TEST(LogScaleTest, DecadesAreEquallySpacedAndNonPositiveClampsToBottom) {
  const LogScale y(0.1, 1000, 200, 0);
  EXPECT_DOUBLE_EQ(y.Map(0.1), 200);
  EXPECT_DOUBLE_EQ(y.Map(1), 150);
  EXPECT_DOUBLE_EQ(y.Map(10), 100);
  EXPECT_DOUBLE_EQ(y.Map(1000), 0);
  EXPECT_DOUBLE_EQ(y.Map(0), 200);
  EXPECT_DOUBLE_EQ(y.Map(-3), 200);
}

TEST(LogScaleTest, InvalidDomainFallsBackToOneDecade) {
  const LogScale y(0, 0, 100, 0);
  EXPECT_DOUBLE_EQ(y.domain_lo(), 1);
  EXPECT_DOUBLE_EQ(y.domain_hi(), 10);
  EXPECT_TRUE(std::isfinite(y.Map(5)));
}

TEST(NiceTicksTest, PicksStepsOfOneTwoOrFive) {
  EXPECT_THAT(NiceTicks(0, 50, 6), ElementsAre(0, 10, 20, 30, 40, 50));
  EXPECT_THAT(NiceTicks(0, 300, 13), ElementsAre(0, 50, 100, 150, 200, 250, 300));
  EXPECT_THAT(NiceTicks(0, 60, 13), ElementsAre(0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60));
  EXPECT_THAT(NiceTicks(0, 1, 6),
              Pointwise(DoubleNear(1e-12), std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1}));
  EXPECT_THAT(NiceTicks(3, 97, 11), ElementsAre(10, 20, 30, 40, 50, 60, 70, 80, 90));
}

TEST(NiceTicksTest, StaysWithinBoundsAndCount) {
  for (double hi : {1.0, 7.0, 13.0, 99.0, 250.0, 603.0, 12345.0, 0.003}) {
    for (int max_ticks : {2, 5, 6, 13}) {
      const std::vector<double> ticks = NiceTicks(0, hi, max_ticks);
      ASSERT_FALSE(ticks.empty()) << hi;
      EXPECT_LE(static_cast<int>(ticks.size()), max_ticks + 1) << hi << " " << max_ticks;
      EXPECT_GE(ticks.front(), 0);
      EXPECT_LE(ticks.back(), hi * (1 + 1e-9));
    }
  }
  EXPECT_TRUE(NiceTicks(5, 1, 6).empty());
  EXPECT_TRUE(NiceTicks(0, std::numeric_limits<double>::infinity(), 6).empty());
  EXPECT_THAT(NiceTicks(4, 4, 6), ElementsAre(4));
}

TEST(NiceCeilingTest, RoundsUpToANiceNumber) {
  EXPECT_EQ(NiceCeiling(47), 50);
  EXPECT_EQ(NiceCeiling(50), 50);
  EXPECT_EQ(NiceCeiling(101), 200);
  EXPECT_EQ(NiceCeiling(230), 250);
  EXPECT_EQ(NiceCeiling(603), 1000);
  EXPECT_EQ(NiceCeiling(1000), 1000);
  EXPECT_DOUBLE_EQ(NiceCeiling(0.3), 0.5);
  EXPECT_EQ(NiceCeiling(0), 1);
  EXPECT_EQ(NiceCeiling(-5), 1);
}

TEST(PowersOfTenTest, FloorAndCeil) {
  EXPECT_DOUBLE_EQ(FloorPow10(0.61), 0.1);
  EXPECT_DOUBLE_EQ(CeilPow10(0.61), 1);
  EXPECT_DOUBLE_EQ(FloorPow10(1000), 1000);
  EXPECT_DOUBLE_EQ(CeilPow10(1000), 1000);
  EXPECT_DOUBLE_EQ(CeilPow10(1500), 10000);
}

TEST(LogTicksTest, DecadesOrOneTwoFiveWhenFew) {
  EXPECT_THAT(LogTicks(0.1, 100),
              Pointwise(DoubleNear(1e-12), std::vector<double>{0.1, 1, 10, 100}));
  EXPECT_THAT(LogTicks(1, 10), ElementsAre(1, 2, 5, 10));
  EXPECT_TRUE(LogTicks(0, 10).empty());
}

TEST(FormatTickTest, ShortLabels) {
  EXPECT_EQ(FormatTick(0), "0");
  EXPECT_EQ(FormatTick(250), "250");
  EXPECT_EQ(FormatTick(2000), "2k");
  EXPECT_EQ(FormatTick(2500), "2500");
  EXPECT_EQ(FormatTick(0.25), "0.25");
  EXPECT_EQ(FormatTick(0.1), "0.1");
  EXPECT_EQ(FormatTick(0.2 + 0.1), "0.3");
  EXPECT_EQ(FormatTick(-10), "-10");
}

TEST(FormatCoordTest, OneDecimalAndNeverNanText) {
  EXPECT_EQ(FormatCoord(12.345), "12.3");
  EXPECT_EQ(FormatCoord(-0.01), "0.0");
  EXPECT_EQ(FormatCoord(std::nan("")), "0");
  EXPECT_EQ(FormatCoord(std::numeric_limits<double>::infinity()), "0");
}

TEST(PolylinePathTest, BreaksAtGapsAndDrawsLonePointsAsDots) {
  EXPECT_EQ(PolylinePath({}), "");
  EXPECT_EQ(PolylinePath({std::nullopt}), "");
  EXPECT_EQ(PolylinePath({Point{0, 1}, Point{2, 3}, std::nullopt, Point{4, 5}, Point{6, 7}}),
            "M0.0 1.0 L2.0 3.0 M4.0 5.0 L6.0 7.0");
  EXPECT_EQ(PolylinePath({Point{0, 1}, std::nullopt, Point{4, 5}, std::nullopt}),
            "M0.0 1.0 l0 0 M4.0 5.0 l0 0");
}

}  // namespace
}  // namespace rinha::report
