// ProcessorService called directly: every answer's status, Content-Type, extra headers and body,
// byte for byte as the official processor gives them (docs/contest.md, "The exact answers").
// The HTTP framing of the same answers is processor_wire_test.cc's. Fake clock: nothing sleeps.
#include "processor/processor_service.h"

#include <future>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/wait.h"

namespace rinha::processor {
namespace {

constexpr char kId[] = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";
constexpr char kOk[] = R"({"message":"payment processed successfully"})";
constexpr std::string_view kJson = kJsonContentType;

using Headers = std::vector<std::pair<std::string, std::string>>;

// The parts of a reply a test compares, printable on failure.
struct Answer {
  int status;
  std::string content_type;
  Headers headers;
  std::string body;
  bool operator==(const Answer& o) const {
    return status == o.status && content_type == o.content_type && headers == o.headers &&
           body == o.body;
  }
};

void PrintTo(const Answer& a, std::ostream* os) {
  *os << a.status << " [" << a.content_type << "]";
  for (const auto& [name, value] : a.headers) *os << " " << name << ": " << value;
  *os << " «" << a.body << "»";
}

Answer Of(const HttpReply& r) { return Answer{r.status, r.content_type, r.headers, r.body}; }
Answer JsonAnswer(int status, std::string body) {
  return Answer{status, std::string(kJson), {}, std::move(body)};
}
Answer EmptyAnswer(int status) { return Answer{status, "", {}, ""}; }

// A POST /payments body, and the GET /payments/{id} body (same shape, other values).
std::string Payment(const std::string& id, const std::string& amount, const std::string& at) {
  return absl::StrCat(R"({"correlationId":")", id, R"(","amount":)", amount, R"(,"requestedAt":")",
                      at, R"("})");
}
std::string Stored(const std::string& id, const std::string& amount, const std::string& at) {
  return Payment(id, amount, at);
}

class ProcessorServiceTest : public ::testing::Test {
 protected:
  ProcessorService& Service(ProcessorOptions options = {}) {
    service_ = std::make_unique<ProcessorService>(clock_, std::move(options));
    return *service_;
  }
  void TearDown() override {
    if (service_ == nullptr) return;
    service_->Shutdown();
    clock_.Advance(absl::Hours(1));
  }
  // Pays `body` and returns what GET /payments/{id} then answers.
  Answer PayAndReadBack(std::string_view id, std::string_view body) {
    EXPECT_EQ(service_->PostPayment(body).status, 200) << body;
    return Of(service_->GetPayment(id));
  }
  std::string Summary(std::optional<std::string_view> from = std::nullopt,
                      std::optional<std::string_view> to = std::nullopt) {
    return service_->AdminSummary("123", from, to).body;
  }

  testing::FakeClock clock_;
  std::unique_ptr<ProcessorService> service_;
};

TEST_F(ProcessorServiceTest, RoutersPaymentReadsBackWithoutZoneAndTrailingZeros) {
  ProcessorService& service = Service();
  const std::string sent = Payment(kId, "20.05", "2025-07-15T12:34:56.780Z");
  EXPECT_EQ(Of(service.PostPayment(sent)), JsonAnswer(200, kOk));
  EXPECT_EQ(Of(service.GetPayment(kId)),
            JsonAnswer(200, Stored(kId, "20.05", "2025-07-15T12:34:56.78")));
}

TEST_F(ProcessorServiceTest, GetPaymentPrintsEachAmountWithTheScaleItWasSentWith) {
  Service();
  const std::pair<const char*, const char*> cases[] = {
      {"20.05", "20.05"}, {"19.9", "19.9"},     {"19.90", "19.90"},  {"20.00", "20.00"},
      {"20", "20"},       {"1000", "1000"},     {"19.999", "20.00"}, {"0.125", "0.12"},
      {"0.135", "0.14"},  {"2005e-2", "20.05"}, {"1.5e1", "15"},     {"\"19.90\"", "19.90"},
      {"-19.9", "-19.9"}, {"0.0", "0.0"}};
  int n = 0;
  for (const auto& [sent, printed] : cases) {
    const std::string id = absl::StrFormat("00000000-0000-4000-8000-%012d", n++);
    EXPECT_EQ(PayAndReadBack(id, Payment(id, sent, "2025-07-15T12:34:56.000Z")),
              JsonAnswer(200, Stored(id, printed, "2025-07-15T12:34:56")))
        << sent;
  }
}

