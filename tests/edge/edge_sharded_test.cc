// The edge with two router shards, in-process on port 0, against two fake routers and two fake
// ledgers: each payment reaches its shard only, the summary adds up both ledgers (and fails when
// one cannot answer), a purge reaches every router and ledger, a status call asks the id's shard,
// and each shard journals apart.
#include <httplib.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/shard.h"
#include "edge/edge_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/edge/fake_backends.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace rinha::edge {
namespace {

using ::rinha::edge::testing::FakeLedger;
using ::rinha::edge::testing::FakeRouter;
using ::rinha::edge::testing::Serve;
using ::rinha::edge::testing::StopNow;
using ::rinha::testing::WaitUntil;
using ::testing::HasSubstr;

constexpr int kShards = 2;

std::string Id(int n) { return absl::StrFormat("00000000-0000-4000-8000-%012x", n); }
std::string Body(int n) {
  return absl::StrFormat(R"({"correlationId":"%s","amount":19.90})", Id(n));
}

// The first id at or after `from` that hashes to `shard`.
int IdOfShard(int shard, int from = 0) {
  for (int n = from;; ++n) {
    if (ShardOf(Id(n), kShards) == shard) return n;
  }
}

class ShardedEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RINHA_EDGE_SKIP_GRPC_UNDER_TSAN();
    for (int i = 0; i < kShards; ++i) {
      router_servers_[i] = Serve(&routers_[i], "127.0.0.1:0", &router_ports_[i]);
      ledger_servers_[i] = Serve(&ledgers_[i], "127.0.0.1:0", &ledger_ports_[i]);
      ASSERT_GT(router_ports_[i], 0);
      ASSERT_GT(ledger_ports_[i], 0);
    }
    dir_ = ::rinha::testing::MakeTempDir("edge_sharded");
  }
  void TearDown() override {
    client_.reset();
    if (edge_ != nullptr) edge_->Shutdown(absl::Seconds(1));
    for (int i = 0; i < kShards; ++i) {
      StopNow(router_servers_[i]);
      StopNow(ledger_servers_[i]);
    }
    std::filesystem::remove_all(dir_);
  }

  EdgeServerOptions Options() const {
    EdgeServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    options.router_targets.clear();
    options.ledger_targets.clear();
    for (int i = 0; i < kShards; ++i) {
      options.router_targets.push_back(absl::StrCat("127.0.0.1:", router_ports_[i]));
      options.ledger_targets.push_back(absl::StrCat("127.0.0.1:", ledger_ports_[i]));
    }
    options.stream.journal_dir = (dir_ / "journal").string();
    options.stream.batch_window = absl::ZeroDuration();
    return options;
  }

  void StartEdge(const EdgeServerOptions& options) {
    auto edge = EdgeServer::Start(options, clock_);
    ASSERT_TRUE(edge.ok()) << edge.status();
    edge_ = *std::move(edge);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", edge_->port());
    client_->set_keep_alive(true);
    client_->set_tcp_nodelay(true);  // else Nagle and delayed ACKs cost ~40 ms per POST
  }

  static rinha::v1::SummaryResponse Summary(int64_t d_requests, int64_t d_cents, int64_t f_requests,
                                            int64_t f_cents) {
    rinha::v1::SummaryResponse s;
    s.mutable_default_totals()->set_total_requests(d_requests);
    s.mutable_default_totals()->set_total_amount_cents(d_cents);
    s.mutable_fallback_totals()->set_total_requests(f_requests);
    s.mutable_fallback_totals()->set_total_amount_cents(f_cents);
    return s;
  }

  rinha::testing::FakeClock clock_;
  std::array<FakeRouter, kShards> routers_;
  std::array<FakeLedger, kShards> ledgers_;
  std::array<std::unique_ptr<grpc::Server>, kShards> router_servers_;
  std::array<std::unique_ptr<grpc::Server>, kShards> ledger_servers_;
  std::array<int, kShards> router_ports_{};
  std::array<int, kShards> ledger_ports_{};
  std::filesystem::path dir_;
  std::unique_ptr<EdgeServer> edge_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ShardedEdgeTest, EachPaymentReachesTheRouterOfItsShardOnly) {
  StartEdge(Options());
  ASSERT_EQ(edge_->shards(), kShards);
  constexpr int kPayments = 64;
  for (int n = 0; n < kPayments; ++n) {
    auto res = client_->Post("/payments", Body(n), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 202);
  }
  ASSERT_TRUE(WaitUntil([&] {
    return routers_[0].distinct_ids().size() + routers_[1].distinct_ids().size() == kPayments;
  }));
  for (int i = 0; i < kShards; ++i) {
    for (const std::string& id : routers_[i].distinct_ids()) {
      EXPECT_EQ(ShardOf(id, kShards), i) << id << " reached router " << i;
    }
    // Both shards get a share (32 each expected; 64 draws cannot all miss one by chance here:
    // the ids are fixed).
    EXPECT_GT(routers_[i].distinct_ids().size(), 0u);
  }
}

TEST_F(ShardedEdgeTest, SummaryIsTheSumOfEveryShardsLedger) {
  ledgers_[0].set_summary(Summary(3, 5970, 1, 1990));
  ledgers_[1].set_summary(Summary(2, 3980, 0, 0));
  StartEdge(Options());
  auto res =
      client_->Get("/payments-summary?from=2025-07-15T12:34:56.000Z&to=2025-07-15T12:35:56.000Z");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"default":{"totalRequests":5,"totalAmount":99.50},)"
                       R"("fallback":{"totalRequests":1,"totalAmount":19.90}})");
  // Each ledger was asked for the same window.
  for (FakeLedger& ledger : ledgers_) {
    EXPECT_EQ(ledger.last_request().from_ms(), 1752582896000);
    EXPECT_EQ(ledger.last_request().to_ms(), 1752582956000);
  }
}

