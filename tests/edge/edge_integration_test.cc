// The whole path as real processes on port 0 / private unix sockets: edge -> router -> two
// payment-processor emulators, router -> ledger, edge -> ledger for the summary.
#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/json.h"
#include "common/money.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace rinha::edge {
namespace {

using ::rinha::testing::IntFieldAfter;
using ::rinha::testing::Subprocess;
using ::rinha::testing::WaitUntil;

struct Totals {
  int64_t requests = -1;
  int64_t cents = -1;
};

// Reads {"totalRequests":N,"totalAmount":X} members (a processor's admin summary or one side of
// ours).
Totals ReadTotals(std::string_view json) {
  Totals t;
  (void)ParseJsonObject(json, [&](std::string_view key, const JsonValue& v) {
    if (key == "totalRequests") t.requests = std::strtoll(std::string(v.raw).c_str(), nullptr, 10);
    if (key == "totalAmount") {
      auto c = ParseDecimalCents(v.raw, CentsRounding::kHalfEven);
      if (c.ok()) t.cents = *c;
    }
    return absl::OkStatus();
  });
  return t;
}

class Processor {
 public:
  static std::unique_ptr<Processor> Start(const std::string& fee) {
    auto p = std::make_unique<Processor>();
    Subprocess::Options o;
    o.args = {"--listen=127.0.0.1:0", absl::StrCat("--fee=", fee), "--token=123",
              "--threads=1200"};  // the router opens hundreds of connections
    auto child = Subprocess::Spawn(PAYMENT_PROCESSOR_BINARY, o);
    if (!child.ok()) return nullptr;
    p->child_ = *std::move(child);
    auto line = p->child_->ReadLineContaining("payment-processor listening");
    if (!line.ok()) return nullptr;
    p->port_ = *IntFieldAfter(*line, "port=");
    p->http_ = std::make_unique<httplib::Client>("127.0.0.1", p->port_);
    p->http_->set_keep_alive(true);
    return p;
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  Totals Summary() {
    auto r = http_->Get("/admin/payments-summary", {{"X-Rinha-Token", "123"}});
    if (!r || r->status != 200) return {};
    return ReadTotals(r->body);
  }
  // 200 -> true, 404 -> false; anything else fails the test.
  bool Holds(const std::string& id) {
    auto r = http_->Get(absl::StrCat("/payments/", id).c_str());
    EXPECT_TRUE(r && (r->status == 200 || r->status == 404)) << id;
    return r && r->status == 200;
  }

 private:
  std::unique_ptr<Subprocess> child_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> http_;
};

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

    Subprocess::Options o;
    o.args = {"--listen=", absl::StrCat("--unix_socket=", Path("ledger.sock")),
              absl::StrCat("--db_path=", Path("ledger.db"))};
    auto ledger = Subprocess::Spawn(LEDGER_BINARY, o);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
    ASSERT_TRUE(ledger_->ReadLineContaining("ledger listening").ok());

    StartRouter();

    o.args = {"--listen=127.0.0.1:0", absl::StrCat("--router=unix:", Path("router.sock")),
              absl::StrCat("--ledger=unix:", Path("ledger.sock")), "--threads=8"};
    auto edge = Subprocess::Spawn(EDGE_BINARY, o);
    ASSERT_TRUE(edge.ok()) << edge.status();
    edge_ = *std::move(edge);
    auto line = edge_->ReadLineContaining("edge listening");
    ASSERT_TRUE(line.ok()) << line.status();
    edge_port_ = *IntFieldAfter(*line, "port=");
    client_ = std::make_unique<httplib::Client>("127.0.0.1", edge_port_);
    client_->set_keep_alive(true);
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
              absl::StrCat("--processor_fallback_url=", fallback_->url())};
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
      auto r = client->Post(
          "/payments", absl::StrFormat(R"({"correlationId":"%s","amount":20.05})", Id(i)),
          "application/json");
      ASSERT_TRUE(r) << i;
      ASSERT_EQ(r->status, 202) << i << " " << r->body;
    }
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
  ASSERT_TRUE(WaitUntil([&] { return SummaryCounts(200); }, absl::Seconds(30),
                        absl::Milliseconds(50)));
  ExpectConsistent(200);
}

TEST_F(EdgeIntegrationTest, RouterKilledAndRestartedLosesNothingAndPaysNothingTwice) {
  Post(0, 100);
  ASSERT_TRUE(WaitUntil([&] { return SummaryCounts(100); }, absl::Seconds(30),
                        absl::Milliseconds(50)));

  router_->Kill();  // SIGKILL
  // Accepted while the router is gone: the edge holds them.
  Post(100, 200);
  auto [d, f] = OurSummary();
  EXPECT_EQ(d.requests + f.requests, 100);

  StartRouter();  // same unix socket path
  ASSERT_TRUE(WaitUntil([&] { return SummaryCounts(200); }, absl::Seconds(30),
                        absl::Milliseconds(50)));
  ExpectConsistent(200);
}

TEST_F(EdgeIntegrationTest, RouterKilledWhileLoadIsFlowingPaysNothingTwice) {
  // Killed mid-stream, the router may lose payments it acknowledged but had not yet paid (it
  // keeps them in memory); what the edge must guarantee is that nothing is paid twice and that
  // everything it still held is delivered once the router is back.
  httplib::Client second("127.0.0.1", edge_port_);
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
  // Settled: the summary has not moved for 2 s (the edge reconnects within about 1 s).
  int64_t last = -1;
  int unchanged = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto [d, f] = OurSummary();
        const int64_t now = d.requests + f.requests;
        unchanged = now == last ? unchanged + 1 : 0;
        last = now;
        return unchanged >= 4;
      },
      absl::Seconds(60), absl::Milliseconds(500)));
  EXPECT_GT(last, 50);
  for (int i = 0; i < 300; ++i) {
    EXPECT_FALSE(default_->Holds(Id(i)) && fallback_->Holds(Id(i))) << Id(i);
  }
}

}  // namespace
}  // namespace rinha::edge
