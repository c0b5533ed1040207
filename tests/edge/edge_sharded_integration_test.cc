// Router shards as real processes: two routers, each with its own ledger (SQLite) and journal,
// two edges that both list them, and the two payment-processor emulators. Every payment is
// settled once, by its shard, whichever edge took it; the summary adds up both ledgers (503, not
// a wrong sum, while one is down); a shard killed and restarted recovers its own journal; the
// shards together keep to the processors' one health call per 5 s.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json.h"
#include "common/shard.h"
#include "gtest/gtest.h"
#include "payments.grpc.pb.h"
#include "tests/edge/real_processes.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace rinha::edge {
namespace {

using ::rinha::edge::testing::Processor;
using ::rinha::edge::testing::ReadTotals;
using ::rinha::edge::testing::Totals;
using ::rinha::testing::IntFieldAfter;
using ::rinha::testing::Subprocess;
using ::rinha::testing::WaitUntil;

constexpr int kShards = 2;
constexpr int kEdges = 2;

class ShardedIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented (see fake_backends.h)";
#endif
    dir_ = ::rinha::testing::MakeTempDir("edge_shards_it");
    default_ = Processor::Start("0.07");
    fallback_ = Processor::Start("0.10");
    ASSERT_NE(default_, nullptr);
    ASSERT_NE(fallback_, nullptr);
    for (int i = 0; i < kShards; ++i) {
      StartLedger(i);
      StartRouter(i);
    }
    for (int e = 0; e < kEdges; ++e) StartEdge(e);
  }

  void TearDown() override {
    for (auto& client : clients_) client.reset();
    for (auto& edge : edges_) {
      if (edge) (void)edge->Terminate(absl::Seconds(10));
    }
    for (auto& router : routers_) {
      if (router) (void)router->Terminate(absl::Seconds(10));
    }
    for (auto& ledger : ledgers_) {
      if (ledger) (void)ledger->Terminate(absl::Seconds(10));
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::string RouterSocket(int i) const { return Path(absl::StrCat("router-", i, ".sock")); }
  std::string LedgerSocket(int i) const { return Path(absl::StrCat("ledger-", i, ".sock")); }

  void StartLedger(int i) {
    Subprocess::Options o;
    o.args = {"--listen=", absl::StrCat("--unix_socket=", LedgerSocket(i)),
              absl::StrCat("--db_path=", Path(absl::StrCat("ledger-", i, ".db"))),
              "--metrics_listen=127.0.0.1:0"};
    auto ledger = Subprocess::Spawn(LEDGER_BINARY, o);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledgers_[i] = *std::move(ledger);
    ASSERT_TRUE(ledgers_[i]->ReadLineContaining("ledger listening").ok());
  }

  // Same journal and sockets on every start: a restarted shard finds what its last run left.
  void StartRouter(int i) {
    Subprocess::Options o;
    o.args = {"--listen=",
              absl::StrCat("--unix_socket=", RouterSocket(i)),
              absl::StrCat("--ledger=unix:", LedgerSocket(i)),
              absl::StrCat("--processor_default_url=", default_->url()),
              absl::StrCat("--processor_fallback_url=", fallback_->url()),
              absl::StrCat("--journal_dir=", Path(absl::StrCat("router-", i, "-journal"))),
              "--metrics_listen=127.0.0.1:0",
              "--ambiguity_settle_ms=2000",
              absl::StrCat("--health_slot=", i),
              absl::StrCat("--health_slots=", kShards)};
    auto router = Subprocess::Spawn(ROUTER_BINARY, o);
    ASSERT_TRUE(router.ok()) << router.status();
    routers_[i] = *std::move(router);
    ASSERT_TRUE(routers_[i]->ReadLineContaining("router listening").ok());
  }

  void StartEdge(int e) {
    std::string routers, ledgers;
    for (int i = 0; i < kShards; ++i) {
      absl::StrAppend(&routers, i > 0 ? "," : "", "unix:", RouterSocket(i));
      absl::StrAppend(&ledgers, i > 0 ? "," : "", "unix:", LedgerSocket(i));
    }
    Subprocess::Options o;
    o.args = {"--listen=127.0.0.1:0", absl::StrCat("--router=", routers),
              absl::StrCat("--ledger=", ledgers), "--threads=8",
              absl::StrCat("--journal_dir=", Path(absl::StrCat("edge-", e, "-journal")))};
    auto edge = Subprocess::Spawn(EDGE_BINARY, o);
    ASSERT_TRUE(edge.ok()) << edge.status();
    edges_[e] = *std::move(edge);
    auto line = edges_[e]->ReadLineContaining("edge listening");
    ASSERT_TRUE(line.ok()) << line.status();
    ports_[e] = *IntFieldAfter(*line, "port=");
    clients_[e] = std::make_unique<httplib::Client>("127.0.0.1", ports_[e]);
    clients_[e]->set_keep_alive(true);
    clients_[e]->set_tcp_nodelay(true);
  }

  std::string Id(int i) const { return absl::StrFormat("%08x-0000-4000-8000-%012x", getpid(), i); }

  // Payments [from, to) through edge `e`.
  void Post(int e, int from, int to) {
    httplib::Client client("127.0.0.1", ports_[e]);
    client.set_tcp_nodelay(true);
    for (int i = from; i < to; ++i) {
      auto r = client.Post("/payments",
                           absl::StrFormat(R"({"correlationId":"%s","amount":20.05})", Id(i)),
                           "application/json");
      ASSERT_TRUE(r) << i;
      ASSERT_EQ(r->status, 202) << i << " " << r->body;
    }
  }

  // GET /payments-summary through edge `e`: status and {default, fallback}.
  struct Summary {
    int code = -1;
    Totals d, f;
  };
  Summary OurSummary(int e = 0) {
    Summary out;
    auto r = clients_[e]->Get("/payments-summary");
    if (!r) return out;
    out.code = r->status;
    if (r->status != 200) return out;
    (void)ParseJsonObject(r->body, [&](std::string_view key, const JsonValue& v) {
      if (key == "default") out.d = ReadTotals(v.raw);
      if (key == "fallback") out.f = ReadTotals(v.raw);
      return absl::OkStatus();
    });
    return out;
  }

  rinha::v1::RouterStatsResponse RouterStats(int i) {
    auto stub = rinha::v1::Router::NewStub(grpc::CreateChannel(
        absl::StrCat("unix:", RouterSocket(i)), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    rinha::v1::RouterStatsResponse stats;
    (void)stub->Stats(&context, rinha::v1::RouterStatsRequest(), &stats);
    return stats;
  }

  // The ids one shard's ledger holds (Ledger/List).
  std::set<std::string> LedgerIds(int i) {
    auto stub = rinha::v1::Ledger::NewStub(grpc::CreateChannel(
        absl::StrCat("unix:", LedgerSocket(i)), grpc::InsecureChannelCredentials()));
    std::set<std::string> ids;
    std::string after;
    for (;;) {
      rinha::v1::ListRequest request;
      request.set_after_correlation_id(after);
      rinha::v1::ListResponse page;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      if (!stub->List(&context, request, &page).ok()) return {};
      for (const auto& s : page.settlements()) ids.insert(s.correlation_id());
      if (!page.more() || page.settlements_size() == 0) return ids;
      after = page.settlements(page.settlements_size() - 1).correlation_id();
    }
  }

  // Until our summary (through every edge) counts `n`; then: it equals the processors', each id
  // is held by exactly one processor, and each is recorded by its own shard's ledger only.
  void ExpectAllSettledOnce(int n) {
    ASSERT_TRUE(WaitUntil(
        [&] {
          const Summary s = OurSummary();
          return s.code == 200 && s.d.requests + s.f.requests == n;
        },
        absl::Seconds(60), absl::Milliseconds(50)))
        << "ours: " << OurSummary().d.requests << "+" << OurSummary().f.requests;
    const Totals theirs_d = default_->Summary(), theirs_f = fallback_->Summary();
    for (int e = 0; e < kEdges; ++e) {
      const Summary ours = OurSummary(e);
      EXPECT_EQ(ours.d.requests, theirs_d.requests) << "edge " << e;
      EXPECT_EQ(ours.d.cents, theirs_d.cents) << "edge " << e;
      EXPECT_EQ(ours.f.requests, theirs_f.requests) << "edge " << e;
      EXPECT_EQ(ours.f.cents, theirs_f.cents) << "edge " << e;
    }
    EXPECT_EQ(theirs_d.requests + theirs_f.requests, n);
    std::array<std::set<std::string>, kShards> recorded;
    for (int i = 0; i < kShards; ++i) recorded[i] = LedgerIds(i);
    for (int k = 0; k < n; ++k) {
      const std::string id = Id(k);
      EXPECT_NE(default_->Holds(id), fallback_->Holds(id)) << id;
      const int shard = ShardOf(id, kShards);
      EXPECT_EQ(recorded[shard].count(id), 1u) << id << " not in the ledger of shard " << shard;
      EXPECT_EQ(recorded[1 - shard].count(id), 0u) << id << " in the other shard's ledger";
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<Processor> default_;
  std::unique_ptr<Processor> fallback_;
  std::array<std::unique_ptr<Subprocess>, kShards> ledgers_;
  std::array<std::unique_ptr<Subprocess>, kShards> routers_;
  std::array<std::unique_ptr<Subprocess>, kEdges> edges_;
  std::array<int, kEdges> ports_{};
  std::array<std::unique_ptr<httplib::Client>, kEdges> clients_;
};

TEST_F(ShardedIntegrationTest, EveryPaymentIsSettledOnceByItsShardWhicheverEdgeTookIt) {
  auto r = clients_[0]->Post("/purge-payments", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // Ids 100..199 go through both edges (a client retrying elsewhere): one shard each, paid once.
  std::thread other([&] { Post(1, 100, 300); });
  Post(0, 0, 200);
  other.join();
  ExpectAllSettledOnce(300);
  EXPECT_GT(LedgerIds(0).size(), 100u);  // both shards did their share (about 150 each)
  EXPECT_GT(LedgerIds(1).size(), 100u);
}

TEST_F(ShardedIntegrationTest, OneShardsRouterKilledUnderLoadRecoversItsOwnJournal) {
  default_->SetDelay(500);  // payments in flight at the processor when the router dies
  std::thread poster([&] { Post(1, 0, 300); });
  ASSERT_TRUE(WaitUntil([&] { return RouterStats(1).in_flight() >= 20; }, absl::Seconds(30),
                        absl::Milliseconds(5)));
  routers_[1]->Kill();  // SIGKILL
  poster.join();
  // Shard 0 keeps settling meanwhile: its share is complete before shard 1 is back.
  int on_0 = 0;
  for (int k = 0; k < 300; ++k) on_0 += ShardOf(Id(k), kShards) == 0;
  ASSERT_TRUE(WaitUntil([&] { return static_cast<int>(LedgerIds(0).size()) == on_0; },
                        absl::Seconds(30), absl::Milliseconds(50)));
  StartRouter(1);
  ExpectAllSettledOnce(300);
  EXPECT_GT(RouterStats(1).recovered_total(), 0);  // its own journal, taken over
  EXPECT_EQ(RouterStats(0).recovered_total(), 0);
}

TEST_F(ShardedIntegrationTest, TheSummaryFailsWhileOneShardsLedgerIsDownThenIsExact) {
  Post(0, 0, 100);
  ExpectAllSettledOnce(100);
  ledgers_[1]->Kill();
  Post(1, 100, 200);  // taken meanwhile: shard 1's router holds its settlements for its ledger
  // Half the books would be a wrong answer: none (503) is what an audit must get.
  const Summary down = OurSummary();
  EXPECT_EQ(down.code, 503);
  StartLedger(1);  // the same database file
  ExpectAllSettledOnce(200);
}

// Two shards, each polling in its own slots: over three slots every processor got calls from
// both, never two within one of its 5 s windows, none queued or refused.
TEST_F(ShardedIntegrationTest, ShardsTogetherKeepToOneHealthCallPerWindow) {
  ASSERT_TRUE(WaitUntil(
      [&] {
        return default_->HealthCallsSoFar().calls >= 3 && fallback_->HealthCallsSoFar().calls >= 3;
      },
      absl::Seconds(25), absl::Milliseconds(100)));
  for (Processor* p : {default_.get(), fallback_.get()}) {
    const Processor::HealthCalls calls = p->HealthCallsSoFar();
    EXPECT_EQ(calls.max_per_window, 1) << p->url();
    EXPECT_EQ(calls.queued, 0) << p->url();
    EXPECT_EQ(calls.rejected, 0) << p->url();
  }
}

}  // namespace
}  // namespace rinha::edge
