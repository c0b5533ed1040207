// The router between two emulated processors and a real ledger, all real processes on port 0:
// a scripted run through failure, long delay, both failing and a ledger restart, then checks
// that the ledger's summary equals the processors' admin summaries (unbounded and per window),
// that no payment is held by both processors, and that every accepted payment settled once.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/iso_time.h"
#include "common/json.h"
#include "common/log.h"
#include "common/money.h"
#include "gtest/gtest.h"
#include "payments.grpc.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace rinha::router {
namespace {

using ::rinha::testing::IntFieldAfter;
using ::rinha::testing::Subprocess;
using ::rinha::testing::WaitUntil;

constexpr int64_t kAmountCents = 2005;

struct Totals {
  int64_t requests = -1;
  int64_t cents = -1;
};

class Processor {
 public:
  static std::unique_ptr<Processor> Start(const std::string& fee) {
    auto p = std::make_unique<Processor>();
    Subprocess::Options o;
    o.args = {"--listen=127.0.0.1:0", absl::StrCat("--fee=", fee), "--token=123",
              "--health_window_ms=5000", "--threads=1200"};
    auto child = Subprocess::Spawn(PAYMENT_PROCESSOR_BINARY, o);
    if (!child.ok()) return nullptr;
    p->child_ = *std::move(child);
    auto line = p->child_->ReadLineContaining("payment-processor listening");
    if (!line.ok()) return nullptr;
    p->port_ = *IntFieldAfter(*line, "port=");
    p->http_ = std::make_unique<httplib::Client>("127.0.0.1", p->port_);
    p->http_->set_keep_alive(true);
    p->http_->set_tcp_nodelay(true);
    return p;
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  void Set(const std::string& what, const std::string& json) {
    httplib::Headers h = {{"X-Rinha-Token", "123"}};
    auto r = http_->Put(absl::StrCat("/admin/configurations/", what).c_str(), h, json,
                        "application/json");
    ASSERT_TRUE(r) << what;
    ASSERT_EQ(r->status, 200) << what << " " << r->body;
  }
  void Delay(int ms) { Set("delay", absl::StrFormat(R"({"delay":%d})", ms)); }
  void Failing(bool on) { Set("failure", on ? R"({"failure":true})" : R"({"failure":false})"); }

  // from/to empty: unbounded.
  Totals Summary(const std::string& from, const std::string& to) {
    httplib::Headers h = {{"X-Rinha-Token", "123"}};
    std::string path = "/admin/payments-summary";
    if (!from.empty()) path += absl::StrCat("?from=", from, "&to=", to);
    auto r = http_->Get(path.c_str(), h);
    Totals t;
    if (!r || r->status != 200) return t;
    (void)ParseJsonObject(r->body, [&](std::string_view key, const JsonValue& v) {
      if (key == "totalRequests")
        t.requests = std::strtoll(std::string(v.raw).c_str(), nullptr, 10);
      if (key == "totalAmount") {
        auto c = ParseDecimalCents(v.raw, CentsRounding::kHalfEven);
        if (c.ok()) t.cents = *c;
      }
      return absl::OkStatus();
    });
    return t;
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

class RouterIntegrationTest : public ::testing::Test {
 protected:
  // Router flags beyond the common ones, set by a test before SetUp starts it.
  virtual std::vector<std::string> ExtraRouterFlags() const {
    // Shorter than the 2000 ms delay of one stage: payments in flight then time out and are
    // inserted afterwards, exercising the ambiguous path for real.
    return {"--payment_timeout_ms=1500"};
  }

  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    // The router's gRPC server and client live in Debian's uninstrumented gRPC (as for the
    // ledger's gRPC tests); the router's own threading is covered by router_dispatcher_test.
    GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented";
#endif
    dir_ = ::rinha::testing::MakeTempDir("router_it");
    default_ = Processor::Start("0.07");
    fallback_ = Processor::Start("0.10");
    ASSERT_NE(default_, nullptr);
    ASSERT_NE(fallback_, nullptr);
    StartLedger();
    Subprocess::Options o;
    o.args = {
        "--listen=127.0.0.1:0", absl::StrCat("--unix_socket=", (dir_ / "router.sock").string()),
        absl::StrCat("--ledger=unix:", (dir_ / "ledger.sock").string()),
        absl::StrCat("--processor_default_url=", default_->url()),
        absl::StrCat("--processor_fallback_url=", fallback_->url()),
        // The emulator holds a thread per connection (1200 here): keep the router's
        // connections well below it, also in slow sanitizer builds.
        "--max_in_flight=300", absl::StrCat("--journal_dir=", (dir_ / "router-journal").string()),
        "--metrics_listen=127.0.0.1:0"};
    for (const std::string& flag : ExtraRouterFlags()) o.args.push_back(flag);
    auto child = Subprocess::Spawn(ROUTER_BINARY, o);
    ASSERT_TRUE(child.ok()) << child.status();
    router_ = *std::move(child);
    auto line = router_->ReadLineContaining("router listening");
    ASSERT_TRUE(line.ok()) << line.status();
    metrics_port_ = IntFieldAfter(*line, "metrics_port=").value_or(0);
    // Exercise the unix listener: the edges use it in production.
    router_channel_ = grpc::CreateChannel(absl::StrCat("unix:", (dir_ / "router.sock").string()),
                                          grpc::InsecureChannelCredentials());
    router_stub_ = rinha::v1::Router::NewStub(router_channel_);
  }

  void TearDown() override {
    if (router_) (void)router_->Terminate(absl::Seconds(10));
    if (ledger_) (void)ledger_->Terminate(absl::Seconds(10));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void StartLedger() {
    Subprocess::Options o;
    o.args = {
        "--listen=127.0.0.1:0", absl::StrCat("--unix_socket=", (dir_ / "ledger.sock").string()),
        absl::StrCat("--db_path=", (dir_ / "ledger.db").string()), "--metrics_listen=127.0.0.1:0"};
    auto child = Subprocess::Spawn(LEDGER_BINARY, o);
    ASSERT_TRUE(child.ok()) << child.status();
    ledger_ = *std::move(child);
    auto line = ledger_->ReadLineContaining("ledger listening");
    ASSERT_TRUE(line.ok()) << line.status();
    ledger_stub_ = rinha::v1::Ledger::NewStub(
        grpc::CreateChannel(absl::StrCat("unix:", (dir_ / "ledger.sock").string()),
                            grpc::InsecureChannelCredentials()));
  }

  rinha::v1::SummaryResponse LedgerSummary(std::optional<int64_t> from, std::optional<int64_t> to) {
    rinha::v1::SummaryRequest req;
    if (from) req.set_from_ms(*from);
    if (to) req.set_to_ms(*to);
    rinha::v1::SummaryResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    EXPECT_TRUE(ledger_stub_->Summary(&ctx, req, &resp).ok());
    return resp;
  }

  rinha::v1::RouterStatsResponse RouterStats() {
    rinha::v1::RouterStatsResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    (void)router_stub_->Stats(&ctx, rinha::v1::RouterStatsRequest(), &resp);
    return resp;
  }

  // The value of the first sample of `series` (name and labels as printed) in the router's
  // /metrics; -1 when absent or unreachable.
  double RouterMetric(const std::string& series) {
    httplib::Client client("127.0.0.1", metrics_port_);
    auto r = client.Get("/metrics");
    if (!r || r->status != 200) return -1;
    for (std::string_view rest = r->body; !rest.empty();) {
      const size_t end = rest.find('\n');
      const std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? "" : rest.substr(end + 1);
      if (line.size() > series.size() && line.substr(0, series.size()) == series &&
          line[series.size()] == ' ') {
        return std::strtod(std::string(line.substr(series.size() + 1)).c_str(), nullptr);
      }
    }
    return -1;
  }

  int metrics_port_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<Processor> default_;
  std::unique_ptr<Processor> fallback_;
  std::unique_ptr<Subprocess> ledger_;
  std::unique_ptr<Subprocess> router_;
  std::shared_ptr<grpc::Channel> router_channel_;
  std::unique_ptr<rinha::v1::Router::Stub> router_stub_;
  std::unique_ptr<rinha::v1::Ledger::Stub> ledger_stub_;
};

std::string Id(int i) { return absl::StrFormat("%08x-0000-4000-8000-%012x", 0xabc, i); }

// Streams `ids` to the router in batches of 10 every 20 ms (500/s), each batch also repeating
// an earlier id (a client resend), and waits for every acknowledgement.
void Feed(rinha::v1::Router::Stub* stub, const std::vector<std::string>& ids,
          const std::function<void(int64_t elapsed_ms)>& script) {
  grpc::ClientContext ctx;
  auto stream = stub->Submit(&ctx);
  const absl::Time start = absl::Now();
  uint64_t batch_id = 0;
  std::atomic<uint64_t> acked{0};
  std::thread reader([&] {
    rinha::v1::PaymentAck ack;
    while (stream->Read(&ack)) acked = ack.batch_id();
  });
  for (size_t i = 0; i < ids.size(); i += 10) {
    rinha::v1::PaymentBatch batch;
    batch.set_batch_id(++batch_id);
    for (size_t j = i; j < std::min(ids.size(), i + 10); ++j) {
      auto* p = batch.add_payments();
      p->set_correlation_id(ids[j]);
      p->set_amount_cents(kAmountCents);
    }
    if (i > 0) {
      auto* p = batch.add_payments();
      p->set_correlation_id(ids[i / 2]);  // already sent: must not be paid again
      p->set_amount_cents(kAmountCents);
    }
    ASSERT_TRUE(stream->Write(batch));
    script(absl::ToInt64Milliseconds(absl::Now() - start));
    absl::SleepFor(absl::Milliseconds(20) - (absl::Now() - start) % absl::Milliseconds(20));
  }
  stream->WritesDone();
  reader.join();
  EXPECT_EQ(acked.load(), batch_id);
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(RouterIntegrationTest, ScriptedRunSettlesEveryPaymentOnceAndMatchesTheProcessors) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6000; ++i) ids.push_back(Id(i));  // 12 s at 500/s
  const int64_t start_ms = absl::ToUnixMillis(absl::Now());
  int stage = 0;
  // Each step: at `ms`, an action. Both failing, a long delay, a ledger restart, recovery.
  auto script = [&](int64_t ms) {
    const std::vector<std::pair<int64_t, std::function<void()>>> plan = {
        {1500, [&] { default_->Failing(true); }},  // -> fallback
        {3000,
         [&] {
           default_->Failing(false);
           fallback_->Failing(true);
         }},  // -> default
        {4500,
         [&] {
           fallback_->Failing(false);
           default_->Delay(2000);
         }},                               // slow -> fallback
        {6000, [&] { ledger_->Kill(); }},  // ledger down
        {7000,
         [&] {
           default_->Delay(0);
           default_->Failing(true);
           fallback_->Failing(true);
         }},
        {8000, [&] { StartLedger(); }},  // ledger back
        {9000,
         [&] {
           default_->Failing(false);
           fallback_->Failing(false);
         }},
        {10000, [&] { fallback_->Delay(1000); }},
    };
    while (stage < static_cast<int>(plan.size()) && ms >= plan[stage].first) {
      plan[stage].second();
      ++stage;
    }
  };
  Feed(router_stub_.get(), ids, script);
  ASSERT_EQ(stage, 8);

  // Everything drains: nothing queued, in flight or awaiting the ledger.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = RouterStats();
        return s.settled_default() + s.settled_fallback() == static_cast<int64_t>(ids.size()) &&
               s.queued() == 0 && s.in_flight() == 0 && s.unsettled() == 0;
      },
      absl::Seconds(120)))
      << RouterStats().DebugString();
  const auto stats = RouterStats();
  RINHA_LOG_INFO("stats at the end: %s", stats.ShortDebugString());
  EXPECT_GT(stats.settled_default(), 0);
  EXPECT_GT(stats.settled_fallback(), 0);

