// config/haproxy.cfg as HAProxy runs it: the configuration is valid, and in front of two stub
// edges (cpp-httplib on port 0) it answers what an edge would refuse itself, never lets a slow or
// oversized request reach an edge, and passes the API through. Raw sockets; nothing timed (a slow
// request is answered 408 once timeout http-request passes; the test only checks the answer).
// With LB_DNS (Docker's setting) the edges' names are resolved through a stub DNS server, and an
// edge that comes back at another address is found again without restarting HAProxy. The
// Prometheus exporter answers on LB_METRICS_BIND only, outside the API frontend's limits.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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
using ::testing::Not;
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

std::vector<std::pair<std::string, std::string>> Env(int lb_port, int edge1, int edge2,
                                                     int metrics_port) {
  return {{"LB_BIND", absl::StrCat("127.0.0.1:", lb_port)},
          {"EDGE1_ADDR", absl::StrCat("127.0.0.1:", edge1)},
          {"EDGE2_ADDR", absl::StrCat("127.0.0.1:", edge2)},
          {"LB_METRICS_BIND", absl::StrCat("127.0.0.1:", metrics_port)}};
}

// Runs `haproxy -c` on the configuration with `env`; true when it exits 0.
void ExpectValid(const std::vector<std::pair<std::string, std::string>>& env) {
  Subprocess::Options options;
  options.args = {"-c", "-f", HAPROXY_CONFIG};
  options.env = env;
  options.capture_stderr = true;
  auto check = Subprocess::Spawn(kHaproxy, options);
  ASSERT_TRUE(check.ok()) << check.status();
  absl::StatusOr<int> status = (*check)->Wait();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << (*check)->output() << (*check)->stderr_output();
}

TEST(HaproxyConfigTest, IsValid) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << "haproxy not installed";
  ExpectValid(Env(9999, 8081, 8082, 8405));
}

// LB_METRICS_BIND unset (the Docker image, a run by hand): the config's own default (:8405).
TEST(HaproxyConfigTest, IsValidWithoutAMetricsAddress) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << "haproxy not installed";
  ExpectValid({{"LB_BIND", "127.0.0.1:9999"},
               {"EDGE1_ADDR", "127.0.0.1:8081"},
               {"EDGE2_ADDR", "127.0.0.1:8082"}});
}

// As the Docker image runs it: names that do not resolve yet (the edges may start later) are no
// error.
TEST(HaproxyConfigTest, IsValidWithDockerDnsAndEdgesNotResolvableYet) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << "haproxy not installed";
  ExpectValid({{"LB_BIND", "127.0.0.1:9999"},
               {"EDGE1_ADDR", "edge1.rinha.invalid:8080"},
               {"EDGE2_ADDR", "edge2.rinha.invalid:8080"},
               {"LB_DNS", "127.0.0.11:53"}});
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
      edges_[i]->Get(
          R"(/payments/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
            statuses_.fetch_add(1);
            res.set_content(absl::StrCat(R"({"correlationId":")", req.matches[1].str(), R"("})"),
                            "application/json");
          });
      edge_ports[i] = edges_[i]->bind_to_any_port("127.0.0.1");
      ASSERT_GT(edge_ports[i], 0);
      listeners_[i] = HttplibListener::Start(*edges_[i]);
    }
    // A port picked free can be taken before HAProxy binds it: then pick another.
    for (int attempt = 0; attempt < 5 && lb_ == nullptr; ++attempt) {
      port_ = FreePort();
      metrics_port_ = FreePort();
      Subprocess::Options options;
      options.args = {"-db", "-f", HAPROXY_CONFIG};
      options.env = Env(port_, edge_ports[0], edge_ports[1], metrics_port_);
      auto lb = Subprocess::Spawn(kHaproxy, options);
      ASSERT_TRUE(lb.ok()) << lb.status();
      const bool up = WaitUntil([&] {
        Http1Socket probe(port_);
        Http1Socket metrics_probe(metrics_port_);
        return (probe.connected() && metrics_probe.connected()) ||
               (*lb)->Wait(absl::ZeroDuration()).ok();
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
  std::atomic<int> statuses_{0};
  int port_ = 0;
  int metrics_port_ = 0;
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

// A payment's status reaches an edge through the load balancer, on the status backend's own
// connections; other methods and paths under /payments/ do not, and a flood is capped.
TEST_F(HaproxyInFrontTest, RoutesAPaymentsStatusToAnEdgeAndCapsItsRate) {
  Http1Socket client(port_);
  const std::string id = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";
  ASSERT_TRUE(client.Send(absl::StrCat("GET /payments/", id, " HTTP/1.1\r\nHost: lb\r\n\r\n")));
  Http1Socket::Response res = client.Read();
  EXPECT_EQ(res.status, 200);
  EXPECT_THAT(res.body, HasSubstr(id));
  EXPECT_EQ(statuses_.load(), 1);
  ASSERT_TRUE(client.Send(absl::StrCat("DELETE /payments/", id, " HTTP/1.1\r\nHost: lb\r\n\r\n")));
  res = client.Read();
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers["allow"], "GET");
  ASSERT_TRUE(client.Send("GET /payments/a/b HTTP/1.1\r\nHost: lb\r\n\r\n"));
  EXPECT_EQ(client.Read().status, 404);
  int limited = 0;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(client.Send(absl::StrCat("GET /payments/", id, " HTTP/1.1\r\nHost: lb\r\n\r\n")));
    limited += client.Read().status == 429 ? 1 : 0;
  }
  EXPECT_GT(limited, 0);
  EXPECT_LE(statuses_.load(), 1 + 21 + 20);  // at most about 20 a second got through
  EXPECT_EQ(payments_.load(), 0);
}

// The value of one series (`name{labels}`) in Prometheus text, or "(absent)".
std::string SeriesValue(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, series) && absl::ConsumePrefix(&line, " ")) {
      return std::string(line);
    }
  }
  return "(absent)";
}

