// BoundedHttplibServer on port 0 with raw sockets: a connection beyond the thread pool is refused
// at once, slow and oversized requests are cut off, idle connections end, and a stop does not wait
// for idle keep-alive connections. No timed assertions: deadlines are set short and the tests only
// check what happens once they pass; a hang fails through the sockets' 10 s read timeout or the
// watchdog.
#include "common/bounded_httplib_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/httplib_listener.h"
#include "gtest/gtest.h"
#include "tests/testing/hang_watchdog.h"
#include "tests/testing/http1_socket.h"
#include "tests/testing/httplib_tsan_suppression.h"
#include "tests/testing/wait.h"

namespace rinha {
namespace {

using ::rinha::testing::HangWatchdog;
using ::rinha::testing::Http1Socket;
using ::rinha::testing::WaitUntil;

constexpr char kPost[] =
    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
constexpr char kHeadStart[] = "POST /echo HTTP/1.1\r\nHost: x\r\n";

class BoundedHttplibServerTest : public ::testing::Test {
 protected:
  void Start(BoundedHttplibLimits limits, size_t payload_max = 1024) {
    limits.linger = std::chrono::milliseconds(50);  // the lingering close of cut-off connections
    server_ = std::make_unique<BoundedHttplibServer>(limits);
    server_->set_payload_max_length(payload_max);
    server_->Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      handled_.fetch_add(1);
      res.set_content(req.body, "text/plain");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    listener_ = HttplibListener::Start(*server_);
    ASSERT_TRUE(listener_->running());
  }
  void TearDown() override {
    if (listener_ != nullptr) listener_->Stop();
  }

  HangWatchdog watchdog_{std::chrono::seconds(120)};
  std::unique_ptr<BoundedHttplibServer> server_;
  std::unique_ptr<HttplibListener> listener_;
  std::atomic<int> handled_{0};
  int port_ = 0;
};

TEST_F(BoundedHttplibServerTest, ServesManyRequestsOnOneKeepAliveConnection) {
  Start({});
  Http1Socket client(port_);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client.Send(kPost));
    Http1Socket::Response res = client.Read();
    ASSERT_EQ(res.status, 200) << "request " << i;
    EXPECT_EQ(res.body, "hello");
    EXPECT_NE(res.headers["Connection"], "close");
  }
  EXPECT_EQ(server_->stats().served, 1);
}

TEST_F(BoundedHttplibServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start({});
  Http1Socket client(port_);
  ASSERT_TRUE(client.Send(std::string(kPost) + kPost + kPost));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.Read().status, 200) << "request " << i;
}

TEST_F(BoundedHttplibServerTest, AConnectionBeyondTheThreadsIsAnswered503AtOnceAndClosed) {
  BoundedHttplibLimits limits;
  limits.threads = 2;
  limits.request_timeout = std::chrono::hours(1);  // the slow clients hold their threads
  Start(limits);
  // Two clients that started a request and never finish it hold both threads.
  std::vector<std::unique_ptr<Http1Socket>> slow;
  for (int i = 0; i < 2; ++i) {
    slow.push_back(std::make_unique<Http1Socket>(port_));
    ASSERT_TRUE(slow.back()->Send(kHeadStart));
  }
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().busy == 2; }));

  Http1Socket fresh(port_);
  ASSERT_TRUE(fresh.Send(kPost));
  Http1Socket::Response res = fresh.Read();
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.headers["Connection"], "close");
  EXPECT_EQ(res.body, R"({"error":"busy"})");
  EXPECT_TRUE(fresh.ClosedByServer());
  EXPECT_EQ(handled_.load(), 0);  // the refused request was never read
  EXPECT_EQ(server_->stats().refused, 1);

  // A thread freed by a client that gave up serves the next connection.
  slow[0]->Close();
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().busy == 1; }));
  Http1Socket next(port_);
  ASSERT_TRUE(next.Send(kPost));
  EXPECT_EQ(next.Read().status, 200);
}

TEST_F(BoundedHttplibServerTest, ARequestThatDoesNotArriveWithinTheDeadlineIsCutOff) {
  BoundedHttplibLimits limits;
  limits.request_timeout = std::chrono::milliseconds(50);
  Start(limits);
  Http1Socket client(port_);
  ASSERT_TRUE(client.Send(kHeadStart));  // and nothing more: a slow-loris
  const Http1Socket::Ending ending = client.ReadUntilClosed();
  EXPECT_EQ(ending.error, 0) << "the server must close the connection, not leave it open";
  EXPECT_EQ(ending.bytes.substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(server_->stats().request_timeouts, 1);
  EXPECT_EQ(handled_.load(), 0);
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().busy == 0; }));
}

