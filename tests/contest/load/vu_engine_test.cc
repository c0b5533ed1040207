// The VU engine against a real HTTP server on port 0: connection reuse, reconnects, refusals.
#include "contest/load/vu_engine.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>

#include "common/clock.h"
#include "common/httplib_listener.h"
#include "gtest/gtest.h"
#include "tests/testing/httplib_tsan_suppression.h"

namespace rinha::contest {
namespace {

// Answers 202 to POST /payments; `keep_alive` false closes the connection after each answer.
class AcceptingServer {
 public:
  explicit AcceptingServer(bool keep_alive) {
    http_.set_keep_alive_max_count(keep_alive ? 100000 : 1);
    http_.Post("/payments", [this](const httplib::Request&, httplib::Response& res) {
      ++posts;
      res.status = 202;
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    listener_ = HttplibListener::Start(http_);
  }
  ~AcceptingServer() { listener_->Stop(); }
  int port() const { return port_; }
  std::atomic<int> posts{0};

 private:
  httplib::Server http_;
  int port_ = 0;
  std::unique_ptr<HttplibListener> listener_;
};

LoadOptions Options(int port) {
  LoadOptions o;
  o.port = port;
  o.duration_ms = 2000;
  o.max_vus = 4;
  o.timeout_ms = 10'000;  // far above what the server takes: a loaded machine cannot fail it
  return o;
}

TEST(LoadEngineTest, EachVuKeepsOneConnection) {
  AcceptingServer server(/*keep_alive=*/true);
  auto engine = LoadEngine::Create(Options(server.port()));
  ASSERT_TRUE(engine.ok()) << engine.status();
  const LoadTotals totals = (*engine)->Run(SteadyNanos());
  EXPECT_GE(totals.requests, 4);
  EXPECT_EQ(totals.ok, totals.requests);
  EXPECT_EQ(totals.requests, server.posts.load());
  EXPECT_EQ(totals.ok_latencies_ns.size(), static_cast<size_t>(totals.ok));
  // VU 2 starts at 2/3 s, VU 3 at 4/3 s; VU 4 would start at the very end.
  const std::vector<SecondStats> seconds = (*engine)->Seconds();
  ASSERT_GE(seconds.size(), 2u);
  EXPECT_EQ(seconds.back().vus, 3);
  EXPECT_EQ(totals.connections_opened, 3);  // one per VU
  EXPECT_EQ(seconds[0].t_s, 1);
  EXPECT_LE(seconds[0].vus, 2);
  int64_t sum = 0;
  for (const SecondStats& s : seconds) sum += s.requests;
  EXPECT_EQ(sum, totals.requests);
}

TEST(LoadEngineTest, ReconnectsWhenTheServerClosesAfterEachAnswer) {
  AcceptingServer server(/*keep_alive=*/false);
  auto engine = LoadEngine::Create(Options(server.port()));
  ASSERT_TRUE(engine.ok()) << engine.status();
  const LoadTotals totals = (*engine)->Run(SteadyNanos());
  EXPECT_GE(totals.requests, 4);
  EXPECT_EQ(totals.ok, totals.requests);
  EXPECT_EQ(totals.connections_opened, totals.requests);
}

TEST(LoadEngineTest, RefusedConnectionsAreFailures) {
  // A bound socket that does not listen: connecting to its port is refused.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto engine = LoadEngine::Create(Options(ntohs(addr.sin_port)));
  ASSERT_TRUE(engine.ok()) << engine.status();
  const LoadTotals totals = (*engine)->Run(SteadyNanos());
  close(fd);
  EXPECT_GE(totals.requests, 4);
  EXPECT_EQ(totals.ok, 0);
  EXPECT_EQ(totals.errors, totals.requests);
  EXPECT_TRUE(totals.ok_latencies_ns.empty());
}

TEST(LoadEngineTest, LogsEveryRequestWithItsIdStatusAndLatency) {
  AcceptingServer server(/*keep_alive=*/true);
  LoadOptions o = Options(server.port());
  o.log_requests = true;
  auto engine = LoadEngine::Create(o);
  ASSERT_TRUE(engine.ok()) << engine.status();
  const LoadTotals totals = (*engine)->Run(SteadyNanos());
  ASSERT_EQ(totals.requests_log.size(), static_cast<size_t>(totals.requests));
  std::set<std::string> ids;
  for (const RequestRecord& r : totals.requests_log) {
    EXPECT_EQ(r.status, 202);
    EXPECT_GT(r.latency_us, 0);
    EXPECT_GE(r.start_us, 0);
    const std::string id(r.id, sizeof(r.id));
    EXPECT_EQ(id[14], '4') << id;  // a UUID v4
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), totals.requests_log.size());
}

TEST(LoadEngineTest, LogsRefusedRequestsAsUnanswered) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  LoadOptions o = Options(ntohs(addr.sin_port));
  o.log_requests = true;
  auto engine = LoadEngine::Create(o);
  ASSERT_TRUE(engine.ok()) << engine.status();
  const LoadTotals totals = (*engine)->Run(SteadyNanos());
  close(fd);
  ASSERT_FALSE(totals.requests_log.empty());
  for (const RequestRecord& r : totals.requests_log) {
    EXPECT_EQ(r.status, RequestRecord::kNoAnswer);
  }
}

TEST(LoadEngineTest, RejectsNonsenseOptions) {
  LoadOptions o = Options(1);
  o.max_vus = 0;
  EXPECT_FALSE(LoadEngine::Create(o).ok());
}

}  // namespace
}  // namespace rinha::contest