// The exporter's page: Prometheus text with the haproxy_ series, on LB_METRICS_BIND only.
TEST_F(HaproxyInFrontTest, ServesPrometheusMetricsOnItsOwnPortOnly) {
  Http1Socket client(port_);
  ASSERT_TRUE(client.Send(PostPayment()));
  ASSERT_EQ(client.Read().status, 202);  // kept open: one API session while scraped

  httplib::Client scraper("127.0.0.1", metrics_port_);
  scraper.set_read_timeout(10, 0);
  const httplib::Result res = scraper.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), StartsWith("text/plain"));
  const std::string& text = res->body;
  EXPECT_THAT(text, HasSubstr("\n# TYPE haproxy_frontend_current_sessions gauge\n"));
  EXPECT_EQ(SeriesValue(text, R"(haproxy_frontend_current_sessions{proxy="api"})"), "1");
  EXPECT_EQ(SeriesValue(text, R"(haproxy_server_status{proxy="edges",server="edge1",state="UP"})"),
            "1");
  EXPECT_EQ(SeriesValue(text, R"(haproxy_backend_http_requests_total{proxy="edges"})"), "1");
  // The scraper's connection is the metrics frontend's, and the hard cap is the API's 12,000
  // plus the metrics frontend's own 10: a scrape never takes a contest client's place.
  EXPECT_EQ(SeriesValue(text, R"(haproxy_frontend_current_sessions{proxy="metrics"})"), "1");
  EXPECT_EQ(SeriesValue(text, R"(haproxy_frontend_limit_sessions{proxy="api"})"), "12000");
  EXPECT_EQ(SeriesValue(text, R"(haproxy_frontend_limit_sessions{proxy="metrics"})"), "10");
  EXPECT_EQ(SeriesValue(text, "haproxy_process_max_connections"), "12010");

  const httplib::Result other = scraper.Get("/stats");
  ASSERT_TRUE(other) << httplib::to_string(other.error());
  EXPECT_EQ(other->status, 404);

  // Through the API's port, /metrics is one more path an edge would refuse.
  ASSERT_TRUE(client.Send("GET /metrics HTTP/1.1\r\nHost: lb\r\n\r\n"));
  const Http1Socket::Response through_api = client.Read();
  EXPECT_EQ(through_api.status, 404);
  EXPECT_THAT(through_api.body, Not(HasSubstr("haproxy_")));
  EXPECT_EQ(payments_.load(), 1);
}

