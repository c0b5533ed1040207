#include "contest/load/score.h"

#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

ProcessorTotals Totals(int64_t requests, int64_t cents, int64_t rate_units, int rate_scale) {
  return ProcessorTotals{requests, cents, rate_units, rate_scale};
}

TEST(DecimalTest, PrintsShortestExactText) {
  EXPECT_EQ((Decimal{absl::int128(194987638462500), 8}.ToString()), "1949876.384625");
  EXPECT_EQ((Decimal{0, 4}.ToString()), "0");
  EXPECT_EQ((Decimal{-350, 2}.ToString()), "-3.5");
  EXPECT_EQ((Decimal{5, 3}.ToString()), "0.005");
  EXPECT_EQ((Decimal{1200, 2}.ToString()), "12");
  EXPECT_DOUBLE_EQ((Decimal{2005, 2}.ToDouble()), 20.05);
}

TEST(RoundHalfUpCentiTest, RoundsTheShortestDecimalTextHalfUp) {
  EXPECT_EQ(RoundHalfUpCenti(2.55), 255);
  EXPECT_EQ(RoundHalfUpCenti(2.545), 255);  // the double is below 2.545, its text is not
  EXPECT_EQ(RoundHalfUpCenti(2.5449999), 254);
  EXPECT_EQ(RoundHalfUpCenti(2.554999), 255);
  EXPECT_EQ(RoundHalfUpCenti(0.16899999999999998), 17);
  EXPECT_EQ(RoundHalfUpCenti(0.005), 1);
  EXPECT_EQ(RoundHalfUpCenti(0.0048), 0);
  EXPECT_EQ(RoundHalfUpCenti(1500.0), 150000);
  EXPECT_EQ(RoundHalfUpCenti(-0.01), -1);
}

// Values checked against node: (11 - p) * 0.02 printed, then big.js round(2).
TEST(BonusPercentTest, MatchesTheOfficialFormula) {
  EXPECT_EQ(BonusPercent(255), 17);  // 0.16899999999999998 -> 0.17
  EXPECT_EQ(BonusPercent(100), 20);  // 1 ms -> 20 %
  EXPECT_EQ(BonusPercent(50), 21);   // 0.5 ms -> 21 %
  EXPECT_EQ(BonusPercent(0), 22);
  EXPECT_EQ(BonusPercent(1075), 1);  // 0.005 rounds up
  EXPECT_EQ(BonusPercent(1076), 0);  // 0.0048 rounds down
  EXPECT_EQ(BonusPercent(1025), 2);  // 0.015 rounds up
  EXPECT_EQ(BonusPercent(1100), 0);
  EXPECT_EQ(BonusPercent(1150), 0);  // negative -> 0
  EXPECT_EQ(BonusPercent(150000), 0);
}

TEST(ComputeScoreTest, OfficialWinnerScore) {
  // #1 of the final: gross 1,816,349.55, fees 149,788.5375, p99 2.55 ms, no inconsistency.
  // The split between default (7 %) and fallback (10 %) solves 0.07 d + 0.10 f = 149,788.5375
  // with d + f = 1,816,349.55: d = 1,061,547.25, f = 754,802.30.
  ScoreInputs in;
  in.default_totals = Totals(52945, 106154725, 7, 2);
  in.fallback_totals = Totals(37646, 75480230, 10, 2);
  in.p99_ms = 2.5549;
  in.successes = 90591;
  const Score s = ComputeScore(in);
  EXPECT_EQ(s.gross.ToString(), "1816349.55");
  EXPECT_EQ(s.fees.ToString(), "149788.5375");
  EXPECT_EQ(s.p99_centi_ms, 255);
  EXPECT_EQ(s.bonus_percent, 17);
  EXPECT_EQ(s.fine_percent, 0);
  EXPECT_EQ(s.net.ToString(), "1666561.0125");
  EXPECT_EQ(s.total_liquido.ToString(), "1949876.384625");
  EXPECT_EQ(s.fine_total.ToString(), "0");
  EXPECT_EQ(s.payments_held, 90591);
  EXPECT_EQ(s.lag, 0);
}

TEST(ComputeScoreTest, AnyInconsistencyCostsThirtyFivePercent) {
  ScoreInputs in;
  in.default_totals = Totals(1000, 2005000, 7, 2);  // 20,050.00 -> fee 1,403.50
  in.fallback_totals = Totals(0, 0, 10, 2);
  in.p99_ms = 1.0;
  in.inconsistencies = 1;
  in.successes = 1003;
  const Score s = ComputeScore(in);
  EXPECT_EQ(s.net.ToString(), "18646.5");
  EXPECT_EQ(s.fine_percent, 35);
  EXPECT_EQ(s.fine_total.ToString(), "6526.275");
  // 18,646.50 x (1 + 0.20 - 0.35) = 15,849.525
  EXPECT_EQ(s.total_liquido.ToString(), "15849.525");
  EXPECT_EQ(s.lag, 3);
}

TEST(ComputeScoreTest, SlowP99EarnsNoBonusAndMorePaymentsThanAnsweredIsNegativeLag) {
  ScoreInputs in;
  in.default_totals = Totals(2, 4010, 7, 2);
  in.fallback_totals = Totals(1, 2005, 1, 1);  // rate written "0.1"
  in.p99_ms = 11.004;
  in.successes = 2;
  const Score s = ComputeScore(in);
  EXPECT_EQ(s.p99_centi_ms, 1100);
  EXPECT_EQ(s.bonus_percent, 0);
  EXPECT_EQ(s.fees.ToString(), "4.812");  // 40.10 x 0.07 + 20.05 x 0.1
  EXPECT_EQ(s.total_liquido.ToString(), "55.338");
  EXPECT_EQ(s.lag, -1);
}

