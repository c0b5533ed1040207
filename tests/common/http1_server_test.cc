// Http1Server with a test handler: answers at once or later from another thread, pipelining,
// limits, idle connections, answers for clients that left.
#include "common/http1_server.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/hang_watchdog.h"
#include "tests/testing/http1_socket.h"
#include "tests/testing/wait.h"

namespace rinha {
namespace {

using testing::Http1Socket;

// "/now..." is answered at once with method, path and body; anything else is parked until the
// test answers it.
class Http1ServerTest : public ::testing::Test {
 protected:
  void Start(Http1ServerOptions options = {}) {
    auto server = Http1Server::Start(
        options,
        [this](Http1Server&, Http1Server::ConnectionId id,
               Http1Request request) -> std::optional<Http1Answer> {
          const bool close = !request.keep_alive;
          if (request.path.rfind("/now", 0) == 0) {
            return Http1Answer{
                FormatHttp1Response(
                    200, {}, absl::StrCat(request.method, " ", request.path, " ", request.body),
                    close),
                close};
          }
          std::lock_guard<std::mutex> lock(mu_);
          parked_.push_back({id, close});
          return std::nullopt;
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  int parked() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(parked_.size());
  }
  // Answers the oldest parked request from another thread.
  void AnswerParked(int status) {
    std::pair<Http1Server::ConnectionId, bool> oldest;
    {
      std::lock_guard<std::mutex> lock(mu_);
      oldest = parked_.front();
      parked_.erase(parked_.begin());
    }
    std::thread([&] {
      server_->Answer(oldest.first,
                      {FormatHttp1Response(status, {}, "", oldest.second), oldest.second});
    }).join();
  }

  // Takes the oldest parked request, for a test that answers it by hand.
  Http1Server::ConnectionId TakeParked() {
    std::lock_guard<std::mutex> lock(mu_);
    const Http1Server::ConnectionId id = parked_.front().first;
    parked_.erase(parked_.begin());
    return id;
  }

  std::mutex mu_;
  std::vector<std::pair<Http1Server::ConnectionId, bool>> parked_;
  std::unique_ptr<Http1Server> server_;
};

TEST_F(Http1ServerTest, AnswersAtOnceAndLaterOnOneKeepAliveConnection) {
  Start();
  Http1Socket s(server_->port());
  ASSERT_TRUE(s.Send("POST /now HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"));
  EXPECT_EQ(s.Read().body, "POST /now abc");
  ASSERT_TRUE(s.Send("GET /later HTTP/1.1\r\n\r\nGET /now/2 HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(testing::WaitUntil([&] { return parked() == 1; }));
  AnswerParked(204);
  EXPECT_EQ(s.Read().status, 204);
  EXPECT_EQ(s.Read().body, "GET /now/2 ");  // the pipelined request waited its turn
}

TEST_F(Http1ServerTest, RequestInSingleByteWritesIsParsed) {
  Start();
  Http1Socket s(server_->port());
  for (char c : std::string("PUT /now%2Fx?a=1 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")) {
    ASSERT_TRUE(s.Send(std::string(1, c)));
  }
  EXPECT_EQ(s.Read().body, "PUT /now/x hi");
}

TEST_F(Http1ServerTest, AnswerForAClientThatLeftIsDropped) {
  Start();
  {
    Http1Socket s(server_->port());
    ASSERT_TRUE(s.Send("GET /later HTTP/1.1\r\n\r\n"));
    ASSERT_TRUE(testing::WaitUntil([&] { return parked() == 1; }));
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->connections() == 0; }));
  AnswerParked(200);
  Http1Socket again(server_->port());
  ASSERT_TRUE(again.Send("GET /now HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(again.Read().status, 200);
}

TEST_F(Http1ServerTest, LimitsAndMalformedRequestsAnswerAndClose) {
  Http1ServerOptions options;
  options.limits = {.max_head_bytes = 256, .max_body_bytes = 16};
  Start(options);
  const std::pair<std::string, int> cases[] = {
      {"GET /now HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n", 431},
      {"POST /now HTTP/1.1\r\nContent-Length: 17\r\n\r\n", 413},
      {"NOT HTTP\r\n\r\n", 400},
      {"POST /now HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501}};
  for (const auto& [request, status] : cases) {
    Http1Socket s(server_->port());
    ASSERT_TRUE(s.Send(request));
    Http1Socket::Response r = s.Read();
    EXPECT_EQ(r.status, status) << request;
    EXPECT_EQ(r.headers["Connection"], "close");
    EXPECT_TRUE(s.ClosedByServer());
  }
  EXPECT_EQ(parked(), 0);
}

TEST_F(Http1ServerTest, IdleTimeoutSparesConnectionsWithARequestBeingHandled) {
  Http1ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(500);
  Start(options);
  Http1Socket waiting(server_->port());
  ASSERT_TRUE(waiting.Send("GET /later HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(testing::WaitUntil([&] { return parked() == 1; }));
  Http1Socket idle(server_->port());
  EXPECT_TRUE(idle.ClosedByServer());  // within SO_RCVTIMEO (10 s), after about 500 ms
  EXPECT_TRUE(testing::WaitUntil([&] { return server_->connections() == 1; }));
  AnswerParked(200);
  EXPECT_EQ(waiting.Read().status, 200);
}

TEST_F(Http1ServerTest, StopClosesConnectionsAndLaterAnswersAreHarmless) {
  Start();
  Http1Socket s(server_->port());
  ASSERT_TRUE(s.Send("GET /later HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(testing::WaitUntil([&] { return parked() == 1; }));
  server_->Stop();
  EXPECT_TRUE(s.ClosedByServer());
  AnswerParked(200);
  server_->Stop();  // idempotent
}

TEST_F(Http1ServerTest, PartialAnswersAreWrittenAtOnceAndTheLastOneEndsTheRequest) {
  Start();
  Http1Socket s(server_->port());
  ASSERT_TRUE(s.Send("GET /later HTTP/1.1\r\n\r\nGET /now/next HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(testing::WaitUntil([&] { return parked() == 1; }));
  const Http1Server::ConnectionId id = TakeParked();
  const std::string response = FormatHttp1Response(200, {}, "whole", false);
  server_->Answer(id, {response.substr(0, 5), false, /*partial=*/true});
  std::string received;
  while (received.size() < 5) {
    const std::string some = s.ReadSome();
    ASSERT_FALSE(some.empty());
    received += some;
  }
  EXPECT_EQ(received, "HTTP/");
  server_->Answer(id, {response.substr(5, 10), false, /*partial=*/true});
  server_->Answer(id, {response.substr(15), false});
  const std::string expected = response + FormatHttp1Response(200, {}, "GET /now/next ", false);
  while (received.size() < expected.size()) {
    const std::string some = s.ReadSome();
    ASSERT_FALSE(some.empty());
    received += some;
  }
  // The pipelined request was handled only after the last part.
  EXPECT_EQ(received, expected);
}

TEST_F(Http1ServerTest, ResetAnswerIsWrittenThenTheConnectionIsReset) {
  Start();
  Http1Socket s(server_->port());
  ASSERT_TRUE(s.Send("GET /later HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(testing::WaitUntil([&] { return parked() == 1; }));
  server_->Answer(TakeParked(), {"HTTP/1.1 200 OK\r\nContent-", false, false, /*reset=*/true});
  const Http1Socket::Ending ending = s.ReadUntilClosed();
  EXPECT_EQ(ending.bytes, "HTTP/1.1 200 OK\r\nContent-");
  EXPECT_EQ(ending.error, ECONNRESET);
  EXPECT_TRUE(testing::WaitUntil([&] { return server_->connections() == 0; }));
}

TEST_F(Http1ServerTest, RefuseWritesGivenAnswersClosesConnectionsAndRefusesConnects) {
  Start();
  const int port = server_->port();
  Http1Socket idle(port);
  Http1Socket answered(port);
  ASSERT_TRUE(answered.Send("GET /later HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(testing::WaitUntil([&] { return parked() == 1; }));
  AnswerParked(200);
  server_->Refuse(std::chrono::hours(1));
  ASSERT_TRUE(testing::WaitUntil([&] { return !server_->listening(); }));
  EXPECT_EQ(answered.Read().status, 200);  // answered before the refusal
  EXPECT_TRUE(answered.ClosedByServer());
  EXPECT_TRUE(idle.ClosedByServer());
  Http1Socket refused(port);
  EXPECT_FALSE(refused.connected());
  EXPECT_EQ(refused.connect_error(), ECONNREFUSED);
  EXPECT_EQ(server_->connections(), 0);
  // A new refusal restarts the wait: zero listens again at once, on the same port.
  server_->Refuse(std::chrono::milliseconds(0));
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->listening(); }));
  Http1Socket again(port);
  ASSERT_TRUE(again.connected());
  ASSERT_TRUE(again.Send("GET /now HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(again.Read().status, 200);
}

TEST_F(Http1ServerTest, RefusalEndsByItselfAfterItsDuration) {
  Start();
  server_->Refuse(std::chrono::milliseconds(50));
  ASSERT_TRUE(testing::WaitUntil([&] { return !server_->listening(); }));
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->listening(); }));
  Http1Socket s(server_->port());
  ASSERT_TRUE(s.Send("GET /now HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(s.Read().status, 200);
}

// A stop right after the start (the loop thread not yet running) must not be lost.
TEST(Http1ServerStartTest, StopRightAfterStartReturns) {
  testing::HangWatchdog watchdog(std::chrono::seconds(60));
  for (int i = 0; i < 200; ++i) {
    auto server =
        Http1Server::Start({},
                           [](Http1Server&, Http1Server::ConnectionId,
                              Http1Request) -> std::optional<Http1Answer> { return std::nullopt; });
    ASSERT_TRUE(server.ok()) << server.status();
    (*server)->Stop();
  }
}

}  // namespace
}  // namespace rinha