// The summary cap (50/s, all clients together) counts only what reaches an edge: a flood of
// summaries an edge would refuse must not use up the share of the contest's audit.
TEST_F(HaproxyInFrontTest, InvalidSummariesAreAnsweredHereAndLeaveTheAuditItsShare) {
  Http1Socket client(port_);
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(client.Send("GET /payments-summary?from=yesterday HTTP/1.1\r\nHost: lb\r\n\r\n"));
    Http1Socket::Response res = client.Read();
    ASSERT_EQ(res.status, 400) << res.body;
    ASSERT_TRUE(
        client.Send("GET /payments-summary?to=2025-07-15T12:34:56.000Z&from=15/07/2025 HTTP/1.1\r\n"
                    "Host: lb\r\n\r\n"));
    ASSERT_EQ(client.Read().status, 400);
    ASSERT_TRUE(
        client.Send("POST /payments-summary HTTP/1.1\r\nHost: lb\r\nContent-Length: 0\r\n\r\n"));
    ASSERT_EQ(client.Read().status, 405);
  }
  // What the edge accepts passes: ISO bounds, an empty bound (none), no bounds.
  for (const char* query : {"?from=2025-07-15T12:34:56.000Z&to=2025-07-15T12:35:56.000Z",
                            "?from=2025-07-15T12%3A34%3A56Z&to=", ""}) {
    ASSERT_TRUE(
        client.Send(absl::StrCat("GET /payments-summary", query, " HTTP/1.1\r\nHost: lb\r\n\r\n")));
    EXPECT_EQ(client.Read().status, 200) << query;
  }
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

// A DNS server on 127.0.0.1, UDP port 0, standing in for Docker's: answers A queries for the
// names it is given (TTL 1 s), NXDOMAIN for any other name, and no record for other types.
class DnsStub {
 public:
  DnsStub() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      socklen_t length = sizeof(address);
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
      port_ = ntohs(address.sin_port);
      thread_ = std::thread([this] { Serve(); });
    }
  }
  ~DnsStub() {
    if (thread_.joinable()) {
      stopping_.store(true);
      // Wakes the blocked recvfrom with an empty datagram.
      sockaddr_in self{};
      self.sin_family = AF_INET;
      self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      self.sin_port = htons(static_cast<uint16_t>(port_));
      sendto(fd_, "", 0, 0, reinterpret_cast<sockaddr*>(&self), sizeof(self));
      thread_.join();
    }
    close(fd_);
  }

  int port() const { return port_; }  // 0: not bound
  void Set(const std::string& name, const std::string& ipv4) {
    std::lock_guard<std::mutex> lock(mu_);
    in_addr address{};
    inet_pton(AF_INET, ipv4.c_str(), &address);
    names_[absl::AsciiStrToLower(name)] = address;
  }

 private:
  void Serve() {
    char query[512];
    while (!stopping_.load()) {
      sockaddr_in peer{};
      socklen_t peer_length = sizeof(peer);
      const ssize_t n =
          recvfrom(fd_, query, sizeof(query), 0, reinterpret_cast<sockaddr*>(&peer), &peer_length);
      if (n < 12) continue;
      const std::string answer = Answer(std::string(query, static_cast<size_t>(n)));
      if (answer.empty()) continue;
      sendto(fd_, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&peer), peer_length);
    }
  }

  // The reply to one query (header, the question as asked, at most one A record); empty for a
  // malformed query.
  std::string Answer(const std::string& query) {
    size_t at = 12;
    std::string name;
    while (at < query.size() && query[at] != 0) {
      const size_t label = static_cast<uint8_t>(query[at]);
      if (label > 63 || at + 1 + label > query.size()) return "";
      if (!name.empty()) name += '.';
      name.append(query, at + 1, label);
      at += 1 + label;
    }
    if (at + 5 > query.size()) return "";
    const size_t question_end = at + 5;  // the root label, type, class
    const int type =
        (static_cast<uint8_t>(query[at + 1]) << 8) | static_cast<uint8_t>(query[at + 2]);
    bool known = false;
    in_addr address{};
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = names_.find(absl::AsciiStrToLower(name));
      if (it != names_.end()) {
        known = true;
        address = it->second;
      }
    }
    const bool a_record = known && type == 1;
    std::string reply = query.substr(0, 2);                       // id
    reply += std::string(known ? "\x81\x80" : "\x81\x83", 2);     // an answer; else NXDOMAIN
    reply += std::string("\x00\x01", 2);                          // one question
    reply += std::string(a_record ? "\x00\x01" : "\x00\x00", 2);  // one answer or none
    reply += std::string(4, '\0');  // no authority, no additional records
    reply.append(query, 12, question_end - 12);
    if (a_record) {
      // The name by pointer to the question, A, IN, TTL 1, 4 bytes.
      reply += std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04", 12);
      reply.append(reinterpret_cast<const char*>(&address.s_addr), 4);
    }
    return reply;
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan, which would report the
  // lookups as racing with Set.
  std::mutex mu_;
  std::map<std::string, in_addr> names_ ABSL_GUARDED_BY(mu_);
};

