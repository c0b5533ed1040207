#include "router/token_bucket.h"

#include "gtest/gtest.h"

namespace rinha::router {
namespace {

TEST(TokenBucket, StartsFullWithItsBurst) {
  TokenBucket bucket(/*rate_per_s=*/100, /*burst=*/5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.TryTake(0)) << i;
  EXPECT_FALSE(bucket.TryTake(0));
}

TEST(TokenBucket, RefillsAtItsRateAndSaysWhenTheNextTokenComes) {
  TokenBucket bucket(/*rate_per_s=*/100, /*burst=*/1);  // one token per 10 ms
  EXPECT_TRUE(bucket.TryTake(1000));
  EXPECT_FALSE(bucket.TryTake(1000));
  EXPECT_EQ(bucket.NextTokenMs(1000), 1010);
  EXPECT_FALSE(bucket.TryTake(1009));
  EXPECT_EQ(bucket.NextTokenMs(1009), 1010);
  EXPECT_TRUE(bucket.TryTake(1010));
}

TEST(TokenBucket, NeverSavesMoreThanItsBurst) {
  TokenBucket bucket(/*rate_per_s=*/1000, /*burst=*/3);
  for (int i = 0; i < 3; ++i) bucket.TryTake(0);
  int taken = 0;
  while (bucket.TryTake(60'000)) ++taken;
  EXPECT_EQ(taken, 3);
}

TEST(TokenBucket, BoundsCallsOverAnyLongStretchToTheRate) {
  TokenBucket bucket(/*rate_per_s=*/500, /*burst=*/100);
  int taken = 0;
  for (int64_t ms = 0; ms < 10'000; ++ms) {
    while (bucket.TryTake(ms)) ++taken;
  }
  EXPECT_LE(taken, 100 + 500 * 10);
  EXPECT_GE(taken, 500 * 10);
}

TEST(TokenBucket, ARateBelowOnePerSecondIsOnePerSecond) {
  TokenBucket bucket(/*rate_per_s=*/0, /*burst=*/0);
  EXPECT_TRUE(bucket.TryTake(0));
  EXPECT_FALSE(bucket.TryTake(999));
  EXPECT_TRUE(bucket.TryTake(1000));
}

}  // namespace
}  // namespace rinha::router
