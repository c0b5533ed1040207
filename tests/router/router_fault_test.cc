// The router against faulty processors, end to end: two payment-processor emulators, the ledger
// and the router as real processes on port 0. One test per fault mode of the emulator
// (processor/fault.h), set on the default processor while a few hundred payments stream in, then
// cleared; afterwards every payment must be held by exactly one processor (or, for
// store_then_500 only, by both and recorded so), nothing lost, and the ledger must hold exactly
// what each processor holds, id by id.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
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
constexpr int kPayments = 300;
// Short, so that each test stays within seconds: how long a processor may still insert a payment
// after an ambiguous ending, and when a 500 is looked up for the last time.
constexpr int kAmbiguitySettleMs = 1500;

struct Totals {
  int64_t requests = -1;
  int64_t cents = -1;
  friend bool operator==(const Totals&, const Totals&) = default;
};

class Processor {
 public:
  static std::unique_ptr<Processor> Start(const std::string& fee) {
    auto p = std::make_unique<Processor>();
    Subprocess::Options o;
    o.args = {"--listen=127.0.0.1:0", absl::StrCat("--fee=", fee), "--token=123", "--threads=1200"};
    auto child = Subprocess::Spawn(PAYMENT_PROCESSOR_BINARY, o);
    if (!child.ok()) return nullptr;
    p->child_ = *std::move(child);
    auto line = p->child_->ReadLineContaining("payment-processor listening");
    if (!line.ok()) return nullptr;
    p->port_ = *IntFieldAfter(*line, "port=");
    return p;
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  // A fresh connection per call: the refuse mode closes every connection.
  std::unique_ptr<httplib::Client> Http() const {
    auto http = std::make_unique<httplib::Client>("127.0.0.1", port_);
    http->set_connection_timeout(5);
    http->set_read_timeout(10);
    return http;
  }
  void SetFault(const std::string& json) {
    auto r = Http()->Put("/admin/configurations/fault", {{"X-Rinha-Token", "123"}}, json,
                         "application/json");
    ASSERT_TRUE(r) << json;
    ASSERT_EQ(r->status, 200) << json << " " << r->body;
  }
  // Admin calls answer (the refuse mode has ended).
  bool Listening() const {
    auto r = Http()->Get("/admin/payments-summary", {{"X-Rinha-Token", "123"}});
    return r && r->status == 200;
  }
  Totals Summary() const {
    auto r = Http()->Get("/admin/payments-summary", {{"X-Rinha-Token", "123"}});
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
  // GET /admin/payments/ids: every id it holds (a JSON array of UUID strings).
  std::set<std::string> Ids() const {
    auto r = Http()->Get("/admin/payments/ids", {{"X-Rinha-Token", "123"}});
    EXPECT_TRUE(r && r->status == 200);
    std::set<std::string> ids;
    if (!r) return ids;
    const std::string& body = r->body;
    for (size_t open = body.find('"'); open != std::string::npos; open = body.find('"', open)) {
      const size_t close = body.find('"', open + 1);
      if (close == std::string::npos) break;
      ids.insert(body.substr(open + 1, close - open - 1));
      open = close + 1;
    }
    return ids;
  }

 private:
  std::unique_ptr<Subprocess> child_;
  int port_ = 0;
};

std::string Id(int i) { return absl::StrFormat("%08x-0000-4000-8000-%012x", 0xfa17, i); }

// What the checks found, for the test's log and its assertions.
struct Outcome {
  int64_t sent = 0;
  int64_t held_default = 0;
  int64_t held_fallback = 0;
  int64_t lost = 0;               // held by neither processor
  int64_t paid_twice = 0;         // held by both
  int64_t detected = 0;           // double payments the router detected (Router/Stats)
  int64_t recorded_twice = 0;     // ids with a double-payment row in the ledger
  int64_t ledger_mismatches = 0;  // (id, processor) pairs the ledger and the processors disagree on
  rinha::v1::RouterStatsResponse stats;
};

class RouterFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented";
#endif
    dir_ = ::rinha::testing::MakeTempDir("router_fault");
    default_ = Processor::Start("0.07");
    fallback_ = Processor::Start("0.10");
    ASSERT_NE(default_, nullptr);
    ASSERT_NE(fallback_, nullptr);
    {
      Subprocess::Options o;
      o.args = {"--listen=127.0.0.1:0",
                absl::StrCat("--unix_socket=", (dir_ / "ledger.sock").string()),
                absl::StrCat("--db_path=", (dir_ / "ledger.db").string()),
                "--metrics_listen=127.0.0.1:0"};
      auto child = Subprocess::Spawn(LEDGER_BINARY, o);
      ASSERT_TRUE(child.ok()) << child.status();
      ledger_ = *std::move(child);
      ASSERT_TRUE(ledger_->ReadLineContaining("ledger listening").ok());
    }
    Subprocess::Options o;
    o.args = {"--listen=",
              absl::StrCat("--unix_socket=", (dir_ / "router.sock").string()),
              absl::StrCat("--ledger=unix:", (dir_ / "ledger.sock").string()),
              absl::StrCat("--processor_default_url=", default_->url()),
              absl::StrCat("--processor_fallback_url=", fallback_->url()),
              "--max_in_flight=300",
              "--payment_timeout_ms=2000",
              absl::StrCat("--ambiguity_settle_ms=", kAmbiguitySettleMs),
              absl::StrCat("--journal_dir=", (dir_ / "router-journal").string()),
              "--metrics_listen=127.0.0.1:0"};
    auto child = Subprocess::Spawn(ROUTER_BINARY, o);
    ASSERT_TRUE(child.ok()) << child.status();
    router_ = *std::move(child);
    ASSERT_TRUE(router_->ReadLineContaining("router listening").ok());
    router_stub_ = rinha::v1::Router::NewStub(
        grpc::CreateChannel(absl::StrCat("unix:", (dir_ / "router.sock").string()),
                            grpc::InsecureChannelCredentials()));
    ledger_stub_ = rinha::v1::Ledger::NewStub(
        grpc::CreateChannel(absl::StrCat("unix:", (dir_ / "ledger.sock").string()),
                            grpc::InsecureChannelCredentials()));
    for (int i = 0; i < kPayments; ++i) ids_.push_back(Id(i));
  }

