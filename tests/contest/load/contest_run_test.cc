// A whole short run of the load generator against in-process fakes: a target answering POST
// /payments and /payments-summary, and two processors with the admin endpoints, all cpp-httplib
// servers on port 0.
#include "contest/load/contest_run.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/httplib_listener.h"
#include "common/json.h"
#include "gtest/gtest.h"
#include "payments.grpc.pb.h"
#include "tests/testing/httplib_tsan_suppression.h"

namespace rinha::contest {
namespace {

class FakeServer {
 public:
  FakeServer() = default;
  ~FakeServer() { Stop(); }

  httplib::Server& http() { return http_; }
  void Start() {
    port_ = http_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    listener_ = HttplibListener::Start(http_);
  }
  void Stop() {
    if (listener_ != nullptr) listener_->Stop();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

 private:
  httplib::Server http_;
  int port_ = 0;
  std::unique_ptr<HttplibListener> listener_;
};

// A processor's admin side: records admin calls in order, answers its summary.
class FakeProcessor {
 public:
  explicit FakeProcessor(std::string summary, int admin_status = 200)
      : summary_(std::move(summary)), admin_status_(admin_status) {
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("X-Rinha-Token") != "123") {
        res.status = 401;
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        calls_.push_back(absl::StrCat(req.method, " ", req.path, " ", req.body));
      }
      res.status = admin_status_;
      res.set_content("{}", "application/json");
    };
    server_.http().Put("/admin/configurations/delay", record);
    server_.http().Put("/admin/configurations/failure", record);
    server_.http().Post("/admin/purge-payments", record);
    server_.http().Get("/admin/payments-summary",
                       [this](const httplib::Request& req, httplib::Response& res) {
                         if (req.get_header_value("X-Rinha-Token") != "123" ||
                             !req.has_param("from") || !req.has_param("to")) {
                           res.status = 400;
                           return;
                         }
                         ++summaries;
                         res.set_content(summary_, "application/json");
                       });
    server_.Start();
  }
  // The handlers read the members below: stop serving before they go.
  ~FakeProcessor() { server_.Stop(); }
  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::string url() const { return server_.url(); }
  std::atomic<int> summaries{0};

 private:
  FakeServer server_;
  const std::string summary_;
  const int admin_status_;
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
};

// The backend under test. `hold`: POST /payments answers only when released (slower than any
// client timeout).
class FakeTarget {
 public:
  explicit FakeTarget(bool hold = false) : hold_(hold) {
    server_.http().new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_.http().set_keep_alive_max_count(100000);
    server_.http().Post("/payments", [this](const httplib::Request& req, httplib::Response& res) {
      bool valid = false;
      (void)ParseJsonObject(req.body, [&](std::string_view key, const JsonValue& v) {
        if (key == "correlationId" && v.string.size() == 36 && v.string[14] == '4') valid = true;
        return absl::OkStatus();
      });
      {
        std::unique_lock<std::mutex> lock(mu_);
        ++posts_;
        if (valid) ids_.insert(req.body);
        if (req.body.find(R"("amount":20.05})") == std::string::npos) ++bad_amounts_;
        if (hold_) released_cv_.wait(lock, [this] { return released_; });
      }
      res.status = 202;
    });
    server_.http().Get("/payments-summary",
                       [this](const httplib::Request&, httplib::Response& res) {
                         ++summaries;
                         res.set_content(R"({"default":{"totalRequests":4,"totalAmount":80.2},)"
                                         R"("fallback":{"totalRequests":0,"totalAmount":0}})",
                                         "application/json");
                       });
    server_.http().Post("/purge-payments", [this](const httplib::Request&, httplib::Response& res) {
      ++purges;
      res.status = 200;
    });
    server_.Start();
  }
  ~FakeTarget() {
    Release();
    server_.Stop();
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    released_cv_.notify_all();
  }
  int64_t posts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return posts_;
  }
  size_t distinct_bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_.size();
  }
  int64_t bad_amounts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bad_amounts_;
  }
  std::string url() const { return server_.url(); }
  std::atomic<int> summaries{0};
  std::atomic<int> purges{0};

 private:
  FakeServer server_;
  const bool hold_;
  mutable std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;
  int64_t posts_ = 0;
  int64_t bad_amounts_ = 0;
  std::set<std::string> ids_;
};