// A stub edge on one loopback address that counts the payments it is sent.
struct AddressedEdge {
  explicit AddressedEdge(const std::string& host, int port) {
    server.set_keep_alive_timeout(1);  // its stop waits for HAProxy's kept connections
    server.Post("/payments", [this](const httplib::Request&, httplib::Response& res) {
      payments.fetch_add(1);
      res.status = 202;
    });
    bound_port =
        port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
    if (bound_port > 0) listener = HttplibListener::Start(server);
  }
  httplib::Server server;
  std::unique_ptr<HttplibListener> listener;
  std::atomic<int> payments{0};
  int bound_port = -1;
};

// compose.yaml's case: edge1 is recreated and comes back at another IP. HAProxy, started once,
// must find it there through the DNS; edge2 does not resolve at all (NXDOMAIN: no such
// container), so every payment has to go through edge1.
TEST(HaproxyDnsTest, FindsARecreatedEdgeAtItsNewAddressWithoutRestarting) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << "haproxy not installed";
  rinha::testing::HangWatchdog watchdog{std::chrono::seconds(120)};
  DnsStub dns;
  ASSERT_GT(dns.port(), 0);
  auto old_edge = std::make_unique<AddressedEdge>("127.0.0.2", 0);
  ASSERT_GT(old_edge->bound_port, 0);
  const int edge_port = old_edge->bound_port;
  dns.Set("edge1.rinha.invalid", "127.0.0.2");

  std::unique_ptr<Subprocess> lb;
  int lb_port = 0;
  for (int attempt = 0; attempt < 5 && lb == nullptr; ++attempt) {
    lb_port = FreePort();
    Subprocess::Options options;
    options.args = {"-db", "-f", HAPROXY_CONFIG};
    options.env = {{"LB_BIND", absl::StrCat("127.0.0.1:", lb_port)},
                   {"EDGE1_ADDR", absl::StrCat("edge1.rinha.invalid:", edge_port)},
                   {"EDGE2_ADDR", absl::StrCat("edge2.rinha.invalid:", edge_port)},
                   {"LB_DNS", absl::StrCat("127.0.0.1:", dns.port())},
                   {"LB_METRICS_BIND", absl::StrCat("127.0.0.1:", FreePort())}};
    auto started = Subprocess::Spawn(kHaproxy, options);
    ASSERT_TRUE(started.ok()) << started.status();
    const bool up = WaitUntil([&] {
      Http1Socket probe(lb_port);
      return probe.connected() || (*started)->Wait(absl::ZeroDuration()).ok();
    });
    if (up && !(*started)->Wait(absl::ZeroDuration()).ok()) lb = *std::move(started);
  }
  ASSERT_NE(lb, nullptr) << "HAProxy did not start";

  const auto paid_through_lb = [&] {
    Http1Socket client(lb_port);
    return client.Send(PostPayment()) && client.Read().status == 202;
  };
  const absl::Duration kResolved = absl::Seconds(30);  // resolved every 1 s; a loaded machine
  EXPECT_TRUE(
      WaitUntil([&] { return paid_through_lb() && old_edge->payments.load() > 0; }, kResolved))
      << "the first address never served through the load balancer";

  // Recreated: the same port on another address; the old one refuses connections.
  AddressedEdge new_edge("127.0.0.3", edge_port);
  if (new_edge.bound_port < 0) GTEST_SKIP() << "127.0.0.3:" << edge_port << " is taken";
  dns.Set("edge1.rinha.invalid", "127.0.0.3");
  old_edge.reset();
  EXPECT_TRUE(
      WaitUntil([&] { return paid_through_lb() && new_edge.payments.load() > 0; }, kResolved))
      << "HAProxy kept the old address";
  EXPECT_TRUE(paid_through_lb());
  EXPECT_FALSE(lb->Wait(absl::ZeroDuration()).ok()) << "HAProxy exited";
  (void)lb->Terminate();
}

}  // namespace
}  // namespace rinha
