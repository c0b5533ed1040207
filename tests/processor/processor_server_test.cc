// The emulator over real HTTP on port 0, with a fake clock wherever the test would otherwise wait.
#include "processor/processor_server.h"

#include <future>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/iso_time.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/wait.h"

namespace rinha::processor {
namespace {

constexpr int64_t kT = 1'752'582'896'000;  // 2025-07-15T12:34:56.000Z
constexpr char kJson[] = "application/json";

std::string Id(int n) { return absl::StrFormat("4a7901b8-7d26-4d9d-aa19-%012d", n); }

std::string PaymentBody(const std::string& id, const std::string& amount, int64_t at_ms) {
  return absl::StrCat(R"({"correlationId":")", id, R"(","amount":)", amount, R"(,"requestedAt":")",
                      FormatIsoMillis(at_ms), R"("})");
}

class ProcessorServerTest : public ::testing::Test {
 protected:
  void Start(ProcessorOptions processor = {}) {
    ServerOptions options;
    options.threads = 16;
    options.keep_alive_timeout_s = 1;
    options.processor = std::move(processor);
    absl::StatusOr<std::unique_ptr<ProcessorServer>> server =
        ProcessorServer::Start(clock_, std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (server_ == nullptr) return;
    // Requests still waiting on the fake clock must see the shutdown: wake them.
    server_->service().Shutdown();
    clock_.Advance(absl::Hours(1));
    server_->Stop();
  }

  httplib::Client Client(absl::Duration read_timeout = absl::Seconds(30)) {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(absl::ToChronoSeconds(read_timeout) +
                            std::chrono::duration_cast<std::chrono::microseconds>(
                                absl::ToChronoMicroseconds(read_timeout % absl::Seconds(1))));
    return client;
  }

  httplib::Result Pay(const std::string& id, const std::string& amount = "20.05",
                      int64_t at_ms = kT) {
    return Client().Post("/payments", PaymentBody(id, amount, at_ms), kJson);
  }

  httplib::Result Admin(const std::string& method, const std::string& path,
                        const std::string& body = "", const std::string& token = "123") {
    httplib::Client client = Client();
    httplib::Headers headers = {{"X-Rinha-Token", token}};
    if (method == "GET") return client.Get(path, headers);
    if (method == "PUT") return client.Put(path, headers, body, kJson);
    return client.Post(path, headers, body, kJson);
  }

  std::string Summary(const std::string& query = "") {
    httplib::Result res = Admin("GET", "/admin/payments-summary" + query);
    if (!res || res->status != 200) return "error";
    return res->body;
  }

  // Polls FakeClock::sleepers() rather than FakeClock::AwaitSleepers(): the latter's absl::Mutex
  // condition is evaluated on other threads, which the TSan build (uninstrumented Abseil)
  // reports as a race.
  bool AwaitSleepers(int n) {
    return testing::WaitUntil([&] { return clock_.sleepers() >= n; });
  }

  testing::FakeClock clock_;
  std::unique_ptr<ProcessorServer> server_;
};

TEST_F(ProcessorServerTest, PaymentIsStoredAndAnswered200) {
  Start();
  httplib::Result res = Pay(Id(1));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"message":"payment processed successfully"})");
  EXPECT_EQ(
      Summary(),
      R"({"totalAmount":20.05,"totalRequests":1,"totalFee":1.4035,"feePerTransaction":0.07})");
}

TEST_F(ProcessorServerTest, DuplicateCorrelationIdAnswers422AndIsNotCountedTwice) {
  Start();
  ASSERT_EQ(Pay(Id(1))->status, 200);
  httplib::Result again = Pay(Id(1), "99.99");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 422);
  // Ids are UUIDs: another spelling of the same one is the same payment.
  std::string upper = Id(1);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Pay(upper)->status, 422);
  EXPECT_EQ(
      Summary(),
      R"({"totalAmount":20.05,"totalRequests":1,"totalFee":1.4035,"feePerTransaction":0.07})");
}

