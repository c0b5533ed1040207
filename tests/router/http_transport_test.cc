#include "router/http_transport.h"

#include <string>

#include "gtest/gtest.h"

namespace rinha::router {
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

TEST(ParseHttpResponseTest, ReadsAContentLengthAnswerOnlyWhenComplete) {
  const std::string full =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\":\"hello\"}";
  ParsedResponse r;
  bool error = false;
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(ParseHttpResponse(full.substr(0, n), false, &r, &error)) << n;
    EXPECT_FALSE(error) << n;
  }
  ASSERT_TRUE(ParseHttpResponse(full, false, &r, &error));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"a\":\"hello\"}");
  EXPECT_TRUE(r.keep_alive);
}

TEST(ParseHttpResponseTest, ReadsChunkedAnswersLikeAspNetSendsThem) {
  const std::string full =
      "HTTP/1.1 422 Unprocessable Entity\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n{\"a\":\r\nA;ext=1\r\n\"xxxxxxxx\"\r\n1\r\n}\r\n0\r\n\r\n";
  ParsedResponse r;
  bool error = false;
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(ParseHttpResponse(full.substr(0, n), false, &r, &error)) << n;
    EXPECT_FALSE(error) << n;
  }
  ASSERT_TRUE(ParseHttpResponse(full, false, &r, &error));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body, "{\"a\":\"xxxxxxxx\"}");
}

TEST(ParseHttpResponseTest, EmptyBodiesAndConnectionClose) {
  ParsedResponse r;
  bool error = false;
  ASSERT_TRUE(ParseHttpResponse("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
                                false, &r, &error));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "");
  ASSERT_TRUE(ParseHttpResponse("HTTP/1.1 204 No Content\r\n\r\n", false, &r, &error));
  EXPECT_EQ(r.status, 204);
  ASSERT_TRUE(ParseHttpResponse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                                false, &r, &error));
  EXPECT_FALSE(r.keep_alive);
  // No framing: the body ends with the connection.
  EXPECT_FALSE(ParseHttpResponse("HTTP/1.1 200 OK\r\n\r\nabc", false, &r, &error));
  ASSERT_TRUE(ParseHttpResponse("HTTP/1.1 200 OK\r\n\r\nabc", true, &r, &error));
  EXPECT_EQ(r.body, "abc");
  EXPECT_FALSE(r.keep_alive);
}

TEST(ParseHttpResponseTest, TruncatedOrMalformedAnswersAreErrors) {
  ParsedResponse r;
  bool error = false;
  EXPECT_FALSE(ParseHttpResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", true, &r, &error));
  EXPECT_TRUE(error);
  EXPECT_FALSE(ParseHttpResponse("garbage\r\n\r\n", false, &r, &error));
  EXPECT_TRUE(error);
  EXPECT_FALSE(ParseHttpResponse("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false, &r, &error));
  EXPECT_TRUE(error);
  EXPECT_FALSE(ParseHttpResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                                 false, &r, &error));
  EXPECT_TRUE(error);
}

}  // namespace
}  // namespace rinha::router