  // Unbounded and windowed: the ledger equals each processor.
  const int64_t end_ms = absl::ToUnixMillis(absl::Now());
  std::vector<std::pair<std::optional<int64_t>, std::optional<int64_t>>> windows = {
      {std::nullopt, std::nullopt}};
  for (int64_t from = start_ms - 1000; from < end_ms; from += 1700) {
    windows.push_back({from, from + 2500});
  }
  for (const auto& [from, to] : windows) {
    const std::string f = from ? FormatIsoMillis(*from) : "";
    const std::string t = to ? FormatIsoMillis(*to) : "";
    const auto ours = LedgerSummary(from, to);
    const Totals d = default_->Summary(f, t);
    const Totals fb = fallback_->Summary(f, t);
    EXPECT_EQ(ours.default_totals().total_requests(), d.requests) << f << " " << t;
    EXPECT_EQ(ours.default_totals().total_amount_cents(), d.cents) << f << " " << t;
    EXPECT_EQ(ours.fallback_totals().total_requests(), fb.requests) << f << " " << t;
    EXPECT_EQ(ours.fallback_totals().total_amount_cents(), fb.cents) << f << " " << t;
  }
  const auto all = LedgerSummary(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals().total_requests() + all.fallback_totals().total_requests(),
            static_cast<int64_t>(ids.size()));

