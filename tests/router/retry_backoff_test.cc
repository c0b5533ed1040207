#include "router/retry_backoff.h"

#include "gtest/gtest.h"

namespace rinha::router {
namespace {

TEST(RetryBackoffTest, DoublesFromInitialAndCapsAtMax) {
  RetryConfig config;
  config.initial_backoff_ms = 50;
  config.max_backoff_ms = 2000;
  EXPECT_EQ(RetryDelayMs(config, 0), 0);
  EXPECT_EQ(RetryDelayMs(config, 1), 50);
  EXPECT_EQ(RetryDelayMs(config, 2), 100);
  EXPECT_EQ(RetryDelayMs(config, 3), 200);
  EXPECT_EQ(RetryDelayMs(config, 6), 1600);
  EXPECT_EQ(RetryDelayMs(config, 7), 2000);
  EXPECT_EQ(RetryDelayMs(config, 1000000), 2000);
}

}  // namespace
}  // namespace rinha::router
