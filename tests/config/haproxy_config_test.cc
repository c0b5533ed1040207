// config/haproxy.cfg as HAProxy runs it: the configuration is valid, and in front of two stub
// edges (cpp-httplib on port 0) it answers what an edge would refuse itself, never lets a slow or
// oversized request reach an edge, and passes the API through. Raw sockets; nothing timed (a slow
// request is answered 408 once timeout http-request passes; the test only checks the answer).
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/httplib_listener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/hang_watchdog.h"
#include "tests/testing/http1_socket.h"
#include "tests/testing/httplib_tsan_suppression.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/wait.h"

namespace rinha {
namespace {

using ::rinha::testing::Http1Socket;
using ::rinha::testing::Subprocess;
using ::rinha::testing::WaitUntil;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kHaproxy[] = "/usr/sbin/haproxy";
constexpr char kPayment[] =
    R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20.05})";

std::string PostPayment() {
  return absl::StrCat("POST /payments HTTP/1.1\r\nHost: lb\r\nContent-Type: application/json\r\n",
                      "Content-Length: ", strlen(kPayment), "\r\n\r\n", kPayment);
}

// A port nothing listens on right now (HAProxy cannot bind port 0 and tell which it got).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::vector<std::pair<std::string, std::string>> Env(int lb_port, int edge1, int edge2) {
  return {{"LB_BIND", absl::StrCat("127.0.0.1:", lb_port)},
          {"EDGE1_ADDR", absl::StrCat("127.0.0.1:", edge1)},
          {"EDGE2_ADDR", absl::StrCat("127.0.0.1:", edge2)}};
}

TEST(HaproxyConfigTest, IsValid) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << "haproxy not installed";
  Subprocess::Options options;
  options.args = {"-c", "-f", HAPROXY_CONFIG};
  options.env = Env(9999, 8081, 8082);
  options.capture_stderr = true;
  auto check = Subprocess::Spawn(kHaproxy, options);
  ASSERT_TRUE(check.ok()) << check.status();
  absl::StatusOr<int> status = (*check)->Wait();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << (*check)->output() << (*check)->stderr_output();
}

class HaproxyInFrontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << "haproxy not installed";
    int edge_ports[2];
    for (int i = 0; i < 2; ++i) {
      edges_[i] = std::make_unique<httplib::Server>();
      edges_[i]->Post("/payments", [this](const httplib::Request&, httplib::Response& res) {
        payments_.fetch_add(1);
        res.status = 202;
      });
      edges_[i]->Get("/payments-summary", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"default":{},"fallback":{}})", "application/json");
      });
      edge_ports[i] = edges_[i]->bind_to_any_port("127.0.0.1");
      ASSERT_GT(edge_ports[i], 0);
      listeners_[i] = HttplibListener::Start(*edges_[i]);
    }
    // A port picked free can be taken before HAProxy binds it: then pick another.
    for (int attempt = 0; attempt < 5 && lb_ == nullptr; ++attempt) {
      port_ = FreePort();
      Subprocess::Options options;
      options.args = {"-db", "-f", HAPROXY_CONFIG};
      options.env = Env(port_, edge_ports[0], edge_ports[1]);
      auto lb = Subprocess::Spawn(kHaproxy, options);
      ASSERT_TRUE(lb.ok()) << lb.status();
      const bool up = WaitUntil([&] {
        Http1Socket probe(port_);
        return probe.connected() || (*lb)->Wait(absl::ZeroDuration()).ok();
      });
      if (up && !(*lb)->Wait(absl::ZeroDuration()).ok()) lb_ = *std::move(lb);
    }
    ASSERT_NE(lb_, nullptr) << "HAProxy did not start";
  }
  void TearDown() override {
    if (lb_ != nullptr) (void)lb_->Terminate();
    for (auto& l : listeners_) {
      if (l != nullptr) l->Stop();
    }
  }

  rinha::testing::HangWatchdog watchdog_{std::chrono::seconds(120)};
  std::unique_ptr<httplib::Server> edges_[2];
  std::unique_ptr<HttplibListener> listeners_[2];
  std::unique_ptr<Subprocess> lb_;
  std::atomic<int> payments_{0};
  int port_ = 0;
};

TEST_F(HaproxyInFrontTest, PassesTheApiThroughOnAKeptConnection) {
  Http1Socket client(port_);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Send(PostPayment()));
    EXPECT_EQ(client.Read().status, 202);
  }
  ASSERT_TRUE(client.Send("GET /payments-summary HTTP/1.1\r\nHost: lb\r\n\r\n"));
  EXPECT_EQ(client.Read().status, 200);
  EXPECT_EQ(payments_.load(), 3);
}

TEST_F(HaproxyInFrontTest, AnswersWhatAnEdgeWouldRefuseWithoutReachingOne) {
  Http1Socket client(port_);
  ASSERT_TRUE(client.Send("GET /admin HTTP/1.1\r\nHost: lb\r\n\r\n"));
  Http1Socket::Response res = client.Read();
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error":"not found"})");
  ASSERT_TRUE(client.Send("DELETE /payments HTTP/1.1\r\nHost: lb\r\n\r\n"));  // still kept
  res = client.Read();
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers["allow"], "POST");
  ASSERT_TRUE(
      client.Send("POST /payments-summary HTTP/1.1\r\nHost: lb\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_EQ(client.Read().status, 405);

  Http1Socket big(port_);
  ASSERT_TRUE(big.Send("POST /payments HTTP/1.1\r\nHost: lb\r\nContent-Length: 5000\r\n\r\n"));
  EXPECT_THAT(big.ReadUntilClosed().bytes, StartsWith("HTTP/1.1 413"));

  Http1Socket chunked(port_);
  ASSERT_TRUE(chunked.Send(
      "POST /payments HTTP/1.1\r\nHost: lb\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  EXPECT_THAT(chunked.ReadUntilClosed().bytes, StartsWith("HTTP/1.1 411"));

  Http1Socket huge_head(port_);
  ASSERT_TRUE(huge_head.Send(absl::StrCat(
      "POST /payments HTTP/1.1\r\nHost: lb\r\nX-Pad: ", std::string(5000, 'p'), "\r\n\r\n")));
  EXPECT_THAT(huge_head.ReadUntilClosed().bytes, StartsWith("HTTP/1.1 400"));
  EXPECT_EQ(payments_.load(), 0);
}

TEST_F(HaproxyInFrontTest, ASlowHeadOrBodyGets408AndNeverReachesAnEdge) {
  Http1Socket head(port_);
  ASSERT_TRUE(head.Send("POST /payments HTTP/1.1\r\nHost: lb\r\n"));
  Http1Socket body(port_);
  ASSERT_TRUE(body.Send("POST /payments HTTP/1.1\r\nHost: lb\r\nContent-Length: 70\r\n\r\n{"));
  Http1Socket silent(port_);
  EXPECT_THAT(head.ReadUntilClosed().bytes, StartsWith("HTTP/1.1 408"));
  EXPECT_THAT(body.ReadUntilClosed().bytes, StartsWith("HTTP/1.1 408"));
  EXPECT_THAT(silent.ReadUntilClosed().bytes, StartsWith("HTTP/1.1 408"));
  EXPECT_EQ(payments_.load(), 0);

  Http1Socket client(port_);  // meanwhile and after, others are served
  ASSERT_TRUE(client.Send(PostPayment()));
  EXPECT_EQ(client.Read().status, 202);
}

}  // namespace
}  // namespace rinha