constexpr char kDefaultSummary[] =
    R"({"totalAmount":80.2,"totalRequests":4,"totalFee":5.614,"feePerTransaction":0.07})";
constexpr char kFallbackSummary[] =
    R"({"totalAmount":20.05,"totalRequests":1,"totalFee":2.005,"feePerTransaction":0.10})";

RunConfig ShortRun(const FakeTarget& target, const FakeProcessor& def, const FakeProcessor& fb) {
  RunConfig config;
  config.target = target.url();
  config.default_processor = def.url();
  config.fallback_processor = fb.url();
  config.test = "final";
  config.duration_s = 3;
  config.max_vus = 5;
  config.audit_period_ms = 500;
  // Far above anything the fakes take, so a loaded machine cannot turn answers into failures.
  config.timeout_ms = 10'000;
  config.ready_timeout_ms = 2000;
  config.quiet = true;
  return config;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ContestRunTest, ShortRunCountsRequestsDrivesTheTimelineAndWritesFiles) {
  FakeTarget target;
  FakeProcessor def(kDefaultSummary);
  FakeProcessor fb(kFallbackSummary);
  RunConfig config = ShortRun(target, def, fb);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("rinha_contest_run_" + std::to_string(getpid())))
          .string();
  config.out_dir = dir;
  absl::StatusOr<RunRecord> run = RunContest(config, RealClock::Get(), nullptr);
  ASSERT_TRUE(run.ok()) << run.status();

  // VUs: 1 -> 5 over 3 s, one request per VU per second: some 8-15 requests, all answered 202.
  EXPECT_GE(run->requests, 5);
  EXPECT_EQ(run->requests, target.posts());
  EXPECT_EQ(run->ok, run->requests);
  EXPECT_EQ(run->failed, 0);
  EXPECT_EQ(static_cast<int64_t>(target.distinct_bodies()), target.posts());  // fresh UUID v4s
  EXPECT_EQ(target.bad_amounts(), 0);
  EXPECT_GT(run->p99_ms, 0);
  EXPECT_EQ(target.purges.load(), 1);

  // Setup purge + reset, the ten final stages in order, the reset after the run.
  std::vector<std::string> expected = {"POST /admin/purge-payments ",
                                       R"(PUT /admin/configurations/delay {"delay":0})",
                                       R"(PUT /admin/configurations/failure {"failure":false})"};
  const int delays[] = {0, 1000, 500, 2000, 5000, 0, 100, 50, 103, 2000, 0};
  const bool failing[] = {false, false, false, true,  true, false,
                          false, false, false, false, false};
  for (size_t i = 0; i < 11; ++i) {
    expected.push_back(
        absl::StrCat(R"(PUT /admin/configurations/delay {"delay":)", delays[i], "}"));
    expected.push_back(absl::StrCat(R"(PUT /admin/configurations/failure {"failure":)",
                                    failing[i] ? "true" : "false", "}"));
  }
  EXPECT_EQ(def.calls(), expected);
  EXPECT_EQ(fb.calls().size(), expected.size());

  // Audits every 500 ms: ours says 4/0, the processors 4/1 -> one inconsistency each.
  ASSERT_GE(run->audits.size(), 1u);
  for (const AuditRecord& a : run->audits) {
    EXPECT_EQ(a.inconsistencies, 1);
    EXPECT_TRUE(a.ok);
    EXPECT_EQ(a.to_ms - a.from_ms, 13000);
  }
  EXPECT_EQ(run->inconsistencies, static_cast<int64_t>(run->audits.size()));

  // Teardown: processors' totals -> gross 100.25, fees 5.614 + 2.005, fine 35 %.
  EXPECT_EQ(run->score.gross.ToString(), "100.25");
  EXPECT_EQ(run->score.fees.ToString(), "7.619");
  EXPECT_EQ(run->score.fine_percent, 35);
  EXPECT_EQ(run->score.lag, run->ok - 5);
  // The ceiling: every successful POST at the final's 20.05 and the default's 7 %, bonus 20 %.
  EXPECT_EQ(run->amount_cents, 2005);
  EXPECT_EQ(run->score.ceiling.ToString(),
            Ceiling(run->ok, 2005, ProcessorTotals{0, 0, 7, 2}).ToString());
  EXPECT_FALSE(run->series.empty());

  const std::string results = ReadFile(dir + "/final-results.json");
  const std::string run_json = ReadFile(dir + "/run.json");
  EXPECT_NE(results.find(R"("total_bruto":100.25)"), std::string::npos) << results;
  EXPECT_NE(results.find(R"("pagamentos_realizados_fallback":{"total_bruto":20.05,)"),
            std::string::npos)
      << results;
  EXPECT_NE(run_json.find(R"("series":[{"t_s":1,)"), std::string::npos) << run_json;
  EXPECT_NE(run_json.find(R"("loadgen":{"cpu_s":)"), std::string::npos) << run_json;
  EXPECT_NE(run_json.find(absl::StrCat(R"("ceiling":)", run->score.ceiling.ToString(),
                                       R"(,"share_of_ceiling":0.)")),
            std::string::npos)
      << run_json;
  EXPECT_EQ(run_json.find("router_queued"), std::string::npos);
  std::filesystem::remove_all(dir);
}