  // No payment is held by both processors, and each is held by one.
  int both = 0, none = 0;
  for (const std::string& id : ids) {
    const bool d = default_->Holds(id);
    const bool f = fallback_->Holds(id);
    both += d && f;
    none += !d && !f;
  }
  EXPECT_EQ(both, 0);
  EXPECT_EQ(none, 0);
}

// A default slower than the router's payment timeout (the real processor's GET /payments/{id}
// answer shape, as the emulator gives it): every POST times out and is inserted later. Each
// payment is recorded once, at default, with the requestedAt sent, and the lookups stay few.
class SlowerThanTheTimeoutTest : public RouterIntegrationTest {
 protected:
  static constexpr int kTimeoutMs = 1000;
  static constexpr int kDelayMs = 1600;
  std::vector<std::string> ExtraRouterFlags() const override {
    return {absl::StrCat("--payment_timeout_ms=", kTimeoutMs), "--ambiguity_settle_ms=3000",
            "--undecided_after_ms=60000"};
  }
};

TEST_F(SlowerThanTheTimeoutTest, EveryPaymentIsRecordedOnceSoonAfterTheProcessorInsertsIt) {
  default_->Delay(kDelayMs);
  fallback_->Failing(true);  // nowhere else to go: the payments must be found at default
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(Id(0x5000 + i));
  const absl::Time sent = absl::Now();
  Feed(router_stub_.get(), ids, [](int64_t) {});
  ASSERT_TRUE(WaitUntil(
      [&] {
        const auto s = LedgerSummary(std::nullopt, std::nullopt);
        return s.default_totals().total_requests() == static_cast<int64_t>(ids.size());
      },
      absl::Seconds(30)))
      << RouterStats().ShortDebugString();
  const absl::Duration took = absl::Now() - sent;
  RINHA_LOG_INFO("slower than the timeout: %d payments recorded %d ms after sending",
                 static_cast<int>(ids.size()), absl::ToInt64Milliseconds(took));
  // (How soon is asserted with a fake clock in router_core_test; here it is only reported.)
  const auto stats = RouterStats();
  EXPECT_EQ(stats.settled_default(), static_cast<int64_t>(ids.size()));
  EXPECT_EQ(stats.settled_fallback(), 0);
  EXPECT_EQ(stats.unreadable_echoes(), 0);
  EXPECT_EQ(stats.echo_mismatches(), 0);
  EXPECT_LE(stats.lookups_default(), static_cast<int64_t>(ids.size()) * 8);
  // The ledger equals what default holds, per window of requestedAt too.
  const Totals d = default_->Summary("", "");
  const auto ours = LedgerSummary(std::nullopt, std::nullopt);
  EXPECT_EQ(ours.default_totals().total_requests(), d.requests);
  EXPECT_EQ(ours.default_totals().total_amount_cents(), d.cents);
  const int64_t from = absl::ToUnixMillis(sent) - 100;
  const auto windowed = LedgerSummary(from, from + 1000);
  EXPECT_EQ(windowed.default_totals().total_requests(),
            default_->Summary(FormatIsoMillis(from), FormatIsoMillis(from + 1000)).requests);
  EXPECT_EQ(stats.lookups_waiting(), 0);
  for (const std::string& id : ids) EXPECT_FALSE(fallback_->Holds(id));
}