TEST_F(BoundedHttplibServerTest, ABodyThatDoesNotArriveWithinTheDeadlineIsCutOff) {
  BoundedHttplibLimits limits;
  limits.request_timeout = std::chrono::milliseconds(50);
  Start(limits);
  Http1Socket client(port_);
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhe"));
  const Http1Socket::Ending ending = client.ReadUntilClosed();
  EXPECT_EQ(ending.error, 0);
  EXPECT_EQ(server_->stats().request_timeouts, 1);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(BoundedHttplibServerTest, ANewConnectionThatSendsNothingIsClosedAfterTheRequestDeadline) {
  BoundedHttplibLimits limits;
  limits.request_timeout = std::chrono::milliseconds(50);
  limits.keep_alive_timeout = std::chrono::hours(1);  // not what applies to a first request
  Start(limits);
  Http1Socket client(port_);
  const Http1Socket::Ending ending = client.ReadUntilClosed();
  EXPECT_EQ(ending.error, 0);
  EXPECT_EQ(ending.bytes, "");
  EXPECT_EQ(server_->stats().request_timeouts, 1);
}

TEST_F(BoundedHttplibServerTest, AnIdleKeepAliveConnectionIsClosedAfterTheKeepAliveTimeout) {
  BoundedHttplibLimits limits;
  limits.keep_alive_timeout = std::chrono::milliseconds(50);
  Start(limits);
  Http1Socket client(port_);
  ASSERT_TRUE(client.Send(kPost));
  ASSERT_EQ(client.Read().status, 200);
  EXPECT_TRUE(client.ClosedByServer());
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().idle_closed == 1; }));
  EXPECT_EQ(server_->stats().request_timeouts, 0);
}

TEST_F(BoundedHttplibServerTest, AnOversizedHeadIsRejectedAndTheConnectionClosed) {
  BoundedHttplibLimits limits;
  limits.max_request_bytes = 2048;
  Start(limits);
  Http1Socket client(port_);
  ASSERT_TRUE(client.Send(std::string(kHeadStart) + "X-Big: " + std::string(1500, 'a') + "\r\n" +
                          "X-Big2: " + std::string(1500, 'b') + "\r\n\r\n"));
  const Http1Socket::Ending ending = client.ReadUntilClosed();
  EXPECT_EQ(ending.bytes.substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(server_->stats().oversized, 1);
  EXPECT_EQ(handled_.load(), 0);

  Http1Socket next(port_);  // the server is fine
  ASSERT_TRUE(next.Send(kPost));
  EXPECT_EQ(next.Read().status, 200);
}

TEST_F(BoundedHttplibServerTest, ADeclaredBodyBeyondTheBudgetIs413AndTheConnectionClosed) {
  BoundedHttplibLimits limits;
  limits.max_request_bytes = 2048;
  Start(limits, /*payload_max=*/100);
  Http1Socket client(port_);
  // The library would read and skip the whole declared body; the budget stops it.
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n" +
                          std::string(4000, 'x')));
  const Http1Socket::Ending ending = client.ReadUntilClosed();
  EXPECT_EQ(ending.bytes.substr(0, 12), "HTTP/1.1 413");
  EXPECT_EQ(server_->stats().oversized, 1);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(BoundedHttplibServerTest, ABodyOverThePayloadLimitButWithinTheBudgetIs413AndKeptAlive) {
  BoundedHttplibLimits limits;
  limits.max_request_bytes = 4096;
  Start(limits, /*payload_max=*/100);
  Http1Socket client(port_);
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n" +
                          std::string(200, 'x')));
  EXPECT_EQ(client.Read().status, 413);
  ASSERT_TRUE(client.Send(kPost));
  EXPECT_EQ(client.Read().status, 200);
  EXPECT_EQ(server_->stats().oversized, 0);
}

TEST_F(BoundedHttplibServerTest, StopDoesNotWaitForIdleKeepAliveConnections) {
  BoundedHttplibLimits limits;
  limits.keep_alive_timeout = std::chrono::hours(1);
  Start(limits);
  Http1Socket client(port_);
  ASSERT_TRUE(client.Send(kPost));
  ASSERT_EQ(client.Read().status, 200);
  listener_->Stop();  // the watchdog fails the test if this waits for the keep-alive timeout
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(BoundedHttplibServerTest, RefusedConnectionsBeyondTheLingerLimitAreClosedAtOnce) {
  BoundedHttplibLimits limits;
  limits.threads = 1;
  limits.max_lingering = 0;
  limits.request_timeout = std::chrono::hours(1);
  Start(limits);
  Http1Socket holder(port_);
  ASSERT_TRUE(holder.Send(kHeadStart));
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().busy == 1; }));
  Http1Socket refused(port_);
  EXPECT_TRUE(refused.ClosedByServer());
  EXPECT_EQ(server_->stats().refused, 1);
}

}  // namespace
}  // namespace rinha