rinha::v1::PaymentStateCount* AddState(rinha::v1::RouterStatsResponse& stats, const char* name,
                                       int64_t pending, int64_t undecided, int64_t oldest_ms) {
  rinha::v1::PaymentStateCount* state = stats.add_states();
  state->set_state(name);
  state->set_pending(pending);
  state->set_undecided(undecided);
  state->set_oldest_age_ms(oldest_ms);
  return state;
}

TEST(RouterSampleOfTest, TakesTheGaugesAndTheOldestUndecidedPayment) {
  rinha::v1::RouterStatsResponse stats;
  stats.set_queued(7);
  stats.set_in_flight(3);
  stats.set_settled_default(100);
  stats.set_settled_fallback(20);
  stats.set_recovering(2);
  stats.set_undecided(4);
  AddState(stats, "queued", 7, 0, 52'000);  // old, but not undecided: not counted
  AddState(stats, "ambiguous", 5, 3, 41'200);
  AddState(stats, "recovering", 2, 1, 35'000);
  const RouterSample sample = RouterSampleOf(9, stats);
  EXPECT_EQ(sample.t_s, 9);
  EXPECT_EQ(sample.queued, 7);
  EXPECT_EQ(sample.in_flight, 3);
  EXPECT_EQ(sample.settled_default, 100);
  EXPECT_EQ(sample.settled_fallback, 20);
  EXPECT_EQ(sample.recovering, 2);
  EXPECT_EQ(sample.undecided, 4);
  EXPECT_EQ(sample.oldest_undecided_ms, 41'200);

  EXPECT_EQ(RouterSampleOf(1, rinha::v1::RouterStatsResponse()).oldest_undecided_ms, 0);
}

// Router/Stats on port 0 answering two undecided payments, the oldest 41.2 s old.
class FakeRouterStats final : public rinha::v1::Router::Service {
 public:
  grpc::Status Stats(grpc::ServerContext*, const rinha::v1::RouterStatsRequest*,
                     rinha::v1::RouterStatsResponse* response) override {
    ++calls;
    response->set_queued(1);
    response->set_undecided(2);
    AddState(*response, "ambiguous", 2, 2, 41'200);
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
};

TEST(ContestRunTest, RouterStatsBecomeTheRunsPerSecondRouterSeries) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented";
#endif
  FakeRouterStats router;
  int router_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &router_port);
  builder.RegisterService(&router);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(router_port, 0);

  FakeTarget target;
  FakeProcessor def(kDefaultSummary);
  FakeProcessor fb(kFallbackSummary);
  RunConfig config = ShortRun(target, def, fb);
  config.duration_s = 2;
  config.timeline = "none";
  config.router_stats = absl::StrCat("127.0.0.1:", router_port);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("rinha_contest_run_router_" + std::to_string(getpid())))
                              .string();
  config.out_dir = dir;
  absl::StatusOr<RunRecord> run = RunContest(config, RealClock::Get(), nullptr);
  server->Shutdown();
  ASSERT_TRUE(run.ok()) << run.status();

  EXPECT_GE(router.calls.load(), 2);  // the base sample and one a second
  ASSERT_FALSE(run->router.empty());
  EXPECT_EQ(run->router.back().undecided, 2);
  EXPECT_EQ(run->router.back().oldest_undecided_ms, 41'200);
  const std::string run_json = ReadFile(dir + "/run.json");
  EXPECT_NE(run_json.find(R"("router_queued":1,"router_in_flight":0,"router_recovering":0,)"
                          R"("router_undecided":2,"router_oldest_undecided_ms":41200})"),
            std::string::npos)
      << run_json;
  std::filesystem::remove_all(dir);
}

TEST(ContestRunTest, AnswersSlowerThanTheTimeoutAreFailures) {
  FakeTarget target(/*hold=*/true);
  FakeProcessor def(kDefaultSummary);
  FakeProcessor fb(kFallbackSummary);
  RunConfig config = ShortRun(target, def, fb);
  config.duration_s = 2;
  config.max_vus = 3;
  config.timeout_ms = 200;
  config.timeline = "none";
  absl::StatusOr<RunRecord> run = RunContest(config, RealClock::Get(), nullptr);
  target.Release();
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_GE(run->requests, 3);
  EXPECT_EQ(run->ok, 0);
  EXPECT_EQ(run->failed, run->requests);
  EXPECT_EQ(run->timeouts, run->requests);
  EXPECT_EQ(run->p99_ms, 0);
}

TEST(ContestRunTest, AdminCodeOtherThanTheContestsAbortsTheRun) {
  FakeTarget target;
  FakeProcessor def(kDefaultSummary, /*admin_status=*/204);
  FakeProcessor fb(kFallbackSummary);
  absl::StatusOr<RunRecord> run = RunContest(ShortRun(target, def, fb), RealClock::Get(), nullptr);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(run.status().message().find("HTTP 204"), absl::string_view::npos) << run.status();
  EXPECT_EQ(target.posts(), 0);
}

TEST(ContestRunTest, CancelStopsTheRunAndResetsTheProcessors) {
  FakeTarget target;
  FakeProcessor def(kDefaultSummary);
  FakeProcessor fb(kFallbackSummary);
  RunConfig config = ShortRun(target, def, fb);
  config.duration_s = 300;  // would take five minutes
  std::atomic<bool> cancel{true};
  config.cancel = &cancel;
  absl::StatusOr<RunRecord> run = RunContest(config, RealClock::Get(), nullptr);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), absl::StatusCode::kCancelled);
  const std::vector<std::string> calls = def.calls();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls[calls.size() - 2], R"(PUT /admin/configurations/delay {"delay":0})");
  EXPECT_EQ(calls.back(), R"(PUT /admin/configurations/failure {"failure":false})");
}

TEST(ContestRunTest, TargetNotReadyIsAnError) {
  FakeProcessor def(kDefaultSummary);
  FakeProcessor fb(kFallbackSummary);
  FakeServer broken;  // answers 404 to everything
  broken.Start();
  RunConfig config;
  config.target = broken.url();
  config.default_processor = def.url();
  config.fallback_processor = fb.url();
  config.ready_timeout_ms = 300;
  absl::StatusOr<RunRecord> run = RunContest(config, RealClock::Get(), nullptr);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace rinha::contest
