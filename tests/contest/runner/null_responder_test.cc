#include "contest/runner/null_responder.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace rinha::contest {
namespace {

TEST(NullResponseTest, AnswersTheContestApi) {
  EXPECT_TRUE(absl::StartsWith(NullResponse("POST", "/payments"), "HTTP/1.1 202 "));
  EXPECT_TRUE(
      absl::StartsWith(NullResponse("GET", "/payments-summary?from=a&to=b"), "HTTP/1.1 200 "));
  EXPECT_TRUE(absl::StartsWith(NullResponse("POST", "/purge-payments"), "HTTP/1.1 200 "));
  EXPECT_TRUE(absl::StartsWith(NullResponse("GET", "/payments"), "HTTP/1.1 404 "));
}

TEST(NullResponderTest, ServesKeepAliveRequestsOnARealSocket) {
  auto server = NullResponder::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  for (int i = 0; i < 20; ++i) {
    auto post =
        client.Post("/payments", R"({"correlationId":"x","amount":19.9})", "application/json");
    ASSERT_TRUE(post) << httplib::to_string(post.error());
    EXPECT_EQ(post->status, 202);
    EXPECT_TRUE(post->body.empty());
  }
  auto summary = client.Get("/payments-summary?from=2025-01-01T00:00:00.000Z");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->status, 200);
  EXPECT_EQ(summary->body, R"({"default":{"totalRequests":0,"totalAmount":0},)"
                           R"("fallback":{"totalRequests":0,"totalAmount":0}})");
  auto purge = client.Post("/purge-payments", "", "application/json");
  ASSERT_TRUE(purge);
  EXPECT_EQ(purge->status, 200);
  (*server)->Shutdown();
  (*server)->Shutdown();  // idempotent
}

}  // namespace
}  // namespace rinha::contest