// Only what System.Text.Json cannot bind is a 400, with an empty body as ASP.NET answers it.
// Missing members and a quoted amount are accepted, as the official does
// (processor_service_test.cc).
TEST_F(ProcessorServerTest, UnbindablePaymentAnswers400WithAnEmptyBodyAndStoresNothing) {
  Start();
  httplib::Client client = Client();
  for (const std::string& body :
       {std::string("{"), std::string("not json"), PaymentBody("not-a-uuid", "20.05", kT),
        absl::StrCat(R"({"correlationId":")", Id(1), R"(","amount":1,"requestedAt":"yesterday"})"),
        absl::StrCat(R"({"correlationId":")", Id(1),
                     R"(","amount":1,"requestedAt":"2025-07-15t12:34:56.000z"})")}) {
    httplib::Result res = client.Post("/payments", body, kJson);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_EQ(res->body, "") << body;
  }
  EXPECT_EQ(server_->service().store().Summarize(std::nullopt, std::nullopt).count, 0);
}

TEST_F(ProcessorServerTest, AmountsAreRoundedToCentsHalfToEven) {
  Start();
  ASSERT_EQ(Pay(Id(1), "0.125")->status, 200);
  ASSERT_EQ(Pay(Id(2), "0.135")->status, 200);
  ASSERT_EQ(Pay(Id(3), "19.9")->status, 200);
  // requestedAt reads back as the official's Postgres timestamp prints: no zone, no ".000".
  EXPECT_EQ(Client().Get("/payments/" + Id(1))->body,
            absl::StrCat(R"({"correlationId":")", Id(1),
                         R"(","amount":0.12,"requestedAt":"2025-07-15T12:34:56"})"));
  EXPECT_EQ(Client().Get("/payments/" + Id(2))->body,
            absl::StrCat(R"({"correlationId":")", Id(2),
                         R"(","amount":0.14,"requestedAt":"2025-07-15T12:34:56"})"));
  EXPECT_EQ(
      Summary(),
      R"({"totalAmount":20.16,"totalRequests":3,"totalFee":1.4112,"feePerTransaction":0.07})");
}

// An id that is no Guid fails the official's route binding: 400, not 404.
TEST_F(ProcessorServerTest, GetPaymentAnswers200WithThePayment404WhenUnknownAnd400WhenNoGuid) {
  Start();
  ASSERT_EQ(Pay(Id(1), "20.05", kT + 123)->status, 200);
  httplib::Result found = Client().Get("/payments/" + Id(1));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, 200);
  EXPECT_EQ(found->get_header_value("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(found->body,
            absl::StrCat(R"({"correlationId":")", Id(1),
                         R"(","amount":20.05,"requestedAt":"2025-07-15T12:34:56.123"})"));
  EXPECT_EQ(Client().Get("/payments/" + Id(2))->status, 404);
  EXPECT_EQ(Client().Get("/payments/not-a-uuid")->status, 400);
}

