// The attack engine against a real server on port 0 (BoundedHttplibServer with short deadlines):
// each attack reaches the server as intended and the engine counts what came back. Waits are
// "until the server has seen enough"; nothing is timed.
#include "contest/hostile/hostile_engine.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/bounded_httplib_server.h"
#include "common/httplib_listener.h"
#include "common/uuid.h"
#include "gtest/gtest.h"
#include "tests/testing/hang_watchdog.h"
#include "tests/testing/httplib_tsan_suppression.h"
#include "tests/testing/wait.h"

namespace rinha::contest {
namespace {

using ::rinha::testing::HangWatchdog;
using ::rinha::testing::WaitUntil;

class HostileEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BoundedHttplibLimits limits;
    limits.threads = 8;
    limits.request_timeout = std::chrono::milliseconds(30);
    limits.linger = std::chrono::milliseconds(30);
    server_ = std::make_unique<BoundedHttplibServer>(limits);
    server_->set_payload_max_length(4096);
    server_->Post("/payments", [this](const httplib::Request& req, httplib::Response& res) {
      handled_.fetch_add(1);
      if (hold_.load()) {  // a payment never answered (until the test ends)
        std::unique_lock<std::mutex> lock(hold_mu_);
        hold_cv_.wait(lock, [this] { return !hold_.load(); });
      }
      res.status = req.body.find(R"("amount":20.05)") != std::string::npos ? 202 : 422;
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    listener_ = HttplibListener::Start(*server_);
  }
  void TearDown() override {
    Release();
    if (thread_.joinable()) StopAttack();
    listener_->Stop();
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(hold_mu_);
      hold_.store(false);
    }
    hold_cv_.notify_all();
  }

  void StartAttack(const std::string& text) {
    HostileOptions options;
    options.port = port_;
    options.seed = 7;
    absl::StatusOr<AttackSpec> spec = ParseAttack(text);
    ASSERT_TRUE(spec.ok()) << spec.status();
    options.attacks.push_back(*spec);
    auto engine = HostileEngine::Create(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    thread_ = std::thread([this] { engine_->Run(0); });
  }
  AttackStats StopAttack() {
    engine_->Stop();
    thread_.join();
    return engine_->Stats().at(0);
  }

  HangWatchdog watchdog_{std::chrono::seconds(120)};
  std::unique_ptr<BoundedHttplibServer> server_;
  std::unique_ptr<HttplibListener> listener_;
  std::atomic<int> handled_{0};
  std::atomic<bool> hold_{false};
  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  int port_ = 0;
  std::unique_ptr<HostileEngine> engine_;
  std::thread thread_;
};

TEST_F(HostileEngineTest, HalfOpenConnectionsAreCutOffByTheServerAndOpenedAgain) {
  StartAttack("half-open:conns=3,reconnect_ms=0");
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().request_timeouts >= 9; }));
  const AttackStats stats = StopAttack();
  EXPECT_GE(stats.opened, 9);
  EXPECT_GE(stats.server_closed + stats.server_reset, 6);
  EXPECT_GE(stats.responses.count(400), 1u);  // the server's answer to a head it gave up on
  EXPECT_GT(stats.lifetime_max_ms, 0);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HostileEngineTest, SlowHeadDripsUntilTheServerGivesUp) {
  StartAttack("slow-head:conns=2,interval_ms=2,reconnect_ms=0");
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().request_timeouts >= 4; }));
  const AttackStats stats = StopAttack();
  EXPECT_GT(stats.bytes_sent, 4 * static_cast<int64_t>(HeadPrefix("127.0.0.1:1").size()));
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HostileEngineTest, IdleConnectionsAreClosedByTheServer) {
  StartAttack("idle:conns=2,reconnect_ms=0");
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().request_timeouts >= 4; }));
  const AttackStats stats = StopAttack();
  EXPECT_GE(stats.server_closed + stats.server_reset, 2);
  EXPECT_TRUE(stats.responses.empty());
}

TEST_F(HostileEngineTest, InvalidRequestsAreSentAtTheirRateAndAnswered4xx) {
  StartAttack("invalid:conns=2,rate=500");
  ASSERT_TRUE(WaitUntil([&] { return handled_.load() >= 20; }));
  const AttackStats stats = StopAttack();
  EXPECT_GE(stats.requests, 40);
  int64_t answered = 0;
  for (const auto& [status, count] : stats.responses) {
    EXPECT_GE(status, 400) << status;
    EXPECT_LT(status, 600) << status;
    answered += count;
  }
  EXPECT_GE(answered, 20);
  EXPECT_GE(stats.responses.count(404), 1u);
}

TEST_F(HostileEngineTest, BigBodiesAreRefusedWithoutReachingTheHandler) {
  StartAttack("big-body:conns=1,size=100000,reconnect_ms=0");
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().oversized >= 3; }));
  const AttackStats stats = StopAttack();
  EXPECT_GE(stats.opened, 3);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HostileEngineTest, BigHeadsAreRefusedWithoutReachingTheHandler) {
  StartAttack("big-head:conns=1,size=70000,reconnect_ms=0");
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().oversized >= 3; }));
  StopAttack();
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HostileEngineTest, ResetConnectionsComeAtTheirRateAndLeaveTheServerServing) {
  StartAttack("reset:rate=400");
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().served >= 40; }));
  const AttackStats stats = StopAttack();
  EXPECT_GE(stats.resets_sent, 40);
  ASSERT_TRUE(WaitUntil([&] { return server_->stats().busy == 0; }));
  httplib::Client client("127.0.0.1", port_);
  auto res = client.Post("/payments", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 422);
}

TEST_F(HostileEngineTest, ASurgeSendsValidPaymentsLikeK6UsersAndLogsEach) {
  StartAttack("surge:conns=3,interval_ms=5");
  ASSERT_TRUE(WaitUntil([&] { return handled_.load() >= 30; }));
  const AttackStats stats = StopAttack();
  const std::vector<SurgeRecord>& log = engine_->surge_log();
  EXPECT_EQ(static_cast<int64_t>(log.size()), stats.requests);
  EXPECT_GE(stats.ok, 30);
  std::set<std::string> ids;
  for (const SurgeRecord& r : log) {
    EXPECT_EQ(r.status, 202);
    EXPECT_GT(r.latency_us, 0);
    const std::string id(r.id, sizeof(r.id));
    EXPECT_TRUE(IsCanonicalUuid(id)) << id;
    EXPECT_EQ(id[14], '4') << id;  // version 4
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), log.size()) << "every payment has its own correlationId";
  EXPECT_GE(stats.ok_p99_ms, stats.ok_p50_ms);
  EXPECT_EQ(stats.opened, 3) << "keep-alive: one connection per user";
}

TEST_F(HostileEngineTest, ASurgePaymentWithoutAnAnswerIsLoggedAsTimedOut) {
  hold_.store(true);
  StartAttack("surge:conns=1,timeout_ms=20");
  ASSERT_TRUE(WaitUntil([&] { return handled_.load() >= 1; }));
  const AttackStats stats = StopAttack();
  Release();
  ASSERT_GE(engine_->surge_log().size(), 1u);
  EXPECT_EQ(engine_->surge_log()[0].status, -1);
  EXPECT_EQ(engine_->surge_log()[0].latency_us, 0);
  EXPECT_GE(stats.timeouts, 1);
  EXPECT_EQ(stats.ok, 0);
}

}  // namespace
}  // namespace rinha::contest
