// The emulator's epoll HTTP front over raw sockets: keep-alive, pipelining, partial writes,
// limits, idle connections, clients leaving mid-request, the worker cap and Stop().
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/iso_time.h"
#include "gtest/gtest.h"
#include "processor/processor_server.h"
#include "tests/processor/response_socket.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/wait.h"

namespace rinha::processor {
namespace {

constexpr int64_t kT = 1'752'582'896'000;

std::string Id(int n) { return absl::StrFormat("4a7901b8-7d26-4d9d-aa19-%012d", n); }

std::string PostPayment(int n) {
  const std::string body =
      absl::StrCat(R"({"correlationId":")", Id(n), R"(","amount":20.05,"requestedAt":")",
                   FormatIsoMillis(kT), R"("})");
  return absl::StrCat("POST /payments HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n",
                      "Content-Length: ", body.size(), "\r\n\r\n", body);
}

std::string Get(const std::string& path) {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: t\r\n\r\n");
}

// Reads chunked bodies (the emulator answers as Kestrel does).
using Socket = testing::ResponseSocket;

class ProcessorFrontTest : public ::testing::Test {
 protected:
  void Start(ProcessorOptions processor = {}, int threads = 16, int keep_alive_timeout_s = 130) {
    ServerOptions options;
    options.threads = threads;
    options.keep_alive_timeout_s = keep_alive_timeout_s;
    options.limits = {.max_head_bytes = 4096, .max_body_bytes = 1024};
    options.processor = std::move(processor);
    auto server = ProcessorServer::Start(clock_, std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (server_ == nullptr) return;
    server_->service().Shutdown();
    clock_.Advance(absl::Hours(1));
    server_->Stop();
  }

  int64_t Stored() {
    return server_->service().store().Summarize(std::nullopt, std::nullopt).count;
  }
  bool AwaitSleepers(int n) {
    return testing::WaitUntil([&] { return clock_.sleepers() >= n; });
  }

  testing::FakeClock clock_;
  std::unique_ptr<ProcessorServer> server_;
};

TEST_F(ProcessorFrontTest, ServesManyRequestsOnOneKeepAliveConnection) {
  Start();
  Socket s(server_->port());
  ASSERT_TRUE(s.connected());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(s.Send(PostPayment(i)));
    Socket::Response r = s.Read();
    ASSERT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.headers["Content-Type"], "application/json; charset=utf-8");
  }
  EXPECT_EQ(Stored(), 200);
  EXPECT_EQ(server_->connections(), 1);
  EXPECT_EQ(s.Send(Get("/payments/" + Id(7))) ? s.Read().status : -1, 200);
}

TEST_F(ProcessorFrontTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  Socket s(server_->port());
  ASSERT_TRUE(s.Send(PostPayment(1) + Get("/payments/" + Id(1)) + Get("/nope") + PostPayment(1)));
  EXPECT_EQ(s.Read().status, 200);
  const Socket::Response found = s.Read();
  EXPECT_EQ(found.status, 200);
  EXPECT_NE(found.body.find(Id(1)), std::string::npos);
  const Socket::Response missing = s.Read();
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers.count("Content-Type"), 0u);  // no body, no content type
  EXPECT_EQ(s.Read().status, 422);
}

TEST_F(ProcessorFrontTest, RequestSplitIntoSingleByteWritesIsServed) {
  Start();
  Socket s(server_->port());
  for (char c : PostPayment(1)) ASSERT_TRUE(s.Send(std::string(1, c)));
  EXPECT_EQ(s.Read().status, 200);
  EXPECT_EQ(Stored(), 1);
}

TEST_F(ProcessorFrontTest, ManyIdleConnectionsStayOpenWithoutWorkers) {
  Start();
  std::vector<std::unique_ptr<Socket>> sockets;
  for (int i = 0; i < 300; ++i) {
    sockets.push_back(std::make_unique<Socket>(server_->port()));
    ASSERT_TRUE(sockets.back()->connected());
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->connections() == 300; }));
  EXPECT_EQ(server_->worker_threads(), 0);
  // Every one of them is still served.
  for (int i = 0; i < 300; i += 37) {
    ASSERT_TRUE(sockets[i]->Send(PostPayment(i)));
    EXPECT_EQ(sockets[i]->Read().status, 200) << i;
  }
}

TEST_F(ProcessorFrontTest, OversizedHeadAnswers431AndCloses) {
  Start();
  Socket s(server_->port());
  ASSERT_TRUE(s.Send(absl::StrCat(
      "GET /payments/service-health HTTP/1.1\r\nX-Big: ", std::string(8000, 'a'), "\r\n\r\n")));
  EXPECT_EQ(s.Read().status, 431);
  EXPECT_TRUE(s.ClosedByServer());
}