TEST_F(ProcessorServerTest, GetPaymentIsNeitherDelayedNorFailing) {
  Start({.initial_delay_ms = 0});
  ASSERT_EQ(Pay(Id(1))->status, 200);
  ASSERT_EQ(Admin("PUT", "/admin/configurations/delay", R"({"delay":5000})")->status, 200);
  ASSERT_EQ(Admin("PUT", "/admin/configurations/failure", R"({"failure":true})")->status, 200);
  // The fake clock never moves here: a delayed answer would time out instead.
  httplib::Result res = Client(absl::Seconds(5)).Get("/payments/" + Id(1));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(ProcessorServerTest, UnknownPathsAnswer404) {
  Start();
  EXPECT_EQ(Client().Get("/nope")->status, 404);
  EXPECT_EQ(Client().Post("/payments-summary", "", kJson)->status, 404);
  EXPECT_EQ(Client().Get("/admin/unknown")->status, 404);
}

TEST_F(ProcessorServerTest, AdminEndpointsAnswer401WithoutTheToken) {
  Start();
  struct Call {
    std::string method, path, body;
  };
  const Call calls[] = {{"GET", "/admin/payments-summary", ""},
                        {"PUT", "/admin/configurations/token", R"({"token":"x"})"},
                        {"PUT", "/admin/configurations/delay", R"({"delay":10})"},
                        {"PUT", "/admin/configurations/failure", R"({"failure":true})"},
                        {"POST", "/admin/purge-payments", ""},
                        {"GET", "/admin/payments/ids", ""},
                        {"GET", "/admin/health-calls", ""}};
  for (const Call& call : calls) {
    httplib::Result wrong = Admin(call.method, call.path, call.body, "wrong");
    ASSERT_TRUE(wrong) << call.path;
    EXPECT_EQ(wrong->status, 401) << call.path;
    httplib::Client client = Client();
    httplib::Result missing = call.method == "GET"   ? client.Get(call.path)
                              : call.method == "PUT" ? client.Put(call.path, call.body, kJson)
                                                     : client.Post(call.path, call.body, kJson);
    ASSERT_TRUE(missing) << call.path;
    EXPECT_EQ(missing->status, 401) << call.path;
  }
  // Nothing changed.
  httplib::Result health = Client().Get("/payments/service-health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, R"({"failing":false,"minResponseTime":0})");
}

TEST_F(ProcessorServerTest, TokenChangeRetiresTheOldToken) {
  Start();
  httplib::Result changed = Admin("PUT", "/admin/configurations/token", R"({"token":"s3cret"})");
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->status, 204);
  EXPECT_EQ(Admin("GET", "/admin/payments-summary", "", "123")->status, 401);
  EXPECT_EQ(Admin("GET", "/admin/payments-summary", "", "s3cret")->status, 200);
}

TEST_F(ProcessorServerTest, DelayAndFailureChangesReportWasAndIsAndShowInHealth) {
  Start();
  httplib::Result delay = Admin("PUT", "/admin/configurations/delay", R"({"delay":1000})");
  ASSERT_TRUE(delay);
  EXPECT_EQ(delay->status, 200);
  EXPECT_EQ(delay->body, R"({"config":"delay","was":0,"is":1000})");
  httplib::Result failure = Admin("PUT", "/admin/configurations/failure", R"({"failure":true})");
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->status, 200);
  EXPECT_EQ(failure->body, R"({"config":"failure","was":false,"is":true})");
  httplib::Result health = Client().Get("/payments/service-health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"failing":true,"minResponseTime":1000})");
  // Any int is a delay for the official (a negative one sleeps not at all); no int is a 400.
  EXPECT_EQ(Admin("PUT", "/admin/configurations/delay", R"({"delay":-1})")->body,
            R"({"config":"delay","was":1000,"is":-1})");
  EXPECT_EQ(Admin("PUT", "/admin/configurations/delay", R"({"delay":1.5})")->status, 400);
  EXPECT_EQ(Admin("PUT", "/admin/configurations/failure", R"({"failure":"yes"})")->status, 400);
}

TEST_F(ProcessorServerTest, SummaryBoundsAreInclusiveAtExactMilliseconds) {
  Start({.fee = FeeRate{10, 2}});
  ASSERT_EQ(Pay(Id(1), "1.00", kT - 1)->status, 200);
  ASSERT_EQ(Pay(Id(2), "2.00", kT)->status, 200);
  ASSERT_EQ(Pay(Id(3), "3.00", kT + 5)->status, 200);
  ASSERT_EQ(Pay(Id(4), "4.00", kT + 6)->status, 200);
  const std::string window =
      absl::StrCat("?from=", FormatIsoMillis(kT), "&to=", FormatIsoMillis(kT + 5));
  EXPECT_EQ(Summary(window),
            R"({"totalAmount":5.00,"totalRequests":2,"totalFee":0.5000,"feePerTransaction":0.10})");
  // Without both bounds every row counts.
  EXPECT_EQ(
      Summary(absl::StrCat("?from=", FormatIsoMillis(kT))),
      R"({"totalAmount":10.00,"totalRequests":4,"totalFee":1.0000,"feePerTransaction":0.10})");
  EXPECT_EQ(Admin("GET", "/admin/payments-summary?from=yesterday&to=today")->status, 400);
}