TEST_F(ProcessorServiceTest, GetPaymentPrintsRequestedAtToTheMicrosecondWithoutZone) {
  Service();
  const std::pair<const char*, const char*> cases[] = {
      {"2025-07-15T12:34:56.780Z", "2025-07-15T12:34:56.78"},
      {"2025-07-15T12:34:56.000Z", "2025-07-15T12:34:56"},
      {"2025-07-15T12:34:56.789Z", "2025-07-15T12:34:56.789"},
      {"2025-07-15T12:34:56.123456Z", "2025-07-15T12:34:56.123456"},
      {"2025-07-15T12:34:56.1234567Z", "2025-07-15T12:34:56.123456"},  // Npgsql truncates
      {"2025-07-15T12:34:56.5", "2025-07-15T12:34:56.5"},              // no zone: UTC
      {"2025-07-15T14:34:56.1+02:00", "2025-07-15T12:34:56.1"},        // an offset applies
      {"2025-07-15T12:34", "2025-07-15T12:34:00"},
      {"2025-07-15", "2025-07-15T00:00:00"}};
  int n = 0;
  for (const auto& [sent, printed] : cases) {
    const std::string id = absl::StrCat("00000000-0000-4000-8000-00000000000", n++);
    EXPECT_EQ(PayAndReadBack(id, Payment(id, "20.05", sent)),
              JsonAnswer(200, Stored(id, "20.05", printed)))
        << sent;
  }
}

TEST_F(ProcessorServiceTest, MissingMembersTakeDotNetDefaultsAndAreStored) {
  ProcessorService& service = Service();
  EXPECT_EQ(Of(service.PostPayment("{}")), JsonAnswer(200, kOk));
  EXPECT_EQ(
      Of(service.GetPayment("00000000-0000-0000-0000-000000000000")),
      JsonAnswer(200, Stored("00000000-0000-0000-0000-000000000000", "0", "0001-01-01T00:00:00")));
  // Guid.Empty is an id like any other: a second {} is a duplicate.
  EXPECT_EQ(service.PostPayment("{}").status, 422);
  EXPECT_EQ(Of(service.PostPayment(absl::StrCat(R"({"correlationId":")", kId, R"("})"))),
            JsonAnswer(200, kOk));
  EXPECT_EQ(Of(service.GetPayment(kId)), JsonAnswer(200, Stored(kId, "0", "0001-01-01T00:00:00")));
}

TEST_F(ProcessorServiceTest, PropertyNamesMatchInAnyCaseAndUnknownOnesAreIgnored) {
  ProcessorService& service = Service();
  EXPECT_EQ(Of(service.PostPayment(absl::StrCat(
                R"({"CORRELATIONID":")", kId,
                R"(","Amount":"19.9","requestedat":"2025-07-15T12:34:56Z","extra":[1,{}]})"))),
            JsonAnswer(200, kOk));
  EXPECT_EQ(Of(service.GetPayment(kId)),
            JsonAnswer(200, Stored(kId, "19.9", "2025-07-15T12:34:56")));
}

TEST_F(ProcessorServiceTest, UnbindableBodiesAnswer400WithAnEmptyBodyAndStoreNothing) {
  ProcessorService& service = Service();
  const std::string upper_t = Payment(kId, "1", "2025-07-15t12:34:56.000Z");
  for (const std::string& body :
       {std::string(""), std::string("{"), std::string("not json"), std::string("[]"),
        std::string("null"), Payment("not-a-uuid", "1", "2025-07-15T12:34:56Z"),
        Payment("{4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3}", "1", "2025-07-15T12:34:56Z"),
        Payment("4a7901b87d264d9daa194dc1c7cf60b3", "1", "2025-07-15T12:34:56Z"),
        Payment(kId, "1", "2025-07-15t12:34:56.000Z"), Payment(kId, "1", "2025-07-15T12:34:56z"),
        Payment(kId, "1", "yesterday"), Payment(kId, "\"abc\"", "2025-07-15T12:34:56Z"),
        Payment(kId, "true", "2025-07-15T12:34:56Z"), Payment(kId, "1e999", "2025-07-15T12:34:56Z"),
        absl::StrCat(R"({"correlationId":null})"), std::string(R"({"amount":null})"),
        std::string(R"({"requestedAt":null})"), std::string(R"({"requestedAt":5})"),
        std::string(R"({"correlationId":123})")}) {
    EXPECT_EQ(Of(service.PostPayment(body)), EmptyAnswer(400)) << body;
  }
  EXPECT_EQ(service.store().Summarize(std::nullopt, std::nullopt).count, 0);
}