  void TearDown() override {
    if (router_) (void)router_->Terminate(absl::Seconds(10));
    if (ledger_) (void)ledger_->Terminate(absl::Seconds(10));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  rinha::v1::RouterStatsResponse RouterStats() {
    rinha::v1::RouterStatsResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    (void)router_stub_->Stats(&ctx, rinha::v1::RouterStatsRequest(), &resp);
    return resp;
  }

  // Streams every id to the router, 10 per batch every 10 ms; `before_batch(i)` runs before
  // batch i. Waits for every acknowledgement.
  void Feed(const std::function<void(int batch)>& before_batch = nullptr) {
    grpc::ClientContext ctx;
    auto stream = router_stub_->Submit(&ctx);
    std::atomic<uint64_t> acked{0};
    std::thread reader([&] {
      rinha::v1::PaymentAck ack;
      while (stream->Read(&ack)) acked = ack.batch_id();
    });
    uint64_t batch_id = 0;
    for (size_t i = 0; i < ids_.size(); i += 10) {
      if (before_batch) before_batch(static_cast<int>(batch_id));
      rinha::v1::PaymentBatch batch;
      batch.set_batch_id(++batch_id);
      for (size_t j = i; j < std::min(ids_.size(), i + 10); ++j) {
        auto* p = batch.add_payments();
        p->set_correlation_id(ids_[j]);
        p->set_amount_cents(kAmountCents);
      }
      ASSERT_TRUE(stream->Write(batch));
      absl::SleepFor(absl::Milliseconds(10));  // pacing of the load, not synchronisation
    }
    stream->WritesDone();
    reader.join();
    EXPECT_EQ(acked.load(), batch_id);
    EXPECT_TRUE(stream->Finish().ok());
  }

  // Every payment settled, nothing in flight, queued, unacknowledged by the ledger or awaiting a
  // double-payment check.
  bool Quiet() {
    const auto s = RouterStats();
    return s.settled_default() + s.settled_fallback() == static_cast<int64_t>(ids_.size()) &&
           s.queued() == 0 && s.in_flight() == 0 && s.unsettled() == 0 &&
           s.double_checks_pending() == 0;
  }

  // Holdings of both processors against the ledger, id by id.
  Outcome Check() {
    Outcome out;
    out.sent = static_cast<int64_t>(ids_.size());
    out.stats = RouterStats();
    out.detected = out.stats.double_payments_detected();
    const std::set<std::string> at_default = default_->Ids();
    const std::set<std::string> at_fallback = fallback_->Ids();
    std::map<std::string, std::set<int>> ledger;  // id -> processors (1 default, 2 fallback)
    std::string after;
    for (;;) {
      rinha::v1::ListRequest req;
      req.set_after_correlation_id(after);
      rinha::v1::ListResponse page;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      EXPECT_TRUE(ledger_stub_->List(&ctx, req, &page).ok());
      for (const auto& s : page.settlements()) {
        ledger[s.correlation_id()].insert(s.processor());
        out.recorded_twice += s.double_payment();
      }
      if (!page.more() || page.settlements_size() == 0) break;
      after = page.settlements(page.settlements_size() - 1).correlation_id();
    }
    EXPECT_EQ(ledger.size(), ids_.size());  // nothing recorded beyond what was sent
    for (const std::string& id : ids_) {
      const bool d = at_default.contains(id);
      const bool f = at_fallback.contains(id);
      out.held_default += d;
      out.held_fallback += f;
      out.lost += !d && !f;
      out.paid_twice += d && f;
      const std::set<int>& rows = ledger[id];
      out.ledger_mismatches += (d != rows.contains(rinha::v1::PROCESSOR_DEFAULT)) +
                               (f != rows.contains(rinha::v1::PROCESSOR_FALLBACK));
    }
    // Nothing beyond what was sent, anywhere.
    EXPECT_EQ(at_default.size(), static_cast<size_t>(out.held_default));
    EXPECT_EQ(at_fallback.size(), static_cast<size_t>(out.held_fallback));

    // The summary the contest's audit compares: ours (the ledger) against each processor's.
    rinha::v1::SummaryResponse ours;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    EXPECT_TRUE(ledger_stub_->Summary(&ctx, rinha::v1::SummaryRequest(), &ours).ok());
    EXPECT_EQ((Totals{ours.default_totals().total_requests(),
                      ours.default_totals().total_amount_cents()}),
              default_->Summary());
    EXPECT_EQ((Totals{ours.fallback_totals().total_requests(),
                      ours.fallback_totals().total_amount_cents()}),
              fallback_->Summary());
    RINHA_LOG_INFO(
        "%s: sent=%d held default=%d fallback=%d lost=%d paid_twice=%d detected=%d "
        "recorded_twice=%d ledger_mismatches=%d | router: %s",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), out.sent, out.held_default,
        out.held_fallback, out.lost, out.paid_twice, out.detected, out.recorded_twice,
        out.ledger_mismatches, out.stats.ShortDebugString());
    RecordProperty("sent", static_cast<int>(out.sent));
    RecordProperty("held_default", static_cast<int>(out.held_default));
    RecordProperty("held_fallback", static_cast<int>(out.held_fallback));
    RecordProperty("lost", static_cast<int>(out.lost));
    RecordProperty("paid_twice", static_cast<int>(out.paid_twice));
    RecordProperty("double_payments_detected", static_cast<int>(out.detected));
    return out;
  }