TEST_F(ProcessorServerTest, PurgeRemovesEveryPayment) {
  Start();
  ASSERT_EQ(Pay(Id(1))->status, 200);
  httplib::Result purged = Admin("POST", "/admin/purge-payments");
  ASSERT_TRUE(purged);
  EXPECT_EQ(purged->status, 200);
  EXPECT_EQ(purged->body, R"({"message":"All payments purged."})");
  // No rows: COALESCE(SUM(amount), 0) is a scale-0 zero, times the fee's scale.
  EXPECT_EQ(Summary(),
            R"({"totalAmount":0,"totalRequests":0,"totalFee":0.00,"feePerTransaction":0.07})");
  EXPECT_EQ(Pay(Id(1))->status, 200);
}

TEST_F(ProcessorServerTest, PaymentIdsListsStoredIdsSortedWindowedAndPurged) {
  Start();
  EXPECT_EQ(Admin("GET", "/admin/payments/ids")->body, "[]");
  ASSERT_EQ(Pay(Id(2), "1.00", kT)->status, 200);
  ASSERT_EQ(Pay(Id(1), "1.00", kT - 1)->status, 200);
  ASSERT_EQ(Pay(Id(3), "1.00", kT + 5)->status, 200);
  httplib::Result all = Admin("GET", "/admin/payments/ids");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->status, 200);
  EXPECT_EQ(all->get_header_value("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(all->body, absl::StrCat(R"([")", Id(1), R"(",")", Id(2), R"(",")", Id(3), R"("])"));
  // The window is the admin summary's: inclusive, and only when both bounds are given.
  EXPECT_EQ(Admin("GET", absl::StrCat("/admin/payments/ids?from=", FormatIsoMillis(kT),
                                      "&to=", FormatIsoMillis(kT + 5)))
                ->body,
            absl::StrCat(R"([")", Id(2), R"(",")", Id(3), R"("])"));
  EXPECT_EQ(Admin("GET", absl::StrCat("/admin/payments/ids?from=", FormatIsoMillis(kT)))->body,
            all->body);
  EXPECT_EQ(Admin("GET", "/admin/payments/ids?from=yesterday&to=today")->status, 400);
  ASSERT_EQ(Admin("POST", "/admin/purge-payments")->status, 200);
  EXPECT_EQ(Admin("GET", "/admin/payments/ids")->body, "[]");
}

TEST_F(ProcessorServerTest, DelayIsAppliedBeforeTheFailure500) {
  Start({.initial_delay_ms = 1000, .initial_failure = true});
  std::future<httplib::Result> pending = std::async(std::launch::async, [&] { return Pay(Id(1)); });
  ASSERT_TRUE(AwaitSleepers(1));
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  clock_.Advance(absl::Milliseconds(1000));
  httplib::Result res = pending.get();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->body, "");
  EXPECT_EQ(server_->service().store().Summarize(std::nullopt, std::nullopt).count, 0);
}

TEST_F(ProcessorServerTest, PaymentIsStoredOnlyAfterTheDelay) {
  Start({.initial_delay_ms = 1000});
  std::future<httplib::Result> pending = std::async(std::launch::async, [&] { return Pay(Id(1)); });
  ASSERT_TRUE(AwaitSleepers(1));
  EXPECT_FALSE(server_->service().store().Find(Id(1)).has_value());
  clock_.Advance(absl::Milliseconds(999));
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(pending.get()->status, 200);
  EXPECT_TRUE(server_->service().store().Find(Id(1)).has_value());
}

TEST_F(ProcessorServerTest, PaymentIsStoredEvenWhenTheClientGaveUp) {
  Start({.initial_delay_ms = 1000});
  httplib::Result res =
      Client(absl::Milliseconds(100)).Post("/payments", PaymentBody(Id(1), "20.05", kT), kJson);
  EXPECT_FALSE(res);  // the client timed out and closed its connection
  ASSERT_TRUE(AwaitSleepers(1));
  clock_.Advance(absl::Milliseconds(1000));
  EXPECT_TRUE(testing::WaitUntil(
      [&] { return server_->service().store().Summarize(std::nullopt, std::nullopt).count == 1; }));
  EXPECT_EQ(
      Summary(),
      R"({"totalAmount":20.05,"totalRequests":1,"totalFee":1.4035,"feePerTransaction":0.07})");
}

