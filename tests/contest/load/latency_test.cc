#include "contest/load/latency.h"

#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

TEST(PercentileMsTest, InterpolatesBetweenRanksLikeK6) {
  // 1..100 ms: p99 rank 0.99 x 99 = 98.01 -> 99 + 0.01 x (100 - 99) = 99.01 ms.
  std::vector<int64_t> samples;
  for (int i = 100; i >= 1; --i) samples.push_back(int64_t{i} * 1'000'000);
  EXPECT_DOUBLE_EQ(PercentileMs(samples, 0.99), 99.01);
  EXPECT_DOUBLE_EQ(PercentileMs(samples, 0.50), 50.5);
  EXPECT_DOUBLE_EQ(PercentileMs(samples, 1.0), 100);
  EXPECT_DOUBLE_EQ(PercentileMs(samples, 0.0), 1);
  EXPECT_DOUBLE_EQ(MaxMs(samples), 100);
}

TEST(PercentileMsTest, EmptyAndSingle) {
  std::vector<int64_t> none;
  EXPECT_EQ(PercentileMs(none, 0.99), 0);
  EXPECT_EQ(MaxMs(none), 0);
  std::vector<int64_t> one = {2'550'000};
  EXPECT_DOUBLE_EQ(PercentileMs(one, 0.99), 2.55);
}

}  // namespace
}  // namespace rinha::contest