TEST(CeilingTest, IsEveryPaymentAtTheDefaultsFeeWithATwentyPercentBonus) {
  // Issue 21's final run: 90,645 payments of 20.05 at 7 % -> 2,028,254.
  // (1,817,432.25 - 127,220.2575) x 1.20 = 1,690,211.9925 x 1.20.
  EXPECT_EQ(Ceiling(90645, 2005, Totals(0, 0, 7, 2)).ToString(), "2028254.391");
  // The preview: 16,750 payments of 19.90 at 5 %: 333,325 x 0.95 x 1.20.
  EXPECT_EQ(Ceiling(16750, 1990, Totals(0, 0, 5, 2)).ToString(), "379990.5");
  // The rate as the processor writes it: "0.1" is 1 at scale 1.
  EXPECT_EQ(Ceiling(1, 2005, Totals(0, 0, 1, 1)).ToString(), "21.654");
  EXPECT_EQ(Ceiling(0, 2005, Totals(0, 0, 7, 2)).ToString(), "0");
}

TEST(ComputeScoreTest, FinalRunAsAShareOfItsCeiling) {
  // Issue 21's run: 90,645 answered 2xx, 31,100 of them paid at the fallback, p99 1.7 ms (19 %).
  ScoreInputs in;
  in.default_totals = Totals(59545, 59545 * 2005, 7, 2);
  in.fallback_totals = Totals(31100, 31100 * 2005, 10, 2);
  in.p99_ms = 1.7;
  in.successes = 90645;
  in.amount_cents = 2005;
  const Score s = ComputeScore(in);
  EXPECT_EQ(s.bonus_percent, 19);
  EXPECT_EQ(s.total_liquido.ToString(), "1989091.357575");
  EXPECT_EQ(s.ceiling.ToString(), "2028254.391");
  ASSERT_TRUE(ShareOfCeiling(s).has_value());
  EXPECT_NEAR(*ShareOfCeiling(s), 0.980691, 1e-6);
}

TEST(ComputeScoreTest, PreviewRunAsAShareOfItsCeiling) {
  // Fees 5 % / 15 %, 19.90 a payment; 4,750 of 16,750 at the fallback, p99 1.5 ms (19 %).
  ScoreInputs in;
  in.default_totals = Totals(12000, 12000 * 1990, 5, 2);
  in.fallback_totals = Totals(4750, 4750 * 1990, 15, 2);
  in.p99_ms = 1.5;
  in.successes = 16750;
  in.amount_cents = 1990;
  const Score s = ComputeScore(in);
  EXPECT_EQ(s.fees.ToString(), "26118.75");  // 238,800 x 0.05 + 94,525 x 0.15
  EXPECT_EQ(s.total_liquido.ToString(), "365575.4375");
  EXPECT_EQ(s.ceiling.ToString(), "379990.5");
  ASSERT_TRUE(ShareOfCeiling(s).has_value());
  EXPECT_NEAR(*ShareOfCeiling(s), 0.962065, 1e-6);
}

TEST(ComputeScoreTest, EverythingAtDefaultWithAOneMillisecondP99IsTheCeiling) {
  ScoreInputs in;
  in.default_totals = Totals(16750, 16750 * 1990, 5, 2);
  in.fallback_totals = Totals(0, 0, 15, 2);
  in.p99_ms = 1.0;
  in.successes = 16750;
  in.amount_cents = 1990;
  const Score s = ComputeScore(in);
  EXPECT_EQ(s.total_liquido.ToString(), s.ceiling.ToString());
  EXPECT_EQ(ShareOfCeiling(s), 1.0);
  // A p99 under 1 ms earns 21 %: above the ceiling.
  in.p99_ms = 0.5;
  EXPECT_GT(*ShareOfCeiling(ComputeScore(in)), 1.0);
}

TEST(ComputeScoreTest, TheCeilingCountsAnsweredPaymentsNotHeldOnesAndIgnoresTheFine) {
  // 3 answered 2xx, only 2 held (lag 1), an inconsistency: the ceiling is still 3 payments'.
  ScoreInputs in;
  in.default_totals = Totals(2, 4010, 7, 2);
  in.fallback_totals = Totals(0, 0, 10, 2);
  in.p99_ms = 4.0;
  in.inconsistencies = 1;
  in.successes = 3;
  in.amount_cents = 2005;
  const Score s = ComputeScore(in);
  EXPECT_EQ(s.ceiling.ToString(), "67.1274");  // 60.15 x 0.93 x 1.20
  // 37.293 x (1 + 0.14 - 0.35) = 29.46147
  EXPECT_EQ(s.total_liquido.ToString(), "29.46147");
  EXPECT_NEAR(*ShareOfCeiling(s), 29.46147 / 67.1274, 1e-12);
}

TEST(ComputeScoreTest, NoSuccessfulPostHasNoShare) {
  ScoreInputs in;
  in.default_totals = Totals(0, 0, 7, 2);
  in.amount_cents = 2005;
  const Score s = ComputeScore(in);
  EXPECT_EQ(s.ceiling.ToString(), "0");
  EXPECT_FALSE(ShareOfCeiling(s).has_value());
}

}  // namespace
}  // namespace rinha::contest