TEST_F(ProcessorServerTest, LimiterOverflowAnswers429WithRetryAfter) {
  Start({.initial_delay_ms = 1000, .max_in_flight = 1, .max_queued = 1});
  std::future<httplib::Result> first = std::async(std::launch::async, [&] { return Pay(Id(1)); });
  ASSERT_TRUE(AwaitSleepers(1));
  std::future<httplib::Result> second = std::async(std::launch::async, [&] { return Pay(Id(2)); });
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->service().limiter().queued() == 1; }));

  httplib::Result rejected = Pay(Id(3));
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 429);
  EXPECT_EQ(rejected->get_header_value("Retry-After"), "5");
  // GET /payments/{id} shares the limiter.
  EXPECT_EQ(Client().Get("/payments/" + Id(1))->status, 429);

  clock_.Advance(absl::Milliseconds(1000));
  EXPECT_EQ(first.get()->status, 200);
  ASSERT_TRUE(AwaitSleepers(1));  // the queued one now serves its own delay
  clock_.Advance(absl::Milliseconds(1000));
  EXPECT_EQ(second.get()->status, 200);
  EXPECT_FALSE(server_->service().store().Find(Id(3)).has_value());
}

TEST_F(ProcessorServerTest, HealthCheckQueuesTwoCallsThenAnswers429) {
  Start({.initial_delay_ms = 42});
  httplib::Result first = Client().Get("/payments/service-health");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, R"({"failing":false,"minResponseTime":42})");

  auto health = [&] { return Client().Get("/payments/service-health"); };
  std::future<httplib::Result> second = std::async(std::launch::async, health);
  ASSERT_TRUE(AwaitSleepers(1));
  std::future<httplib::Result> third = std::async(std::launch::async, health);
  ASSERT_TRUE(AwaitSleepers(2));
  httplib::Result rejected = health();
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 429);

  clock_.Advance(absl::Seconds(5));  // the next window opens: the oldest queued call is answered
  EXPECT_EQ(second.get()->status, 200);
  EXPECT_EQ(third.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(third.get()->status, 200);
  // The emulator's count of them: four calls within one window, two queued, one refused.
  EXPECT_EQ(Admin("GET", "/admin/health-calls")->body,
            R"({"calls":4,"queued":2,"rejected":1,"maxPerWindow":4,"windowMs":5000})");
}

TEST_F(ProcessorServerTest, HealthCallsCountsACallerThatKeepsToTheBudget) {
  Start();
  EXPECT_EQ(Admin("GET", "/admin/health-calls")->body,
            R"({"calls":0,"queued":0,"rejected":0,"maxPerWindow":0,"windowMs":5000})");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Client().Get("/payments/service-health")->status, 200);
    clock_.Advance(absl::Milliseconds(5100));
  }
  EXPECT_EQ(Admin("GET", "/admin/health-calls")->body,
            R"({"calls":3,"queued":0,"rejected":0,"maxPerWindow":1,"windowMs":5000})");
  EXPECT_EQ(Admin("POST", "/admin/health-calls")->status, 405);
}

TEST(ProcessorServerStartTest, RejectsSettingsThatWouldHangOrDivideByZero) {
  testing::FakeClock clock;
  auto start = [&](ProcessorOptions processor) {
    ServerOptions options;
    options.threads = 2;
    options.processor = processor;
    return ProcessorServer::Start(clock, options).status().code();
  };
  EXPECT_EQ(start({.health_window = absl::ZeroDuration()}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start({.max_in_flight = 0}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start({.max_queued = -1}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start({.initial_delay_ms = -5}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start({}), absl::StatusCode::kOk);
}

TEST(ProcessorServerRealClockTest, DelayTakesRealTime) {
  ServerOptions options;
  options.threads = 4;
  options.processor.initial_delay_ms = 200;
  auto server = ProcessorServer::Start(RealClock::Get(), options);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  const absl::Time start = absl::Now();
  httplib::Result res = client.Post("/payments", PaymentBody(Id(1), "20.05", kT), kJson);
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_GE(took, absl::Milliseconds(200));
  EXPECT_LT(took, absl::Seconds(5));
}

}  // namespace
}  // namespace rinha::processor
