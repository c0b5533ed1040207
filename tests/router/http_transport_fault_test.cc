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
    auto transport = HttpTransport::Create(url, url, timeouts_);
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = *std::move(transport);
  }

  void SetFault(const std::string& json) {
    testing::Http1Socket s(server_->port());
    ASSERT_TRUE(s.Send(absl::StrCat(
        "PUT /admin/configurations/fault HTTP/1.1\r\nHost: t\r\nX-Rinha-Token: 123\r\n"
        "Content-Length: ",
        json.size(), "\r\n\r\n", json)));
    ASSERT_EQ(s.Read().status, 200) << json;
  }

  // One POST through the transport, waited for.
  HttpOutcome Post(int n) {
    const uint64_t token = next_token_++;
    transport_->PostPayment(
        token, Target::kDefault,
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

TEST_F(HttpTransportFaultTest, ATruncatedBodyIsAmbiguousAndThePaymentIsStored) {
  SetFault(R"({"mode":"truncated"})");
  EXPECT_EQ(Post(1).kind, HttpOutcome::Kind::kConnectionLost);
  EXPECT_TRUE(Holds(1));
  // A duplicate's 422 is truncated as well: still ambiguous, never a "not stored".
  EXPECT_EQ(Post(1).kind, HttpOutcome::Kind::kConnectionLost);
}

TEST_F(HttpTransportFaultTest, ASlowHeadIsWaitedForWithinTheTimeout) {
  SetFault(R"({"mode":"slow_headers","interval_ms":1})");
  const HttpOutcome o = Post(1);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
  EXPECT_TRUE(Holds(1));
}

TEST_F(HttpTransportFaultTest, AHeadSlowerThanTheTimeoutIsAmbiguousAndThePaymentIsStored) {
  timeouts_.payment_ms = 200;
  MakeTransport();
  SetFault(R"({"mode":"slow_headers","interval_ms":50})");
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

// A server that answers every request with an interim 100 Continue, then the final answer.
class InterimServer {
 public:
  InterimServer() {
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
      std::string in;
      char buf[4096];
      while (in.find("}") == std::string::npos) {
        const ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      const std::string out =
          "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      (void)send(c, out.data(), out.size(), MSG_NOSIGNAL);
      close(c);
    });
  }
  ~InterimServer() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(HttpTransportInterimTest, AnInterimAnswerIsNotTheFinalOne) {
  InterimServer server;
  const std::string url = absl::StrCat("http://127.0.0.1:", server.port());
  auto transport = HttpTransport::Create(url, url, Timeouts());
  ASSERT_TRUE(transport.ok());
  (*transport)->PostPayment(1, Target::kDefault, PaymentRequestBody(Id(1), 100, 0));
  std::optional<HttpOutcome> outcome;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        (*transport)->Poll(10, [&](uint64_t, const HttpOutcome& o) { outcome = o; });
        return outcome.has_value();
      },
      absl::Seconds(10), absl::ZeroDuration()));
  EXPECT_EQ(outcome->kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(outcome->status, 200);  // not 100, which would read as "rejected, nothing stored"
  EXPECT_EQ(outcome->body, "ok");
}

}  // namespace
}  // namespace rinha::router
