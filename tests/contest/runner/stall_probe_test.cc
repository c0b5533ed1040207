#include "contest/runner/stall_probe.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

using ::testing::HasSubstr;

TEST(StallRecorderTest, GroupsWakeUpsByWallClockSecond) {
  StallRecorder r;
  r.Add(1'000'999, 100'000);    // 0.1 ms late, second 1000000
  r.Add(1'001'000, 2'000'000);  // 2 ms, next second
  r.Add(1'001'500, 7'000'000);  // 7 ms
  r.Add(1'001'999, 1'000'000);  // exactly 1 ms: not over 1 ms
  ASSERT_EQ(r.seconds().size(), 2u);
  EXPECT_EQ(r.seconds()[0].t_ms, 1'000'000);
  EXPECT_EQ(r.seconds()[0].samples, 1);
  EXPECT_EQ(r.seconds()[0].late_over_1ms, 0);
  EXPECT_EQ(r.seconds()[1].t_ms, 1'001'000);
  EXPECT_EQ(r.seconds()[1].samples, 3);
  EXPECT_EQ(r.seconds()[1].late_over_1ms, 2);
  EXPECT_EQ(r.seconds()[1].late_over_5ms, 1);
  EXPECT_DOUBLE_EQ(r.seconds()[1].max_late_ms, 7.0);
}

TEST(StallRecorderTest, EarlyWakeUpsCountAsZeroLate) {
  StallRecorder r;
  r.Add(5'000, -300);
  EXPECT_DOUBLE_EQ(r.seconds()[0].max_late_ms, 0.0);
  EXPECT_DOUBLE_EQ(r.QuantileMs(1.0), 0.0);
}

TEST(StallRecorderTest, QuantilesAreNearestRankOverAllWakeUps) {
  StallRecorder r;
  EXPECT_DOUBLE_EQ(r.QuantileMs(0.99), 0.0);                              // no samples
  for (int i = 1; i <= 1000; ++i) r.Add(10'000 + i, int64_t{i} * 1'000);  // 0.001 .. 1 ms
  EXPECT_DOUBLE_EQ(r.QuantileMs(0.5), 0.5);
  EXPECT_DOUBLE_EQ(r.QuantileMs(0.99), 0.99);
  EXPECT_DOUBLE_EQ(r.QuantileMs(1.0), 1.0);
  EXPECT_DOUBLE_EQ(r.QuantileMs(0.0), 0.001);
}

TEST(StallRecorderTest, JsonHasSummaryAndSeconds) {
  StallRecorder r;
  r.Add(2'000, 6'000'000);
  r.Add(3'000, 10'000);
  const std::string json = r.ToJson(1000);
  EXPECT_THAT(json, HasSubstr("\"period_us\":1000"));
  EXPECT_THAT(json, HasSubstr("\"samples\":2,"));
  EXPECT_THAT(json, HasSubstr("\"max_ms\":6.000"));
  EXPECT_THAT(json, HasSubstr("\"seconds\":2,\"seconds_with_stall_over_5ms\":1}"));
  EXPECT_THAT(json, HasSubstr("{\"t_ms\":2000,\"samples\":1,\"max_late_ms\":6.000,"
                              "\"late_over_1ms\":1,\"late_over_5ms\":1}"));
  EXPECT_THAT(json, HasSubstr("{\"t_ms\":3000,\"samples\":1,\"max_late_ms\":0.010,"
                              "\"late_over_1ms\":0,\"late_over_5ms\":0}]}"));
}

}  // namespace
}  // namespace rinha::contest
