// How HttpTransport reports each ending of a POST /payments against the emulator's fault modes
// (processor/fault.h), and what the emulator then holds: the classification the settlement state
// machine relies on for exactly-once (router_core.h). In-process emulator on port 0, real clock;
// every wait is "until the answer or a bound".
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "processor/processor_server.h"
#include "router/http_transport.h"
#include "tests/testing/http1_socket.h"
#include "tests/testing/wait.h"

namespace rinha::router {
namespace {

std::string Id(int n) { return absl::StrFormat("7a3c0000-0000-4000-8000-%012d", n); }

class HttpTransportFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    processor::ServerOptions o;
    o.threads = 32;
    auto server = processor::ProcessorServer::Start(RealClock::Get(), o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    timeouts_.payment_ms = 2000;
    MakeTransport();
  }

  void MakeTransport() {
    const std::string url = absl::StrCat("http://127.0.0.1:", server_->port());
    auto transport =
        HttpTransport::Create(url, url, timeouts_, ResolveConfig(), resolver_, RealClock::Get());
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = *std::move(transport);
  }

  void SetFault(const std::string& json) {
    testing::Http1Socket s(server_->port());
    ASSERT_TRUE(s.Send(
        absl::StrCat("PUT /admin/configurations/fault HTTP/1.1\r\nHost: t\r\nX-Rinha-Token: 123\r\n"
                     "Content-Length: ",
                     json.size(), "\r\n\r\n", json)));
    ASSERT_EQ(s.Read().status, 200) << json;
  }

  // One POST through the transport, waited for.
  HttpOutcome Post(int n) {
    const uint64_t token = next_token_++;
    transport_->PostPayment(token, Target::kDefault,
                            PaymentRequestBody(Id(n), 2005, absl::ToUnixMillis(absl::Now())));
    return Await(token);
  }
  HttpOutcome Await(uint64_t token) {
    std::optional<HttpOutcome> outcome;
    const bool done = testing::WaitUntil(
        [&] {
          transport_->Poll(10, [&](uint64_t t, const HttpOutcome& o) {
            if (t == token) outcome = o;
          });
          return outcome.has_value();
        },
        absl::Seconds(20), absl::ZeroDuration());
    EXPECT_TRUE(done);
    return outcome.value_or(HttpOutcome{HttpOutcome::Kind::kTimeout, -1, ""});
  }
  bool Holds(int n) { return server_->service().GetPayment(Id(n)).status == 200; }

  Timeouts timeouts_;
  GetaddrinfoResolver resolver_;  // unused: the URLs are IP literals
  std::unique_ptr<processor::ProcessorServer> server_;
  std::unique_ptr<HttpTransport> transport_;
  uint64_t next_token_ = 1;
};

TEST_F(HttpTransportFaultTest, AHealthyAnswerIsAResponse) {
  const HttpOutcome o = Post(1);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
  EXPECT_TRUE(Holds(1));
}

TEST_F(HttpTransportFaultTest, AResetAfterTheRequestIsAmbiguousAndThePaymentIsStored) {
  SetFault(R"({"mode":"reset"})");
  EXPECT_EQ(Post(1).kind, HttpOutcome::Kind::kConnectionLost);
  EXPECT_TRUE(Holds(1));
  // Again on the same pool: the broken connection was not kept.
  EXPECT_EQ(Post(2).kind, HttpOutcome::Kind::kConnectionLost);
  SetFault(R"({"mode":"none"})");
  EXPECT_EQ(Post(3).status, 200);
}

TEST_F(HttpTransportFaultTest, A200WithAnUnreadableBodyIsStillA200) {
  SetFault(R"({"mode":"garbage"})");
  const HttpOutcome o = Post(1);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
  EXPECT_NE(o.body.find("<html>"), std::string::npos);
  EXPECT_TRUE(Holds(1));
}

TEST_F(HttpTransportFaultTest, ATruncated200IsA200AndATruncated422IsAmbiguous) {
  SetFault(R"({"mode":"truncated"})");
  // The status line arrived whole: the processor said 200, it holds the payment.
  const HttpOutcome o = Post(1);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
  EXPECT_TRUE(Holds(1));
  // A duplicate's 422 is read from its body, and the body was cut: ambiguous, never "not stored".
  EXPECT_EQ(Post(1).kind, HttpOutcome::Kind::kConnectionLost);
}

TEST_F(HttpTransportFaultTest, ASlowHeadIsWaitedForWithinTheTimeout) {
  SetFault(R"({"mode":"slow_headers","interval_ms":1})");
  const HttpOutcome o = Post(1);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
  EXPECT_TRUE(Holds(1));
}

TEST_F(HttpTransportFaultTest, AStatusLineSlowerThanTheTimeoutIsAmbiguousAndThePaymentIsStored) {
  timeouts_.payment_ms = 200;
  MakeTransport();
  SetFault(R"({"mode":"slow_headers","interval_ms":50})");  // 17 bytes of status line: 850 ms
  EXPECT_EQ(Post(1).kind, HttpOutcome::Kind::kTimeout);
  EXPECT_TRUE(Holds(1));
}

TEST_F(HttpTransportFaultTest, A429IsAResponseAndNothingIsStored) {
  SetFault(R"({"mode":"429"})");
  const HttpOutcome o = Post(1);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 429);
  EXPECT_FALSE(Holds(1));
}