TEST_F(ProcessorServiceTest, BodyWithoutJsonContentTypeAnswers415) {
  ProcessorService& service = Service();
  const std::string body = Payment(kId, "1", "2025-07-15T12:34:56Z");
  EXPECT_EQ(Of(service.PostPayment(body, std::nullopt)), EmptyAnswer(415));
  EXPECT_EQ(Of(service.PostPayment(body, "text/plain")), EmptyAnswer(415));
  EXPECT_EQ(Of(service.PostPayment(body, "application/x-www-form-urlencoded")), EmptyAnswer(415));
  EXPECT_EQ(Of(service.PostPayment(body, "application/json; charset=utf-8")), JsonAnswer(200, kOk));
  EXPECT_EQ(service.store().Summarize(std::nullopt, std::nullopt).count, 1);
}

TEST_F(ProcessorServiceTest, DuplicateAnswers422WithTheOfficialsMessage) {
  ProcessorService& service = Service();
  ASSERT_EQ(service.PostPayment(Payment(kId, "1", "2025-07-15T12:34:56Z")).status, 200);
  EXPECT_EQ(Of(service.PostPayment(
                Payment("4A7901B8-7D26-4D9D-AA19-4DC1C7CF60B3", "2", "2025-07-15T12:34:56Z"))),
            JsonAnswer(422, absl::StrCat(R"({"message":"Payment could not be processed. )",
                                         R"(CorrelationId already exists: )", kId, R"(."})")));
}

TEST_F(ProcessorServiceTest, FailureAnswers500WithAnEmptyBody) {
  ProcessorService& service = Service({.initial_failure = true});
  EXPECT_EQ(Of(service.PostPayment(Payment(kId, "1", "2025-07-15T12:34:56Z"))), EmptyAnswer(500));
  EXPECT_EQ(Of(service.GetPayment(kId)), EmptyAnswer(404));
}

TEST_F(ProcessorServiceTest, LimiterOverflowAnswers429InPlainTextWithRetryAfter) {
  ProcessorService& service =
      Service({.initial_delay_ms = 1000, .max_in_flight = 1, .max_queued = 0});
  std::future<HttpReply> held = std::async(std::launch::async, [&] {
    return service.PostPayment(Payment(kId, "1", "2025-07-15T12:34:56Z"));
  });
  ASSERT_TRUE(testing::WaitUntil([&] { return clock_.sleepers() == 1; }));
  const Answer too_many{429, "", {{"Retry-After", "5"}}, "Calm down, bitch. Try again later."};
  EXPECT_EQ(Of(service.PostPayment(
                Payment("00000000-0000-4000-8000-000000000001", "1", "2025-07-15T12:34:56Z"))),
            too_many);
  EXPECT_EQ(Of(service.GetPayment(kId)), too_many);  // GET /payments/{id} shares the limiter
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(held.get().status, 200);
  EXPECT_EQ(Of(service.TooManyRequests()), too_many);
}

TEST_F(ProcessorServiceTest, RetryAfterIsTheHealthWindowInWholeSeconds) {
  EXPECT_EQ(Of(Service({.health_window = absl::Seconds(3)}).TooManyRequests()).headers,
            (Headers{{"Retry-After", "3"}}));
  EXPECT_EQ(Of(Service({.health_window = absl::Milliseconds(2500)}).TooManyRequests()).headers,
            (Headers{{"Retry-After", "3"}}));
}

TEST_F(ProcessorServiceTest, GetPaymentReadsEveryGuidFormAndPrintsItLowerCaseWithHyphens) {
  ProcessorService& service = Service();
  ASSERT_EQ(service.PostPayment(Payment(kId, "20.05", "2025-07-15T12:34:56.780Z")).status, 200);
  const Answer found = JsonAnswer(200, Stored(kId, "20.05", "2025-07-15T12:34:56.78"));
  for (const char* form :
       {"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3", "4A7901B8-7D26-4D9D-AA19-4DC1C7CF60B3",
        "4a7901b87d264d9daa194dc1c7cf60b3", "{4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3}",
        "(4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3)"}) {
    EXPECT_EQ(Of(service.GetPayment(form)), found) << form;
  }
  EXPECT_EQ(Of(service.GetPayment("00000000-0000-4000-8000-000000000001")), EmptyAnswer(404));
  EXPECT_EQ(Of(service.GetPayment("not-a-uuid")), EmptyAnswer(400));
  EXPECT_EQ(Of(service.GetPayment("4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b")), EmptyAnswer(400));
}

