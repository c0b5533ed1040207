// The processors' base URLs: host and port only.
#include "common/http_url.h"

#include <string>

#include "gtest/gtest.h"

namespace rinha {
namespace {

TEST(ParseHttpUrlTest, AcceptsHostAndPortOnly) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(ParseHttpUrl("http://payment-processor-default:8080", &host, &port).ok());
  EXPECT_EQ(host, "payment-processor-default");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseHttpUrl("http://127.0.0.1/", &host, &port).ok());
  EXPECT_EQ(port, 80);
  EXPECT_FALSE(ParseHttpUrl("https://x:1", &host, &port).ok());
  EXPECT_FALSE(ParseHttpUrl("http://x:1/payments", &host, &port).ok());
  EXPECT_FALSE(ParseHttpUrl("http://x:99999", &host, &port).ok());
}

}  // namespace
}  // namespace rinha
