// "host:port" listen addresses.
#include "common/host_port.h"

#include <string>

#include "gtest/gtest.h"

namespace rinha {
namespace {

TEST(ParseHostPortTest, SplitsAtTheLastColon) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseHostPort("0.0.0.0:8080", &host, &port).ok());
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseHostPort("payment-processor-default:65535", &host, &port).ok());
  EXPECT_EQ(host, "payment-processor-default");
  EXPECT_EQ(port, 65535);
  ASSERT_TRUE(ParseHostPort("::1:9999", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9999);
}

TEST(ParseHostPortTest, AcceptsAnEmptyHostAndPortZero) {
  std::string host = "unchanged";
  int port = -1;
  ASSERT_TRUE(ParseHostPort(":0", &host, &port).ok());
  EXPECT_EQ(host, "");
  EXPECT_EQ(port, 0);
}

TEST(ParseHostPortTest, RejectsAMissingOrInvalidPortAndLeavesTheOutputsAlone) {
  for (const char* bad : {"", "localhost", "localhost:", "localhost:http", "localhost:-1",
                          "localhost:65536", "localhost:80x"}) {
    std::string host = "unchanged";
    int port = 7;
    const absl::Status status = ParseHostPort(bad, &host, &port);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(host, "unchanged") << bad;
    EXPECT_EQ(port, 7) << bad;
  }
}

TEST(ParseHostPortTest, ErrorNamesTheAddress) {
  std::string host;
  int port = 0;
  EXPECT_EQ(ParseHostPort("nowhere", &host, &port).message(), "must be host:port, got 'nowhere'");
}

}  // namespace
}  // namespace rinha
