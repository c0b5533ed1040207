// The whole path as real processes on port 0 / private unix sockets: edge -> router -> two
// payment-processor emulators, router -> ledger, edge -> ledger for the summary.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/json.h"
#include "common/money.h"
#include "gmock/gmock.h"
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

class EdgeIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented (see fake_backends.h)";
#endif
    dir_ = ::rinha::testing::MakeTempDir("edge_it");
    default_ = Processor::Start("0.07");
    fallback_ = Processor::Start("0.10");
    ASSERT_NE(default_, nullptr);
    ASSERT_NE(fallback_, nullptr);

    StartLedger();
    StartRouter();
    StartEdge();
  }

  // Same journal directory on every start: a restart finds what the last run left.
  void StartEdge() {
    Subprocess::Options o;
    o.args = {"--listen=127.0.0.1:0", absl::StrCat("--router=unix:", Path("router.sock")),
              absl::StrCat("--ledger=unix:", Path("ledger.sock")), "--threads=8",
              absl::StrCat("--journal_dir=", Path("edge-journal"))};
    auto edge = Subprocess::Spawn(EDGE_BINARY, o);
    ASSERT_TRUE(edge.ok()) << edge.status();
    edge_ = *std::move(edge);
    auto line = edge_->ReadLineContaining("edge listening");
    ASSERT_TRUE(line.ok()) << line.status();
    edge_port_ = *IntFieldAfter(*line, "port=");
    client_ = std::make_unique<httplib::Client>("127.0.0.1", edge_port_);
    client_->set_keep_alive(true);
    client_->set_tcp_nodelay(true);  // else Nagle and delayed ACKs cost ~40 ms per POST
  }

  void StartLedger() {
    Subprocess::Options o;
    o.args = {"--listen=", absl::StrCat("--unix_socket=", Path("ledger.sock")),
              absl::StrCat("--db_path=", Path("ledger.db")), "--metrics_listen=127.0.0.1:0"};
    auto ledger = Subprocess::Spawn(LEDGER_BINARY, o);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
    ASSERT_TRUE(ledger_->ReadLineContaining("ledger listening").ok());
  }

  rinha::v1::RouterStatsResponse RouterStats() {
    auto stub = rinha::v1::Router::NewStub(grpc::CreateChannel(
        absl::StrCat("unix:", Path("router.sock")), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    rinha::v1::RouterStatsResponse stats;
    (void)stub->Stats(&context, rinha::v1::RouterStatsRequest(), &stats);
    return stats;
  }

  // Waits until our summary counts `n` payments, then checks it against the processors.
  void ExpectAllSettledOnce(int n) {
    ASSERT_TRUE(
        WaitUntil([&] { return SummaryCounts(n); }, absl::Seconds(60), absl::Milliseconds(50)))
        << "ours: " << OurSummary().first.requests << "+" << OurSummary().second.requests
        << ", processors: " << default_->Summary().requests << "+" << fallback_->Summary().requests;
    ExpectConsistent(n);
  }

  void TearDown() override {
    client_.reset();  // the edge's HTTP stop waits for open keep-alive connections
    if (edge_) (void)edge_->Terminate(absl::Seconds(10));
    if (router_) (void)router_->Terminate(absl::Seconds(10));
    if (ledger_) (void)ledger_->Terminate(absl::Seconds(10));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Path(const char* name) const { return (dir_ / name).string(); }

  void StartRouter() {
    Subprocess::Options o;
    o.args = {"--listen=", absl::StrCat("--unix_socket=", Path("router.sock")),
              absl::StrCat("--ledger=unix:", Path("ledger.sock")),
              absl::StrCat("--processor_default_url=", default_->url()),
              absl::StrCat("--processor_fallback_url=", fallback_->url()),
              absl::StrCat("--journal_dir=", Path("router-journal")),
              "--metrics_listen=127.0.0.1:0",
              // The emulators' delays here are at most 800 ms: a 2 s insert window is ample.
              "--ambiguity_settle_ms=2000"};
    auto router = Subprocess::Spawn(ROUTER_BINARY, o);
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = *std::move(router);
    ASSERT_TRUE(router_->ReadLineContaining("router listening").ok());
  }

  std::string Id(int i) const { return absl::StrFormat("%08x-0000-4000-8000-%012x", getpid(), i); }

  // `client`: another connection for a second thread (httplib::Client is single-threaded).
  void Post(int from, int to, httplib::Client* client = nullptr) {
    if (client == nullptr) client = client_.get();
    for (int i = from; i < to; ++i) {
      auto r = client->Post("/payments",
                            absl::StrFormat(R"({"correlationId":"%s","amount":20.05})", Id(i)),
                            "application/json");
      ASSERT_TRUE(r) << i;
      ASSERT_EQ(r->status, 202) << i << " " << r->body;
    }
  }

  // GET /payments/{id}: the status code and the body's members (strings unquoted, numbers as
  // written).
  struct Status {
    int code = -1;
    std::map<std::string, std::string> members;
    std::string operator[](const std::string& key) const {
      auto it = members.find(key);
      return it == members.end() ? "" : it->second;
    }
  };
  Status PaymentStatus(const std::string& id) {
    Status out;
    auto r = client_->Get(absl::StrCat("/payments/", id));
    if (!r) return out;
    out.code = r->status;
    (void)ParseJsonObject(r->body, [&](std::string_view key, const JsonValue& v) {
      out.members[std::string(key)] = std::string(v.type == JsonType::kString ? v.string : v.raw);
      return absl::OkStatus();
    });
    return out;
  }
  // Waits until the payment's "status" is `want`.
  bool StatusBecomes(const std::string& id, const std::string& want,
                     absl::Duration timeout = absl::Seconds(30)) {
    return WaitUntil([&] { return PaymentStatus(id)["status"] == want; }, timeout,
                     absl::Milliseconds(5));
  }

  // Ours, from GET /payments-summary: {default, fallback}.
  std::pair<Totals, Totals> OurSummary() {
    std::pair<Totals, Totals> out;
    auto r = client_->Get("/payments-summary");
    if (!r || r->status != 200) return out;
    (void)ParseJsonObject(r->body, [&](std::string_view key, const JsonValue& v) {
      if (key == "default") out.first = ReadTotals(v.raw);
      if (key == "fallback") out.second = ReadTotals(v.raw);
      return absl::OkStatus();
    });
    return out;
  }

  bool SummaryCounts(int64_t n) {
    auto [d, f] = OurSummary();
    return d.requests >= 0 && f.requests >= 0 && d.requests + f.requests == n;
  }

  // Our summary equals the processors' admin summaries, and every id is held by exactly one.
  void ExpectConsistent(int n) {
    auto [ours_default, ours_fallback] = OurSummary();
    const Totals theirs_default = default_->Summary();
    const Totals theirs_fallback = fallback_->Summary();
    EXPECT_EQ(ours_default.requests, theirs_default.requests);
    EXPECT_EQ(ours_default.cents, theirs_default.cents);
    EXPECT_EQ(ours_fallback.requests, theirs_fallback.requests);
    EXPECT_EQ(ours_fallback.cents, theirs_fallback.cents);
    EXPECT_EQ(theirs_default.requests + theirs_fallback.requests, n);
    EXPECT_EQ(ours_default.cents + ours_fallback.cents, 2005LL * n);
    for (int i = 0; i < n; ++i) {
      EXPECT_NE(default_->Holds(Id(i)), fallback_->Holds(Id(i))) << Id(i);
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<Processor> default_;
  std::unique_ptr<Processor> fallback_;
  std::unique_ptr<Subprocess> ledger_;
  std::unique_ptr<Subprocess> router_;
  std::unique_ptr<Subprocess> edge_;
  int edge_port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(EdgeIntegrationTest, PostedPaymentsShowUpInTheSummary) {
  auto r = client_->Post("/purge-payments", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  Post(0, 200);
  ASSERT_TRUE(
      WaitUntil([&] { return SummaryCounts(200); }, absl::Seconds(30), absl::Milliseconds(50)));
  ExpectConsistent(200);
}

TEST_F(EdgeIntegrationTest, RouterKilledAndRestartedLosesNothingAndPaysNothingTwice) {
  Post(0, 100);
  ASSERT_TRUE(
      WaitUntil([&] { return SummaryCounts(100); }, absl::Seconds(30), absl::Milliseconds(50)));

  router_->Kill();  // SIGKILL
  // Accepted while the router is gone: the edge holds them.
  Post(100, 200);
  auto [d, f] = OurSummary();
  EXPECT_EQ(d.requests + f.requests, 100);

  StartRouter();  // same unix socket path
  ASSERT_TRUE(
      WaitUntil([&] { return SummaryCounts(200); }, absl::Seconds(30), absl::Milliseconds(50)));
  ExpectConsistent(200);
}

// kill -9 at any moment, restart: every payment answered 202 is settled exactly once (held by one
// processor, once, and recorded by the ledger). The journals of the edge and the router make
// this hold; see router/router_core.h (Recovery) and edge/router_stream.h.

TEST_F(EdgeIntegrationTest, RouterKilledWhileLoadIsFlowingLosesNothingAndPaysNothingTwice) {
  httplib::Client second("127.0.0.1", edge_port_);
  second.set_tcp_nodelay(true);
  std::thread poster([&] { Post(0, 300, &second); });
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto [d, f] = OurSummary();
        return d.requests + f.requests >= 50;
      },
      absl::Seconds(30), absl::Milliseconds(5)));
  router_->Kill();
  poster.join();
  StartRouter();
  ExpectAllSettledOnce(300);
}

TEST_F(EdgeIntegrationTest, RouterKilledWhileBothProcessorsFailLosesNothing) {
  default_->SetFailing(true);
  fallback_->SetFailing(true);
  Post(0, 200);
  // Every payment is the router's now, waiting for a processor.
  ASSERT_TRUE(WaitUntil([&] { return RouterStats().queued() == 200; }, absl::Seconds(30)));
  router_->Kill();
  StartRouter();
  default_->SetFailing(false);
  fallback_->SetFailing(false);
  ExpectAllSettledOnce(200);
  EXPECT_EQ(RouterStats().recovered_total(), 200);
}

TEST_F(EdgeIntegrationTest, RouterKilledAgainBeforeItsRecoveryEndsLosesNothing) {
  // Two crashes in a row: the second lands while the restarted router is still resolving what
  // the first left (both processors failing: nothing can settle yet). The journal still holds
  // every payment, so the third run takes them over again.
  default_->SetFailing(true);
  fallback_->SetFailing(true);
  Post(0, 150);
  ASSERT_TRUE(WaitUntil([&] { return RouterStats().queued() == 150; }, absl::Seconds(30)));
  router_->Kill();
  StartRouter();
  ASSERT_TRUE(WaitUntil([&] { return RouterStats().recovered_total() == 150; }, absl::Seconds(30)));
  router_->Kill();
  StartRouter();
  default_->SetFailing(false);
  fallback_->SetFailing(false);
  ExpectAllSettledOnce(150);
}

// GET /payments/{id} along a payment's way: held by the edge while the router is away, queued
// while both processors fail, in flight at a slow processor, then settled with what the
// processor holds; unknown ids are 404 and invalid ones 400.
TEST_F(EdgeIntegrationTest, StatusFollowsAPaymentFromTheEdgeToTheLedger) {
  EXPECT_EQ(PaymentStatus("not-a-uuid").code, 400);
  EXPECT_EQ(PaymentStatus(Id(999)).code, 404);

  Post(0, 1);
  ASSERT_TRUE(StatusBecomes(Id(0), "settled")) << PaymentStatus(Id(0))["status"];
  const Status settled = PaymentStatus(Id(0));
  EXPECT_EQ(settled.code, 200);
  EXPECT_EQ(settled["correlationId"], Id(0));
  EXPECT_EQ(settled["processor"], "default");
  EXPECT_TRUE(default_->Holds(Id(0)));
  EXPECT_EQ(settled["amount"], "20.05");
  EXPECT_THAT(settled["requestedAt"],
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z"));

  // Both processors fail: the router holds it, waiting.
  default_->SetFailing(true);
  fallback_->SetFailing(true);
  Post(1, 2);
  ASSERT_TRUE(StatusBecomes(Id(1), "queued")) << PaymentStatus(Id(1))["status"];
  EXPECT_EQ(PaymentStatus(Id(1))["amount"], "20.05");
  EXPECT_NE(PaymentStatus(Id(1))["pendingMs"], "");
  default_->SetFailing(false);
  fallback_->SetFailing(false);
  ASSERT_TRUE(StatusBecomes(Id(1), "settled"));

  // A slow default: the POST is in flight there for a while.
  default_->SetDelay(1000);
  Post(2, 3);
  ASSERT_TRUE(StatusBecomes(Id(2), "in_flight")) << PaymentStatus(Id(2))["status"];
  default_->SetDelay(0);
  ASSERT_TRUE(StatusBecomes(Id(2), "settled"));

  // The router is gone: only this edge has it.
  router_->Kill();
  Post(3, 4);
  const Status accepted = PaymentStatus(Id(3));
  EXPECT_EQ(accepted.code, 200);
  EXPECT_EQ(accepted["status"], "accepted");
  // Nobody can say where an id is that this edge does not hold: 503, not a wrong 404.
  EXPECT_EQ(PaymentStatus(Id(999)).code, 503);
  StartRouter();
  ASSERT_TRUE(StatusBecomes(Id(3), "settled"));
  ExpectAllSettledOnce(4);
}

TEST_F(EdgeIntegrationTest, RouterKilledWhilePaymentsAreInFlightAtASlowDefaultPaysEachOnce) {
  // Hundreds in flight: the dead router's POSTs are inserted after it died, and nobody told the
  // ledger. The restarted router finds them at the default processor by lookups.
  default_->SetDelay(800);
  Post(0, 200);
  ASSERT_TRUE(WaitUntil([&] { return RouterStats().in_flight() >= 100; }, absl::Seconds(30)));
  router_->Kill();
  StartRouter();
  ExpectAllSettledOnce(200);
}

TEST_F(EdgeIntegrationTest, RouterStoppedWithSigtermWhileDefaultIsSlowLosesNothing) {
  default_->SetDelay(500);
  Post(0, 150);
  ASSERT_TRUE(WaitUntil([&] { return RouterStats().in_flight() >= 50; }, absl::Seconds(30)));
  ASSERT_TRUE(router_->Terminate(absl::Seconds(20)).ok());
  StartRouter();
  ExpectAllSettledOnce(150);
}

TEST_F(EdgeIntegrationTest, EdgeKilledBeforeTheRouterAcknowledgedLosesNothing) {
  // The router is frozen: it receives nothing it can acknowledge; the edge holds every payment.
  ASSERT_EQ(kill(router_->pid(), SIGSTOP), 0);
  Post(0, 100);
  edge_->Kill();
  client_.reset();
  ASSERT_EQ(kill(router_->pid(), SIGCONT), 0);
  StartEdge();  // reads its journal back and sends again what the router had not acknowledged
  ExpectAllSettledOnce(100);
}

TEST_F(EdgeIntegrationTest, LedgerKilledUnderLoadLosesNothing) {
  httplib::Client second("127.0.0.1", edge_port_);
  second.set_tcp_nodelay(true);
  std::thread poster([&] { Post(0, 300, &second); });
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto [d, f] = OurSummary();
        return d.requests + f.requests >= 50;
      },
      absl::Seconds(30), absl::Milliseconds(5)));
  ledger_->Kill();
  poster.join();
  StartLedger();  // same database file
  ExpectAllSettledOnce(300);
}

}  // namespace
}  // namespace rinha::edge