  // Sets `fault` on the default processor, feeds every payment, clears it, waits until the
  // router is quiet and checks.
  Outcome RunWithFault(const std::string& fault) {
    default_->SetFault(fault);
    Feed();
    default_->SetFault(R"({"mode":"none"})");
    EXPECT_TRUE(WaitUntil([&] { return Quiet(); }, absl::Seconds(60)))
        << RouterStats().ShortDebugString();
    return Check();
  }

  void ExpectExactlyOnce(const Outcome& o) {
    EXPECT_EQ(o.lost, 0);
    EXPECT_EQ(o.paid_twice, 0);
    EXPECT_EQ(o.detected, 0);
    EXPECT_EQ(o.recorded_twice, 0);
    EXPECT_EQ(o.ledger_mismatches, 0);
    EXPECT_EQ(o.held_default + o.held_fallback, o.sent);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Processor> default_;
  std::unique_ptr<Processor> fallback_;
  std::unique_ptr<Subprocess> ledger_;
  std::unique_ptr<Subprocess> router_;
  std::unique_ptr<rinha::v1::Router::Stub> router_stub_;
  std::unique_ptr<rinha::v1::Ledger::Stub> ledger_stub_;
  std::vector<std::string> ids_;
};

TEST_F(RouterFaultTest, ResetAfterStoringIsResolvedByLookupsAndPaysOnce) {
  const Outcome o = RunWithFault(R"({"mode":"reset","probability":0.5})");
  ExpectExactlyOnce(o);
  EXPECT_GT(o.stats.ambiguous(), 0);  // the fault was met
  EXPECT_GT(o.held_default, 0);
}

TEST_F(RouterFaultTest, A200WithAGarbageBodyIsSettledWhereItWasSent) {
  const Outcome o = RunWithFault(R"({"mode":"garbage","probability":1})");
  ExpectExactlyOnce(o);
  // A 200 is a 200: nothing ambiguous, nothing refused, default kept its traffic.
  EXPECT_EQ(o.stats.ambiguous(), 0);
  EXPECT_EQ(o.stats.rejected(), 0);
  EXPECT_GT(o.held_default, 0);
}

TEST_F(RouterFaultTest, ATruncated200IsSettledFromItsStatusLine) {
  const Outcome o = RunWithFault(R"({"mode":"truncated","probability":0.5})");
  ExpectExactlyOnce(o);
  // The status line said 200: nothing to look up, default kept its traffic.
  EXPECT_EQ(o.stats.ambiguous(), 0);
  EXPECT_GT(o.held_default, 0);
}

TEST_F(RouterFaultTest, ASlowHeadWhoseStatusLineArrivesInTimeNeedsNoLookup) {
  // 17 bytes of status line at 40 ms each (under 1 s) against the 2 s timeout.
  const Outcome o = RunWithFault(R"({"mode":"slow_headers","probability":0.3,"interval_ms":40})");
  ExpectExactlyOnce(o);
  EXPECT_EQ(o.stats.ambiguous(), 0);
}

TEST_F(RouterFaultTest, AStatusLineSlowerThanTheTimeoutPaysOnceThroughLookups) {
  // 17 bytes at 150 ms each (over 2.5 s) against the 2 s timeout: the faulty answers time out
  // after the insert and are looked up; the others are quick.
  const Outcome o = RunWithFault(R"({"mode":"slow_headers","probability":0.3,"interval_ms":150})");
  ExpectExactlyOnce(o);
  EXPECT_GT(o.stats.ambiguous(), 0);
}

TEST_F(RouterFaultTest, A429StormMovesEveryPaymentToTheFallbackWhileItLasts) {
  default_->SetFault(R"({"mode":"429","probability":1})");
  Feed();
  // Settled while default still answers 429 to every payment: nothing waits for it.
  ASSERT_TRUE(WaitUntil([&] { return Quiet(); }, absl::Seconds(60)))
      << RouterStats().ShortDebugString();
  default_->SetFault(R"({"mode":"none"})");
  const Outcome o = Check();
  ExpectExactlyOnce(o);
  EXPECT_EQ(o.held_default, 0);  // a 429 stores nothing
  EXPECT_EQ(o.held_fallback, o.sent);
}

TEST_F(RouterFaultTest, ARefusingProcessorLosesNothingAndTheFallbackTakesOver) {
  // Refuses from the 10th batch on for 1.5 s: payments in flight then lose their connection
  // (ambiguous), new ones find no listener (not sent) and go to the fallback.
  Feed([&](int batch) {
    if (batch == 10) default_->SetFault(R"({"mode":"refuse","duration_ms":1500})");
  });
  ASSERT_TRUE(WaitUntil([&] { return default_->Listening(); }, absl::Seconds(30)));
  ASSERT_TRUE(WaitUntil([&] { return Quiet(); }, absl::Seconds(60)))
      << RouterStats().ShortDebugString();
  const Outcome o = Check();
  ExpectExactlyOnce(o);
  EXPECT_GT(o.stats.connect_failures(), 0);  // the fault was met
  EXPECT_GT(o.held_fallback, 0);
}

TEST_F(RouterFaultTest, StoreThen500DoublePaymentsAreDetectedAndRecorded) {
  // Every POST at default stores and answers 500: the first ones, sent together before any
  // answer, fail over to the fallback and are paid twice; the rest go to the fallback at once.
  const Outcome o = RunWithFault(R"({"mode":"store_then_500","probability":1})");
  // Unavoidable: default stored them and said 500, which by the contest's rules stores nothing.
  // Every one is found afterwards and recorded, so the ledger still equals each processor.
  EXPECT_EQ(o.lost, 0);
  EXPECT_GT(o.paid_twice, 0);
  EXPECT_EQ(o.detected, o.paid_twice);
  EXPECT_EQ(o.recorded_twice, o.paid_twice);
  EXPECT_EQ(o.ledger_mismatches, 0);
}

}  // namespace
}  // namespace rinha::router