TEST_F(ProcessorFrontTest, OversizedBodyAnswers413AndCloses) {
  Start();
  Socket s(server_->port());
  ASSERT_TRUE(
      s.Send("POST /payments HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + std::string(2000, 'x')));
  Socket::Response r = s.Read();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.headers["Connection"], "close");
  EXPECT_TRUE(s.ClosedByServer());
  EXPECT_EQ(Stored(), 0);
}

TEST_F(ProcessorFrontTest, MalformedRequestAnswers400AndCloses) {
  Start();
  Socket s(server_->port());
  ASSERT_TRUE(s.Send("HELLO\r\n\r\n"));
  EXPECT_EQ(s.Read().status, 400);
  EXPECT_TRUE(s.ClosedByServer());
  Socket chunked(server_->port());
  ASSERT_TRUE(
      chunked.Send("POST /payments HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.Read().status, 501);
  EXPECT_TRUE(chunked.ClosedByServer());
}

TEST_F(ProcessorFrontTest, ConnectionCloseAndHttp10CloseAfterTheAnswer) {
  Start();
  Socket s(server_->port());
  ASSERT_TRUE(s.Send("GET /payments/" + Id(1) + " HTTP/1.1\r\nConnection: close\r\n\r\n"));
  Socket::Response r = s.Read();
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers["Connection"], "close");
  EXPECT_TRUE(s.ClosedByServer());
  Socket old(server_->port());
  ASSERT_TRUE(old.Send("GET /payments/" + Id(1) + " HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(old.Read().status, 404);
  EXPECT_TRUE(old.ClosedByServer());
}

TEST_F(ProcessorFrontTest, ExpectContinueGetsAnInterimAnswer) {
  Start();
  Socket s(server_->port());
  const std::string request = PostPayment(1);
  const size_t head_end = request.find("\r\n\r\n");
  ASSERT_TRUE(s.Send(request.substr(0, head_end) + "\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(s.Read().status, 100);
  ASSERT_TRUE(s.Send(request.substr(head_end + 4)));
  EXPECT_EQ(s.Read().status, 200);
}

TEST_F(ProcessorFrontTest, IdleConnectionIsClosedAfterTheKeepAliveTimeout) {
  Start({}, 16, /*keep_alive_timeout_s=*/1);
  Socket s(server_->port());
  ASSERT_TRUE(s.Send(Get("/payments/" + Id(1))));
  EXPECT_EQ(s.Read().status, 404);
  EXPECT_TRUE(s.ClosedByServer());  // within SO_RCVTIMEO (10 s), after about 1 s
  EXPECT_TRUE(testing::WaitUntil([&] { return server_->connections() == 0; }));
}

TEST_F(ProcessorFrontTest, ClientLeavingWhileItsPaymentSleepsStillStoresIt) {
  Start({.initial_delay_ms = 1000});
  {
    Socket s(server_->port());
    ASSERT_TRUE(s.Send(PostPayment(1)));
    ASSERT_TRUE(AwaitSleepers(1));
  }  // closed while the worker sleeps
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->connections() == 0; }));
  clock_.Advance(absl::Milliseconds(1000));
  EXPECT_TRUE(testing::WaitUntil([&] { return Stored() == 1; }));
  // The dropped answer left the server fine.
  ASSERT_TRUE(testing::WaitUntil([&] { return clock_.sleepers() == 0; }));
  ASSERT_TRUE(server_->service().AdminSetDelay(std::string_view("123"), R"({"delay":0})").status ==
              200);
  Socket again(server_->port());
  ASSERT_TRUE(again.Send(PostPayment(2)));
  EXPECT_EQ(again.Read().status, 200);
  EXPECT_EQ(Stored(), 2);
}

TEST_F(ProcessorFrontTest, RequestsBeyondTheWorkerCapAnswer429WithRetryAfter) {
  Start({.initial_delay_ms = 1000}, /*threads=*/2);
  Socket a(server_->port()), b(server_->port()), c(server_->port());
  ASSERT_TRUE(a.Send(PostPayment(1)));
  ASSERT_TRUE(b.Send(PostPayment(2)));
  ASSERT_TRUE(AwaitSleepers(2));
  ASSERT_TRUE(c.Send(PostPayment(3)));
  Socket::Response rejected = c.Read();
  EXPECT_EQ(rejected.status, 429);
  EXPECT_EQ(rejected.headers["Retry-After"], "5");
  EXPECT_EQ(server_->worker_threads(), 2);
  clock_.Advance(absl::Milliseconds(1000));
  EXPECT_EQ(a.Read().status, 200);
  EXPECT_EQ(b.Read().status, 200);
  EXPECT_FALSE(server_->service().store().Find(Id(3)).has_value());
  // The rejected connection stays usable once a worker is free.
  ASSERT_TRUE(testing::WaitUntil([&] { return clock_.sleepers() == 0; }));
  ASSERT_TRUE(c.Send(Get("/payments/" + Id(1))));
  EXPECT_EQ(c.Read().status, 200);
}

// Real clock: Stop() must interrupt requests sleeping in a long delay (the service polls for the
// shutdown every shutdown_poll) and close their connections.
TEST(ProcessorFrontStopTest, StopReturnsWhileRequestsSleep) {
  ServerOptions options;
  options.threads = 8;
  options.processor.initial_delay_ms = 600'000;
  options.processor.shutdown_poll = absl::Milliseconds(10);
  auto server = ProcessorServer::Start(RealClock::Get(), options);
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::unique_ptr<Socket>> sockets;
  for (int i = 0; i < 3; ++i) {
    sockets.push_back(std::make_unique<Socket>((*server)->port()));
    ASSERT_TRUE(sockets.back()->Send(PostPayment(i)));
  }
  Socket idle((*server)->port());
  ASSERT_TRUE(testing::WaitUntil([&] { return (*server)->service().limiter().in_flight() == 3; }));
  (*server)->Stop();
  for (auto& s : sockets) EXPECT_TRUE(s->ClosedByServer());
  EXPECT_TRUE(idle.ClosedByServer());
  EXPECT_EQ((*server)->service().store().Summarize(std::nullopt, std::nullopt).count, 0);
  (*server)->Stop();  // idempotent
}

}  // namespace
}  // namespace rinha::processor