TEST_F(ProcessorServiceTest, EmptySummaryPrintsZerosWithTheFeesOwnScale) {
  Service({.fee = FeeRate{5, 2}});
  EXPECT_EQ(Summary(),
            R"({"totalAmount":0,"totalRequests":0,"totalFee":0.00,"feePerTransaction":0.05})");
  Service({.fee = FeeRate{1, 1}});
  EXPECT_EQ(Summary(),
            R"({"totalAmount":0,"totalRequests":0,"totalFee":0.0,"feePerTransaction":0.1})");
  Service({.fee = FeeRate{10, 2}});
  EXPECT_EQ(Summary(),
            R"({"totalAmount":0,"totalRequests":0,"totalFee":0.00,"feePerTransaction":0.10})");
  EXPECT_EQ(service_->AdminSummary("123", std::nullopt, std::nullopt).content_type, kJson);
}

TEST_F(ProcessorServiceTest, SummaryAmountHasTheLargestScaleAndTheFeeAddsTheScales) {
  ProcessorService& service = Service({.fee = FeeRate{5, 2}});
  ASSERT_EQ(service
                .PostPayment(
                    Payment("00000000-0000-4000-8000-000000000001", "19.9", "2025-07-15T12:34:56Z"))
                .status,
            200);
  ASSERT_EQ(service
                .PostPayment(
                    Payment("00000000-0000-4000-8000-000000000002", "19.9", "2025-07-15T12:34:57Z"))
                .status,
            200);
  EXPECT_EQ(Summary(),
            R"({"totalAmount":39.8,"totalRequests":2,"totalFee":1.990,"feePerTransaction":0.05})");
  ASSERT_EQ(service
                .PostPayment(
                    Payment("00000000-0000-4000-8000-000000000003", "0.00", "2025-07-15T12:34:58Z"))
                .status,
            200);
  EXPECT_EQ(
      Summary(),
      R"({"totalAmount":39.80,"totalRequests":3,"totalFee":1.9900,"feePerTransaction":0.05})");
  ASSERT_EQ(service
                .PostPayment(
                    Payment("00000000-0000-4000-8000-000000000004", "20", "2025-07-15T12:34:59Z"))
                .status,
            200);
  EXPECT_EQ(
      Summary(),
      R"({"totalAmount":59.80,"totalRequests":4,"totalFee":2.9900,"feePerTransaction":0.05})");
}

TEST_F(ProcessorServiceTest, SummaryBoundsAreInclusiveMicrosecondsAndAcceptNoZone) {
  ProcessorService& service = Service({.fee = FeeRate{7, 2}});
  const char* times[] = {"2025-07-15T12:34:56.779999Z", "2025-07-15T12:34:56.780000Z",
                         "2025-07-15T12:34:56.780001Z", "2025-07-15T12:34:56.780002Z"};
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(service
                  .PostPayment(Payment(absl::StrCat("00000000-0000-4000-8000-00000000000", i),
                                       "1.00", times[i]))
                  .status,
              200);
  }
  const std::string two =
      R"({"totalAmount":2.00,"totalRequests":2,"totalFee":0.1400,"feePerTransaction":0.07})";
  const std::string four =
      R"({"totalAmount":4.00,"totalRequests":4,"totalFee":0.2800,"feePerTransaction":0.07})";
  EXPECT_EQ(Summary("2025-07-15T12:34:56.780000Z", "2025-07-15T12:34:56.780001Z"), two);
  EXPECT_EQ(Summary("2025-07-15T12:34:56.78", "2025-07-15T12:34:56.780001"), two);
  EXPECT_EQ(Summary("2025-07-15 12:34:56.78", "2025-07-15T12:34:56.7800019"), two);
  // Npgsql sends a bound as it writes any DateTime, dropping sub-microsecond ticks (toward
  // 2000-01-01): .7799995 is .779999, so `from` is not rounded up to .780000.
  EXPECT_EQ(Summary("2025-07-15T12:34:56.7799995Z", "2025-07-15T12:34:56.780001Z"),
            R"({"totalAmount":3.00,"totalRequests":3,"totalFee":0.2100,"feePerTransaction":0.07})");
  // Either bound missing or empty: every row.
  EXPECT_EQ(Summary("2025-07-15T12:34:56.780000Z", std::nullopt), four);
  EXPECT_EQ(Summary("", "2025-07-15T12:34:56.780000Z"), four);
}