// Issue 20's must-show: a payment stuck on purpose (default slower than the router's timeout, and
// its lookups failing) shows within seconds as undecided in the router's /metrics, the self-audit
// reports its window as different from the processors'; once lookups work again the router
// records it and both clear.
class OperabilityTest : public RouterIntegrationTest {
 protected:
  std::vector<std::string> ExtraRouterFlags() const override {
    return {"--payment_timeout_ms=500", "--undecided_after_ms=2000", "--audit_admin_token=123",
            "--audit_window_ms=1000",   "--audit_settle_ms=1500",    "--ambiguity_settle_ms=60000"};
  }
};

TEST_F(OperabilityTest, AStuckPaymentIsUndecidedAndAMismatchedWindowUntilItIsRecorded) {
  ASSERT_GT(metrics_port_, 0);
  EXPECT_EQ(RouterMetric("rinha_audit_enabled"), 1);
  default_->Delay(900);
  default_->Set("fault", R"({"mode":"lookups_503"})");
  Feed(router_stub_.get(), {Id(0x7000)}, [](int64_t) {});
  // Held by default (inserted after its delay), not recorded: undecided within seconds.
  ASSERT_TRUE(WaitUntil(
      [&] { return RouterMetric(R"(rinha_router_undecided_payments{state="ambiguous"})") == 1; },
      absl::Seconds(20)))
      << RouterStats().ShortDebugString();
  EXPECT_GE(RouterMetric(R"(rinha_router_oldest_pending_age_seconds{state="ambiguous"})"), 2);
  EXPECT_EQ(default_->Summary("", "").requests, 1);  // (its lookups fail: ask the admin API)
  ASSERT_TRUE(WaitUntil([&] { return RouterMetric("rinha_audit_mismatched_windows") == 1; },
                        absl::Seconds(20)));
  EXPECT_EQ(RouterMetric("rinha_audit_mismatched_windows_total"), 1);
  EXPECT_GT(RouterMetric("rinha_router_lookup_errors_total"), 0);
  // Lookups work again: recorded, and both clear.
  default_->Set("fault", R"({"mode":"none"})");
  ASSERT_TRUE(WaitUntil(
      [&] {
        return RouterMetric("rinha_audit_mismatched_windows") == 0 &&
               RouterMetric("rinha_audit_cleared_windows_total") == 1;
      },
      absl::Seconds(40)))
      << RouterStats().ShortDebugString();
  EXPECT_EQ(RouterMetric(R"(rinha_router_undecided_payments{state="ambiguous"})"), 0);
  EXPECT_EQ(RouterMetric("rinha_router_undecided_payments_total"), 1);
  EXPECT_EQ(RouterMetric(R"(rinha_router_settled_total{processor="default"})"), 1);
  const Totals d = default_->Summary("", "");
  EXPECT_EQ(LedgerSummary(std::nullopt, std::nullopt).default_totals().total_requests(),
            d.requests);
}

}  // namespace
}  // namespace rinha::router