TEST_F(HttpTransportFaultTest, StoreThen500IsA500ThoughThePaymentIsStored) {
  SetFault(R"({"mode":"store_then_500"})");
  const HttpOutcome o = Post(1);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 500);
  EXPECT_TRUE(Holds(1));  // what the router cannot know from the answer (see router_core.h)
}

TEST_F(HttpTransportFaultTest, ARefusedConnectIsNotSentEvenWithAConnectionPooledBefore) {
  ASSERT_EQ(Post(1).status, 200);  // leaves a keep-alive connection in the pool
  SetFault(R"({"mode":"refuse","duration_ms":60000})");
  ASSERT_TRUE(testing::WaitUntil([&] { return !server_->listening(); }));
  EXPECT_EQ(Post(2).kind, HttpOutcome::Kind::kConnectFailed);
  EXPECT_FALSE(Holds(2));
}

// A server on port 0 that reads one request, writes `answer` and then keeps the connection open
// until the client closes it (or the server is destroyed): what the client decides, it decides
// from those bytes alone.
class OneAnswerServer {
 public:
  explicit OneAnswerServer(std::string answer) : answer_(std::move(answer)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(fd_, 4);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      conn_.store(c);
      std::string in;
      char buf[4096];
      while (in.find("}") == std::string::npos) {
        const ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      (void)send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      while (recv(c, buf, sizeof(buf), 0) > 0) {
      }
      client_closed_.store(true);
    });
  }
  ~OneAnswerServer() {
    shutdown(fd_, SHUT_RDWR);
    if (const int c = conn_.load(); c >= 0) shutdown(c, SHUT_RDWR);
    thread_.join();
    if (const int c = conn_.load(); c >= 0) close(c);
    close(fd_);
  }
  int port() const { return port_; }
  bool client_closed() const { return client_closed_.load(); }

 private:
  const std::string answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> conn_{-1};
  std::atomic<bool> client_closed_{false};
  std::thread thread_;
};

// One POST through a fresh transport. The default deadline is far beyond the test's wait: only
// the bytes can decide.
HttpOutcome PostOnce(int port, int64_t payment_ms = 60000) {
  const std::string url = absl::StrCat("http://127.0.0.1:", port);
  Timeouts timeouts;
  timeouts.payment_ms = payment_ms;
  GetaddrinfoResolver resolver;
  auto transport =
      HttpTransport::Create(url, url, timeouts, ResolveConfig(), resolver, RealClock::Get());
  EXPECT_TRUE(transport.ok());
  if (!transport.ok()) return HttpOutcome{HttpOutcome::Kind::kTimeout, -1, ""};
  (*transport)->PostPayment(1, Target::kDefault, PaymentRequestBody(Id(1), 100, 0));
  std::optional<HttpOutcome> outcome;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        (*transport)->Poll(10, [&](uint64_t, const HttpOutcome& o) { outcome = o; });
        return outcome.has_value();
      },
      absl::Seconds(20), absl::ZeroDuration()));
  return outcome.value_or(HttpOutcome{HttpOutcome::Kind::kTimeout, -1, ""});
}

TEST(HttpTransportStatusLineTest, A2xxStatusLineDecidesWithoutTheRestOfTheHead) {
  // The rest of the head never comes: the outcome can only have come from the status line.
  OneAnswerServer server("HTTP/1.1 200 OK\r\nContent-Ty");
  const HttpOutcome o = PostOnce(server.port());
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
  // The unfinished answer's connection is not kept for another request.
  EXPECT_TRUE(testing::WaitUntil([&] { return server.client_closed(); }));
}

TEST(HttpTransportStatusLineTest, OtherStatusesWaitForTheWholeAnswer) {
  // A 422 or a 500 is read from the whole answer; half of one is no answer yet.
  for (const char* answer : {"HTTP/1.1 422 Unprocessable\r\nContent-Le", "HTTP/1.1 500 Err\r\n"}) {
    OneAnswerServer server(answer);
    EXPECT_EQ(PostOnce(server.port(), /*payment_ms=*/300).kind, HttpOutcome::Kind::kTimeout)
        << answer;
  }
}

TEST(HttpTransportStatusLineTest, AHalfStatusLineIsNoAnswer) {
  OneAnswerServer server("HTTP/1.1 20");
  EXPECT_EQ(PostOnce(server.port(), /*payment_ms=*/300).kind, HttpOutcome::Kind::kTimeout);
}

TEST(HttpTransportInterimTest, AnInterimAnswerIsNotTheFinalOne) {
  OneAnswerServer server(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  const HttpOutcome o = PostOnce(server.port());
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);  // not 100, which would read as "rejected, nothing stored"
  EXPECT_EQ(o.body, "ok");
}

}  // namespace
}  // namespace rinha::router