TEST_F(ProcessorServiceTest, UnparseableSummaryBoundAnswers400BeforeTheTokenCheck) {
  ProcessorService& service = Service();
  EXPECT_EQ(Of(service.AdminSummary("123", "yesterday", "today")), EmptyAnswer(400));
  EXPECT_EQ(Of(service.AdminSummary("wrong", "yesterday", std::nullopt)), EmptyAnswer(400));
  EXPECT_EQ(Of(service.AdminSummary(std::nullopt, std::nullopt, "x")), EmptyAnswer(400));
  EXPECT_EQ(Of(service.AdminSummary("wrong", std::nullopt, std::nullopt)), EmptyAnswer(401));
  EXPECT_EQ(Of(service.AdminSummary(std::nullopt, std::nullopt, std::nullopt)), EmptyAnswer(401));
}

TEST_F(ProcessorServiceTest, DelayAcceptsNegativesStringsAndAnEmptyObject) {
  ProcessorService& service = Service();
  EXPECT_EQ(Of(service.AdminSetDelay("123", R"({"delay":-5})")),
            JsonAnswer(200, R"({"config":"delay","was":0,"is":-5})"));
  // A negative delay sleeps not at all (the fake clock never moves here).
  EXPECT_EQ(service.PostPayment(Payment(kId, "1", "2025-07-15T12:34:56Z")).status, 200);
  EXPECT_EQ(service.GetHealth().body, R"({"failing":false,"minResponseTime":-5})");
  EXPECT_EQ(Of(service.AdminSetDelay("123", R"({"delay":"7"})")),
            JsonAnswer(200, R"({"config":"delay","was":-5,"is":7})"));
  EXPECT_EQ(Of(service.AdminSetDelay("123", R"({"DELAY":8})")),
            JsonAnswer(200, R"({"config":"delay","was":7,"is":8})"));
  EXPECT_EQ(Of(service.AdminSetDelay("123", "{}")),
            JsonAnswer(200, R"({"config":"delay","was":8,"is":0})"));
}

TEST_F(ProcessorServiceTest, DelayThatIsNoIntAnswers400EvenWithABadToken) {
  ProcessorService& service = Service();
  for (const char* body :
       {R"({"delay":1.5})", R"({"delay":1e3})", R"({"delay":"abc"})", R"({"delay":null})",
        R"({"delay":true})", R"({"delay":2147483648})", "not json", ""}) {
    EXPECT_EQ(Of(service.AdminSetDelay("123", body)), EmptyAnswer(400)) << body;
    EXPECT_EQ(Of(service.AdminSetDelay("wrong", body)), EmptyAnswer(400)) << body;
  }
  EXPECT_EQ(Of(service.AdminSetDelay("wrong", R"({"delay":10})")), EmptyAnswer(401));
  EXPECT_EQ(Of(service.AdminSetDelay("123", R"({"delay":10})", std::nullopt)), EmptyAnswer(415));
  EXPECT_EQ(Of(service.AdminSetDelay("wrong", R"({"delay":10})", "text/plain")), EmptyAnswer(415));
  EXPECT_EQ(Of(service.AdminSetDelay("123", R"({"delay":"-2147483648"})")),
            JsonAnswer(200, R"({"config":"delay","was":0,"is":-2147483648})"));
}

TEST_F(ProcessorServiceTest, FailureReadsBooleansOnlyAndAnEmptyObjectIsFalse) {
  ProcessorService& service = Service();
  EXPECT_EQ(Of(service.AdminSetFailure("123", R"({"failure":true})")),
            JsonAnswer(200, R"({"config":"failure","was":false,"is":true})"));
  EXPECT_EQ(Of(service.AdminSetFailure("123", "{}")),
            JsonAnswer(200, R"({"config":"failure","was":true,"is":false})"));
  EXPECT_EQ(Of(service.AdminSetFailure("123", R"({"failure":"true"})")), EmptyAnswer(400));
  EXPECT_EQ(Of(service.AdminSetFailure("wrong", R"({"failure":1})")), EmptyAnswer(400));
  EXPECT_EQ(Of(service.AdminSetFailure("wrong", R"({"failure":true})")), EmptyAnswer(401));
}

