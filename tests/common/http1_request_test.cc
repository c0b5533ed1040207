// The emulator's HTTP/1.1 request parser: complete/incomplete input, limits, malformed requests.
#include "common/http1_request.h"

#include <string>

#include "gtest/gtest.h"

namespace rinha {
namespace {

using Outcome = Http1Parse::Outcome;

constexpr char kPost[] =
    "POST /payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    "Content-Length: 11\r\n\r\n{\"a\":12345}";

TEST(Http1RequestTest, ParsesAPostWithItsBody) {
  const Http1Parse parse = ParseHttp1Request(kPost, {});
  ASSERT_EQ(parse.outcome, Outcome::kComplete);
  EXPECT_EQ(parse.consumed, std::string(kPost).size());
  EXPECT_EQ(parse.request.method, "POST");
  EXPECT_EQ(parse.request.path, "/payments");
  EXPECT_EQ(parse.request.body, "{\"a\":12345}");
  EXPECT_TRUE(parse.request.keep_alive);
  EXPECT_EQ(parse.request.Header("content-TYPE"), "application/json");
  EXPECT_EQ(parse.request.Header("X-Rinha-Token"), std::nullopt);
}

TEST(Http1RequestTest, EveryPrefixIsIncompleteAndLeavesTheNextRequestAlone) {
  const std::string one = kPost;
  for (size_t n = 0; n < one.size(); ++n) {
    EXPECT_EQ(ParseHttp1Request(one.substr(0, n), {}).outcome, Outcome::kIncomplete) << n;
  }
  const Http1Parse parse = ParseHttp1Request(one + "GET /x HTTP/1.1\r\n", {});
  ASSERT_EQ(parse.outcome, Outcome::kComplete);
  EXPECT_EQ(parse.consumed, one.size());
}

TEST(Http1RequestTest, DecodesPathAndQuery) {
  const Http1Parse parse = ParseHttp1Request(
      "GET /admin/payments-summary?from=2025-07-15T12%3A34%3A56.000Z&to=a+b&flag HTTP/1.1\r\n"
      "X-Rinha-Token: 123\r\n\r\n",
      {});
  ASSERT_EQ(parse.outcome, Outcome::kComplete);
  EXPECT_EQ(parse.request.path, "/admin/payments-summary");
  EXPECT_EQ(parse.request.Query("from"), "2025-07-15T12:34:56.000Z");
  EXPECT_EQ(parse.request.Query("to"), "a b");
  EXPECT_EQ(parse.request.Query("flag"), "");
  EXPECT_EQ(parse.request.Query("nope"), std::nullopt);
  EXPECT_EQ(parse.request.Header("x-rinha-token"), "123");
}

TEST(Http1RequestTest, ConnectionSemantics) {
  EXPECT_FALSE(ParseHttp1Request("GET / HTTP/1.0\r\n\r\n", {}).request.keep_alive);
  EXPECT_TRUE(
      ParseHttp1Request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", {}).request.keep_alive);
  EXPECT_FALSE(
      ParseHttp1Request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", {}).request.keep_alive);
}

TEST(Http1RequestTest, MalformedRequestsAre400) {
  for (const char* bad :
       {"GARBAGE\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET nope HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nName : v\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"}) {
    const Http1Parse parse = ParseHttp1Request(bad, {});
    EXPECT_EQ(parse.outcome, Outcome::kError) << bad;
    EXPECT_EQ(parse.error_status, 400) << bad;
  }
  EXPECT_EQ(
      ParseHttp1Request("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", {}).error_status,
      501);
}

TEST(Http1RequestTest, LimitsGive431And413BeforeTheBodyArrives) {
  const Http1Limits limits{.max_head_bytes = 64, .max_body_bytes = 10};
  EXPECT_EQ(ParseHttp1Request(std::string("GET /") + std::string(100, 'a'), limits).error_status,
            431);
  EXPECT_EQ(ParseHttp1Request("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", limits).error_status,
            413);
  EXPECT_EQ(
      ParseHttp1Request("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", limits).outcome,
      Outcome::kComplete);
}

TEST(Http1RequestTest, ReportsExpectContinueWhileTheBodyIsMissing) {
  EXPECT_TRUE(
      ParseHttp1Request("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", {})
          .expects_continue);
  EXPECT_FALSE(
      ParseHttp1Request("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n", {}).expects_continue);
}

TEST(Http1RequestTest, FormatsResponses) {
  EXPECT_EQ(FormatHttp1Response(200, {}, "{}", false),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}");
  EXPECT_EQ(FormatHttp1Response(429, {{"Retry-After", "5"}}, "", true),
            "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nRetry-After: 5\r\n"
            "Connection: close\r\n\r\n");
}

}  // namespace
}  // namespace rinha
