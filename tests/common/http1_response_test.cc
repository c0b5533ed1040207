// The HTTP/1.1 response parser of the epoll clients: framing, partial input, malformed answers.
#include "common/http1_response.h"

#include <string>

#include "gtest/gtest.h"

namespace rinha {
namespace {

// Until its last byte has arrived, a response is incomplete but not malformed.
void ExpectEveryProperPrefixIncomplete(const std::string& full) {
  Http1Response r;
  bool error = false;
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(ParseHttp1Response(full.substr(0, n), false, &r, &error)) << n;
    EXPECT_FALSE(error) << n;
  }
}

TEST(ParseHttp1ResponseTest, ReadsAContentLengthAnswerOnlyWhenComplete) {
  const std::string full =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      "Content-Length: 13\r\n\r\n{\"a\":\"hello\"}";
  ExpectEveryProperPrefixIncomplete(full);
  Http1Response r;
  bool error = false;
  ASSERT_TRUE(ParseHttp1Response(full, false, &r, &error));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"a\":\"hello\"}");
  EXPECT_TRUE(r.keep_alive);
}

TEST(ParseHttp1ResponseTest, ReadsChunkedAnswersLikeAspNetSendsThem) {
  const std::string full =
      "HTTP/1.1 422 Unprocessable Entity\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n{\"a\":\r\nA;ext=1\r\n\"xxxxxxxx\"\r\n1\r\n}\r\n0\r\n\r\n";
  ExpectEveryProperPrefixIncomplete(full);
  Http1Response r;
  bool error = false;
  ASSERT_TRUE(ParseHttp1Response(full, false, &r, &error));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body, "{\"a\":\"xxxxxxxx\"}");
}

TEST(ParseHttp1ResponseTest, EmptyBodiesAndConnectionClose) {
  Http1Response r;
  bool error = false;
  ASSERT_TRUE(ParseHttp1Response("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
                                 false, &r, &error));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "");
  ASSERT_TRUE(ParseHttp1Response("HTTP/1.1 204 No Content\r\n\r\n", false, &r, &error));
  EXPECT_EQ(r.status, 204);
  ASSERT_TRUE(ParseHttp1Response(
      "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false, &r, &error));
  EXPECT_FALSE(r.keep_alive);
  // No framing: the body ends with the connection.
  EXPECT_FALSE(ParseHttp1Response("HTTP/1.1 200 OK\r\n\r\nabc", false, &r, &error));
  ASSERT_TRUE(ParseHttp1Response("HTTP/1.1 200 OK\r\n\r\nabc", true, &r, &error));
  EXPECT_EQ(r.body, "abc");
  EXPECT_FALSE(r.keep_alive);
}

TEST(ParseHttp1ResponseTest, TruncatedOrMalformedAnswersAreErrors) {
  Http1Response r;
  bool error = false;
  EXPECT_FALSE(
      ParseHttp1Response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", true, &r, &error));
  EXPECT_TRUE(error);
  EXPECT_FALSE(ParseHttp1Response("garbage\r\n\r\n", false, &r, &error));
  EXPECT_TRUE(error);
  EXPECT_FALSE(
      ParseHttp1Response("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false, &r, &error));
  EXPECT_TRUE(error);
  EXPECT_FALSE(ParseHttp1Response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                                  false, &r, &error));
  EXPECT_TRUE(error);
}

// A garbled status line must be an error, never a status: the router reads an error as "no
// answer" (the payment may be stored), but a status as what the processor decided.
TEST(ParseHttp1ResponseTest, OnlyAWellFormedStatusLineGivesAStatus) {
  Http1Response r;
  bool error = false;
  for (const char* bad :
       {"HTTP/1. 431 200 OK\r\n\r\n", "HTTP/1.1 31 OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n", "HTTP/1.2 200 OK\r\n\r\n",
        "HTTP/1.1 099 OK\r\n\r\n", "HTTP/1.1 +20 OK\r\n\r\n"}) {
    EXPECT_FALSE(ParseHttp1Response(bad, true, &r, &error)) << bad;
    EXPECT_TRUE(error) << bad;
  }
  ASSERT_TRUE(ParseHttp1Response("HTTP/1.1 422\r\nContent-Length: 0\r\n\r\n", false, &r, &error));
  EXPECT_EQ(r.status, 422);
  ASSERT_TRUE(ParseHttp1Response("HTTP/1.0 500 Internal Server Error\r\n\r\n", true, &r, &error));
  EXPECT_EQ(r.status, 500);
}

TEST(Http1StatusLineStatusTest, OnlyAWholeWellFormedStatusLineGivesAStatus) {
  EXPECT_EQ(Http1StatusLineStatus(""), 0);
  EXPECT_EQ(Http1StatusLineStatus("HTTP/1.1 20"), 0);
  EXPECT_EQ(Http1StatusLineStatus("HTTP/1.1 200 OK"), 0);  // the line may not be over yet
  EXPECT_EQ(Http1StatusLineStatus("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(Http1StatusLineStatus("HTTP/1.1 200 OK\r\nContent-Len"), 200);
  EXPECT_EQ(Http1StatusLineStatus("HTTP/1.0 422\r\n"), 422);
  EXPECT_EQ(Http1StatusLineStatus("HTTP/1. 431\r\n"), 0);
  EXPECT_EQ(Http1StatusLineStatus("HTTP/1.1 2000 OK\r\n"), 0);
  EXPECT_EQ(Http1StatusLineStatus("<html>200\r\n"), 0);
}

TEST(Http1StatusLineStatusTest, AgreesWithTheFullParseOnEveryPrefixOfAnAnswer) {
  const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  Http1Response full;
  bool error = false;
  ASSERT_TRUE(ParseHttp1Response(answer, false, &full, &error));
  for (size_t n = 0; n <= answer.size(); ++n) {
    const int status = Http1StatusLineStatus(std::string_view(answer).substr(0, n));
    EXPECT_TRUE(status == 0 || status == full.status) << n;
    EXPECT_EQ(status != 0, n >= answer.find("\r\n") + 2) << n;
  }
}

}  // namespace
}  // namespace rinha