TEST_F(ProcessorServiceTest, TokenChangeAnswers204AndANullTokenMatchesOnlyAMissingHeader) {
  ProcessorService& service = Service();
  EXPECT_EQ(Of(service.AdminSetToken("123", R"({"token":"s3cret"})")), EmptyAnswer(204));
  EXPECT_EQ(service.AdminSummary("123", std::nullopt, std::nullopt).status, 401);
  EXPECT_EQ(service.AdminSummary("s3cret", std::nullopt, std::nullopt).status, 200);
  EXPECT_EQ(Of(service.AdminSetToken("s3cret", R"({"token":5})")), EmptyAnswer(400));
  // {} binds Token to null: from then on only requests without the header pass.
  EXPECT_EQ(Of(service.AdminSetToken("s3cret", "{}")), EmptyAnswer(204));
  EXPECT_EQ(service.AdminSummary("s3cret", std::nullopt, std::nullopt).status, 401);
  EXPECT_EQ(service.AdminSummary("", std::nullopt, std::nullopt).status, 401);
  EXPECT_EQ(service.AdminSummary(std::nullopt, std::nullopt, std::nullopt).status, 200);
  EXPECT_EQ(Of(service.AdminSetToken(std::nullopt, R"({"token":"123"})")), EmptyAnswer(204));
  EXPECT_EQ(service.AdminSummary(std::nullopt, std::nullopt, std::nullopt).status, 401);
  EXPECT_EQ(service.AdminSummary("123", std::nullopt, std::nullopt).status, 200);
}

TEST_F(ProcessorServiceTest, PurgeAnswersItsMessage) {
  ProcessorService& service = Service();
  EXPECT_EQ(Of(service.AdminPurge("123")),
            JsonAnswer(200, R"({"message":"All payments purged."})"));
  EXPECT_EQ(Of(service.AdminPurge(std::nullopt)), EmptyAnswer(401));
}

TEST_F(ProcessorServiceTest, IdsWithInsertedAtListEachIdWithTheEmulatorsClockAtItsInsert) {
  ProcessorService& service = Service();
  const std::string first = "00000000-0000-4000-8000-000000000002";
  const std::string second = "00000000-0000-4000-8000-000000000001";
  const int64_t t0 = clock_.NowMillis();
  ASSERT_EQ(service.PostPayment(Payment(first, "1", "2025-07-15T12:34:56Z")).status, 200);
  clock_.Advance(absl::Milliseconds(1234));
  ASSERT_EQ(service.PostPayment(Payment(second, "1", "2025-07-15T12:34:57Z")).status, 200);
  EXPECT_EQ(Of(service.AdminPaymentIds("123", std::nullopt, std::nullopt, "inserted_at")),
            JsonAnswer(200, absl::StrCat(R"([{"correlationId":")", second, R"(","insertedAtMs":)",
                                         t0 + 1234, R"(},{"correlationId":")", first,
                                         R"(","insertedAtMs":)", t0, "}]")));
  // The window is the summary's (requestedAt), and without `with` the answer is unchanged.
  EXPECT_EQ(Of(service.AdminPaymentIds("123", "2025-07-15T12:34:56Z", "2025-07-15T12:34:56Z",
                                       "inserted_at"))
                .body,
            absl::StrCat(R"([{"correlationId":")", first, R"(","insertedAtMs":)", t0, "}]"));
  EXPECT_EQ(Of(service.AdminPaymentIds("123", std::nullopt, std::nullopt)),
            JsonAnswer(200, absl::StrCat(R"([")", second, R"(",")", first, R"("])")));
  EXPECT_EQ(Of(service.AdminPaymentIds("123", std::nullopt, std::nullopt, "")).body,
            absl::StrCat(R"([")", second, R"(",")", first, R"("])"));
  EXPECT_EQ(Of(service.AdminPaymentIds("123", std::nullopt, std::nullopt, "bogus")),
            EmptyAnswer(400));
  EXPECT_EQ(Of(service.AdminPaymentIds("wrong", std::nullopt, std::nullopt, "inserted_at")),
            EmptyAnswer(401));
  ASSERT_EQ(service.AdminPurge("123").status, 200);
  EXPECT_EQ(service.AdminPaymentIds("123", std::nullopt, std::nullopt, "inserted_at").body, "[]");
}

}  // namespace
}  // namespace rinha::processor