TEST_F(ShardedEdgeTest, SummaryIs503NamingTheShardWhenOneLedgerCannotAnswer) {
  ledgers_[0].set_summary(Summary(3, 5970, 0, 0));
  EdgeServerOptions options = Options();
  options.summary_deadline = absl::Milliseconds(300);
  StartEdge(options);
  StopNow(ledger_servers_[1]);  // its share would be missing: no answer rather than a wrong one
  auto res = client_->Get("/payments-summary");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_THAT(res->body, HasSubstr("ledger 1: "));
}

TEST_F(ShardedEdgeTest, PurgeReachesEveryLedgerAndEveryRouter) {
  StartEdge(Options());
  auto res = client_->Post("/purge-payments", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  for (int i = 0; i < kShards; ++i) {
    EXPECT_EQ(ledgers_[i].purges.load(), 1) << "ledger " << i;
    EXPECT_EQ(routers_[i].purges.load(), 1) << "router " << i;
  }
}

TEST_F(ShardedEdgeTest, PurgeIs503NamingTheRouterThatCannotBeReached) {
  EdgeServerOptions options = Options();
  options.purge_deadline = absl::Milliseconds(300);
  StartEdge(options);
  StopNow(router_servers_[1]);
  auto res = client_->Post("/purge-payments", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_THAT(res->body, HasSubstr("router 1: "));
  EXPECT_EQ(routers_[0].purges.load(), 1);
}

TEST_F(ShardedEdgeTest, StatusAsksTheRouterAndLedgerOfTheIdsShardOnly) {
  const std::string id = Id(IdOfShard(1));
  rinha::v1::PaymentStatus recorded;
  recorded.set_state(rinha::v1::PaymentStatus::STATE_SETTLED);
  recorded.set_processor(rinha::v1::PROCESSOR_DEFAULT);
  recorded.set_amount_cents(1990);
  recorded.set_requested_at_ms(1752582896000);
  routers_[1].set_status(id, recorded);
  ledgers_[1].set_status(id, recorded);
  StartEdge(Options());
  auto res = client_->Get(absl::StrCat("/payments/", id).c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr(R"("status":"settled")"));
  EXPECT_EQ(routers_[1].status_calls(), 1);
  EXPECT_EQ(ledgers_[1].gets.load(), 1);
  EXPECT_EQ(routers_[0].status_calls(), 0);
  EXPECT_EQ(ledgers_[0].gets.load(), 0);
}

TEST_F(ShardedEdgeTest, EachShardJournalsApartAndAnotherShardCountCannotReadThem) {
  // Shard 1's router is away: its payment stays in shard 1's journal; shard 0's is delivered.
  StopNow(router_servers_[1]);
  StartEdge(Options());
  const int on_0 = IdOfShard(0), on_1 = IdOfShard(1);
  for (const int n : {on_0, on_1}) {
    auto res = client_->Post("/payments", Body(n), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 202);
  }
  ASSERT_TRUE(WaitUntil([&] { return routers_[0].received() == 1; }));
  // The router has it; the edge lets it go once the acknowledgement is back.
  ASSERT_TRUE(WaitUntil([&] { return edge_->router_stream(0).stats().stream.pending == 0; }));
  EXPECT_EQ(edge_->router_stream(1).stats().stream.pending, 1);
  EXPECT_EQ(edge_->router_stream(1).stats().journal.live, 1);
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "journal" / "shard-0"));
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "journal" / "shard-1"));
  client_.reset();
  edge_->Shutdown(absl::ZeroDuration());
  edge_.reset();

  // The journal holds shard 1's payment: one router, or three, would send it elsewhere.
  EdgeServerOptions one = Options();
  one.router_targets.resize(1);
  one.ledger_targets.resize(1);
  auto refused = EdgeServer::Start(one, clock_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();

  // With its own shards again, the payment reaches shard 1's router once that is back.
  router_servers_[1] = Serve(&routers_[1], absl::StrCat("127.0.0.1:", router_ports_[1]));
  ASSERT_NE(router_servers_[1], nullptr);
  StartEdge(Options());
  ASSERT_TRUE(WaitUntil([&] { return routers_[1].distinct_ids().count(Id(on_1)) == 1; }));
  EXPECT_EQ(routers_[0].distinct_ids(), std::set<std::string>{Id(on_0)});
}

TEST(ShardedEdgeStartTest, RefusesAListOfLedgersOfAnotherLength) {
  RINHA_EDGE_SKIP_GRPC_UNDER_TSAN();
  rinha::testing::FakeClock clock;
  EdgeServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.router_targets = {"127.0.0.1:1", "127.0.0.1:2"};
  options.ledger_targets = {"127.0.0.1:3"};
  auto edge = EdgeServer::Start(options, clock);
  ASSERT_FALSE(edge.ok());
  EXPECT_EQ(edge.status().code(), absl::StatusCode::kInvalidArgument);
  options.router_targets.clear();
  options.ledger_targets.clear();
  EXPECT_FALSE(EdgeServer::Start(options, clock).ok());
}

}  // namespace
}  // namespace rinha::edge
