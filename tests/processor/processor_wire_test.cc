// The emulator's answers over real HTTP (port 0, raw socket), compared byte for byte with what
// the official processor's Kestrel sends: JSON bodies chunked with
// "application/json; charset=utf-8", no body as Content-Length: 0 (204: neither), 405 with Allow,
// the limiter's 429 in plain text. Fake clock: nothing here sleeps.
#include <future>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "processor/processor_server.h"
#include "tests/processor/response_socket.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/wait.h"

namespace rinha::processor {
namespace {

constexpr char kId[] = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";

std::string IdOf(int n) { return absl::StrFormat("00000000-0000-4000-8000-%012d", n); }

// A request; `content_type` empty: no Content-Type header.
std::string Request(const std::string& method, const std::string& path,
                    const std::string& body = "",
                    const std::string& content_type = "application/json",
                    const std::string& token = "123") {
  std::string head =
      absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: t\r\nX-Rinha-Token: ", token, "\r\n");
  if (!content_type.empty()) absl::StrAppend(&head, "Content-Type: ", content_type, "\r\n");
  return absl::StrCat(head, "Content-Length: ", body.size(), "\r\n\r\n", body);
}

std::string Payment(const std::string& id, const std::string& amount, const std::string& at) {
  return absl::StrCat(R"({"correlationId":")", id, R"(","amount":)", amount, R"(,"requestedAt":")",
                      at, R"("})");
}

// What Kestrel sends for a JSON body on a keep-alive connection.
std::string JsonWire(int status, const std::string& reason, const std::string& body) {
  return absl::StrCat("HTTP/1.1 ", status, " ", reason,
                      "\r\nContent-Type: application/json; charset=utf-8\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n",
                      absl::Hex(body.size()), "\r\n", body, "\r\n0\r\n\r\n");
}
std::string EmptyWire(int status, const std::string& reason, const std::string& headers = "") {
  return absl::StrCat("HTTP/1.1 ", status, " ", reason, "\r\n", headers,
                      "Content-Length: 0\r\n\r\n");
}

using Socket = testing::ResponseSocket;

class ProcessorWireTest : public ::testing::Test {
 protected:
  void Start(ProcessorOptions processor = {}) {
    ServerOptions options;
    options.threads = 16;
    options.processor = std::move(processor);
    auto server = ProcessorServer::Start(clock_, std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    socket_ = std::make_unique<Socket>(server_->port());
  }

  void TearDown() override {
    if (server_ == nullptr) return;
    server_->service().Shutdown();
    clock_.Advance(absl::Hours(1));
    server_->Stop();
  }

  // One request on the test's keep-alive connection: the response's exact bytes.
  std::string Wire(const std::string& request) {
    if (!socket_->Send(request)) return "send failed";
    return socket_->Read().wire;
  }

  testing::FakeClock clock_;
  std::unique_ptr<ProcessorServer> server_;
  std::unique_ptr<Socket> socket_;
};

TEST_F(ProcessorWireTest, RoutersPaymentIsAnswered200ChunkedAndReadsBackUnzoned) {
  Start();
  EXPECT_EQ(Wire(Request("POST", "/payments", Payment(kId, "20.05", "2025-07-15T12:34:56.780Z"))),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
            "2c\r\n{\"message\":\"payment processed successfully\"}\r\n0\r\n\r\n");
  EXPECT_EQ(Wire(Request("GET", absl::StrCat("/payments/", kId))),
            JsonWire(200, "OK",
                     absl::StrCat(R"({"correlationId":")", kId,
                                  R"(","amount":20.05,"requestedAt":"2025-07-15T12:34:56.78"})")));
}

TEST_F(ProcessorWireTest, EachAmountAndRequestedAtShapeReadsBackAsTheOfficialPrintsIt) {
  Start();
  struct Case {
    const char* amount;
    const char* at;
    const char* amount_back;
    const char* at_back;
  };
  const Case cases[] = {
      {"20.05", "2025-07-15T12:34:56.000Z", "20.05", "2025-07-15T12:34:56"},
      {"19.9", "2025-07-15T12:34:56.780Z", "19.9", "2025-07-15T12:34:56.78"},
      {"19.90", "2025-07-15T12:34:56.789Z", "19.90", "2025-07-15T12:34:56.789"},
      {"20.00", "2025-07-15T12:34:56.123456Z", "20.00", "2025-07-15T12:34:56.123456"},
      {"20", "2025-07-15T12:34:56.1234567Z", "20", "2025-07-15T12:34:56.123456"},
      {"1000", "2025-07-15T12:34:56", "1000", "2025-07-15T12:34:56"},
      {"19.999", "2025-07-15", "20.00", "2025-07-15T00:00:00"},
      {"0.125", "2025-07-15T14:34:56.5+02:00", "0.12", "2025-07-15T12:34:56.5"},
      {"2005e-2", "2025-07-15T12:34Z", "20.05", "2025-07-15T12:34:00"},
      {"\"19.90\"", "2025-07-15T12:34:56.010Z", "19.90", "2025-07-15T12:34:56.01"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string id = IdOf(n++);
    ASSERT_EQ(socket_->Send(Request("POST", "/payments", Payment(id, c.amount, c.at))), true);
    ASSERT_EQ(socket_->Read().status, 200) << c.amount << " " << c.at;
    EXPECT_EQ(Wire(Request("GET", "/payments/" + id)),
              JsonWire(200, "OK",
                       absl::StrCat(R"({"correlationId":")", id, R"(","amount":)", c.amount_back,
                                    R"(,"requestedAt":")", c.at_back, R"("})")))
        << c.amount << " " << c.at;
  }
}

TEST_F(ProcessorWireTest, MissingMembersAreStoredWithDotNetDefaults) {
  Start();
  ASSERT_EQ(socket_->Send(Request("POST", "/payments", "{}")), true);
  EXPECT_EQ(socket_->Read().status, 200);
  EXPECT_EQ(Wire(Request("GET", "/payments/00000000000000000000000000000000")),
            JsonWire(200, "OK",
                     R"({"correlationId":"00000000-0000-0000-0000-000000000000","amount":0,)"
                     R"("requestedAt":"0001-01-01T00:00:00"})"));
}

TEST_F(ProcessorWireTest, GetPaymentAnswers404And400WithNoBody) {
  Start();
  ASSERT_EQ(socket_->Send(Request("POST", "/payments", Payment(kId, "1", "2025-07-15T12:34:56Z"))),
            true);
  ASSERT_EQ(socket_->Read().status, 200);
  const std::string found =
      JsonWire(200, "OK",
               absl::StrCat(R"({"correlationId":")", kId,
                            R"(","amount":1,"requestedAt":"2025-07-15T12:34:56"})"));
  EXPECT_EQ(Wire(Request("GET", "/payments/{4A7901B8-7D26-4D9D-AA19-4DC1C7CF60B3}")), found);
  EXPECT_EQ(Wire(Request("GET", "/payments/(4a7901b87d264d9daa194dc1c7cf60b3)")),
            EmptyWire(400, "Bad Request"));
  EXPECT_EQ(Wire(Request("GET", "/payments/%284a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3%29")), found);
  EXPECT_EQ(Wire(Request("GET", "/payments/" + IdOf(1))), EmptyWire(404, "Not Found"));
  EXPECT_EQ(Wire(Request("GET", "/payments/not-a-uuid")), EmptyWire(400, "Bad Request"));
}

TEST_F(ProcessorWireTest, RejectedPaymentsAnswerTheirStatusWithAnEmptyBody) {
  Start();
  EXPECT_EQ(Wire(Request("POST", "/payments", "not json")), EmptyWire(400, "Bad Request"));
  EXPECT_EQ(Wire(Request("POST", "/payments", Payment(kId, "1", "2025-07-15t12:34:56Z"))),
            EmptyWire(400, "Bad Request"));
  EXPECT_EQ(Wire(Request("POST", "/payments", Payment(kId, "1", "2025-07-15T12:34:56Z"), "")),
            EmptyWire(415, "Unsupported Media Type"));
  EXPECT_EQ(
      Wire(Request("POST", "/payments", Payment(kId, "1", "2025-07-15T12:34:56Z"), "text/plain")),
      EmptyWire(415, "Unsupported Media Type"));
  ASSERT_EQ(Wire(Request("PUT", "/admin/configurations/failure", R"({"failure":true})"))
                .rfind("HTTP/1.1 200 OK\r\n", 0),
            0u);
  EXPECT_EQ(Wire(Request("POST", "/payments", Payment(kId, "1", "2025-07-15T12:34:56Z"))),
            EmptyWire(500, "Internal Server Error"));
}

TEST_F(ProcessorWireTest, DuplicateAnswers422WithItsMessageChunked) {
  Start();
  ASSERT_EQ(socket_->Send(Request("POST", "/payments", Payment(kId, "1", "2025-07-15T12:34:56Z"))),
            true);
  ASSERT_EQ(socket_->Read().status, 200);
  EXPECT_EQ(Wire(Request("POST", "/payments", Payment(kId, "2", "2025-07-15T12:34:57Z"))),
            JsonWire(422, "Unprocessable Entity",
                     absl::StrCat(R"({"message":"Payment could not be processed. )",
                                  R"(CorrelationId already exists: )", kId, R"(."})")));
}

TEST_F(ProcessorWireTest, LimiterOverflowAnswers429InPlainTextChunkedWithRetryAfter) {
  Start({.initial_delay_ms = 1000, .max_in_flight = 1, .max_queued = 0});
  Socket held(server_->port());
  ASSERT_TRUE(held.Send(Request("POST", "/payments", Payment(kId, "1", "2025-07-15T12:34:56Z"))));
  ASSERT_TRUE(testing::WaitUntil([&] { return clock_.sleepers() == 1; }));
  const std::string too_many =
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
      "22\r\nCalm down, bitch. Try again later.\r\n0\r\n\r\n";
  EXPECT_EQ(Wire(Request("POST", "/payments", Payment(IdOf(1), "1", "2025-07-15T12:34:56Z"))),
            too_many);
  EXPECT_EQ(Wire(Request("GET", "/payments/" + IdOf(1))), too_many);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(held.Read().status, 200);
}

TEST_F(ProcessorWireTest, AdminAnswersAreTheOfficialsByteForByte) {
  Start({.fee = FeeRate{5, 2}});
  EXPECT_EQ(Wire(Request("GET", "/admin/payments-summary")),
            JsonWire(200, "OK",
                     R"({"totalAmount":0,"totalRequests":0,"totalFee":0.00,)"
                     R"("feePerTransaction":0.05})"));
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(socket_->Send(
                  Request("POST", "/payments", Payment(IdOf(i), "19.9", "2025-07-15T12:34:56Z"))),
              true);
    ASSERT_EQ(socket_->Read().status, 200);
  }
  EXPECT_EQ(Wire(Request(
                "GET", "/admin/payments-summary?from=2025-07-15T12:34:56&to=2025-07-15T12:34:56")),
            JsonWire(200, "OK",
                     R"({"totalAmount":39.8,"totalRequests":2,"totalFee":1.990,)"
                     R"("feePerTransaction":0.05})"));
  EXPECT_EQ(Wire(Request("GET", "/admin/payments-summary?from=yesterday&to=today", "", "", "bad")),
            EmptyWire(400, "Bad Request"));
  EXPECT_EQ(Wire(Request("GET", "/admin/payments-summary", "", "", "bad")),
            EmptyWire(401, "Unauthorized"));
  EXPECT_EQ(Wire(Request("PUT", "/admin/configurations/delay", R"({"delay":-5})")),
            JsonWire(200, "OK", R"({"config":"delay","was":0,"is":-5})"));
  EXPECT_EQ(Wire(Request("PUT", "/admin/configurations/delay", R"({"delay":"7"})", "", "bad")),
            EmptyWire(415, "Unsupported Media Type"));
  EXPECT_EQ(Wire(Request("PUT", "/admin/configurations/delay", "{", "application/json", "bad")),
            EmptyWire(400, "Bad Request"));
  EXPECT_EQ(Wire(Request("PUT", "/admin/configurations/failure", "{}")),
            JsonWire(200, "OK", R"({"config":"failure","was":false,"is":false})"));
  EXPECT_EQ(Wire(Request("POST", "/admin/purge-payments")),
            JsonWire(200, "OK", R"({"message":"All payments purged."})"));
  EXPECT_EQ(Wire(Request("PUT", "/admin/configurations/token", R"({"token":"t"})")),
            "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(Wire(Request("GET", "/payments/service-health")),
            JsonWire(200, "OK", R"({"failing":false,"minResponseTime":-5})"));
}

TEST_F(ProcessorWireTest, KnownPathWithAnotherMethodAnswers405WithAllow) {
  Start();
  EXPECT_EQ(Wire(Request("GET", "/payments")),
            EmptyWire(405, "Method Not Allowed", "Allow: POST\r\n"));
  EXPECT_EQ(Wire(Request("DELETE", "/payments/" + std::string(kId))),
            EmptyWire(405, "Method Not Allowed", "Allow: GET\r\n"));
  EXPECT_EQ(Wire(Request("POST", "/payments/service-health")),
            EmptyWire(405, "Method Not Allowed", "Allow: GET\r\n"));
  EXPECT_EQ(Wire(Request("HEAD", "/admin/payments-summary")),
            EmptyWire(405, "Method Not Allowed", "Allow: GET\r\n"));
  EXPECT_EQ(Wire(Request("GET", "/admin/configurations/delay")),
            EmptyWire(405, "Method Not Allowed", "Allow: PUT\r\n"));
  EXPECT_EQ(Wire(Request("GET", "/admin/purge-payments")),
            EmptyWire(405, "Method Not Allowed", "Allow: POST\r\n"));
  EXPECT_EQ(Wire(Request("GET", "/nope")), EmptyWire(404, "Not Found"));
  EXPECT_EQ(Wire(Request("PUT", "/admin/configurations/unknown", "{}")),
            EmptyWire(404, "Not Found"));
  EXPECT_EQ(Wire(Request("GET", "/payments/a/b")), EmptyWire(404, "Not Found"));
}

// ASP.NET's routing: literal segments in any case, a trailing '/' ignored, query names in any case.
TEST_F(ProcessorWireTest, PathsMatchInAnyCaseWithOrWithoutATrailingSlash) {
  Start();
  EXPECT_EQ(socket_->Send(Request("POST", "/Payments/", Payment(kId, "1", "2025-07-15T12:34:56Z"))),
            true);
  EXPECT_EQ(socket_->Read().status, 200);
  EXPECT_EQ(
      Wire(Request("GET",
                   "/ADMIN/payments-summary/?FROM=2025-07-15T12:34:57Z&To=2025-07-15T12:34:58Z")),
      JsonWire(200, "OK",
               R"({"totalAmount":0,"totalRequests":0,"totalFee":0.00,)"
               R"("feePerTransaction":0.07})"));
  // A bound given twice binds as "a,b", which is no date.
  EXPECT_EQ(Wire(Request("GET",
                         "/admin/"
                         "payments-summary?from=2025-07-15T12:34:57Z&from=2025-07-15T12:34:57Z&to="
                         "2025-07-15T12:34:58Z")),
            EmptyWire(400, "Bad Request"));
}

TEST_F(ProcessorWireTest, ConnectionCloseIsRepeatedAfterTheFraming) {
  Start();
  Socket s(server_->port());
  ASSERT_TRUE(s.Send("GET /payments/service-health HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(s.Read().wire,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            "25\r\n{\"failing\":false,\"minResponseTime\":0}\r\n0\r\n\r\n");
  EXPECT_TRUE(s.ClosedByServer());
}

TEST_F(ProcessorWireTest, IdsWithInsertedAtIsAnExtraWithTheSameFraming) {
  Start();
  const int64_t t0 = clock_.NowMillis();
  ASSERT_EQ(socket_->Send(Request("POST", "/payments", Payment(kId, "1", "2025-07-15T12:34:56Z"))),
            true);
  ASSERT_EQ(socket_->Read().status, 200);
  EXPECT_EQ(
      Wire(Request("GET", "/admin/payments/ids?with=inserted_at")),
      JsonWire(200, "OK",
               absl::StrCat(R"([{"correlationId":")", kId, R"(","insertedAtMs":)", t0, "}]")));
  EXPECT_EQ(Wire(Request("GET", "/admin/payments/ids")),
            JsonWire(200, "OK", absl::StrCat(R"([")", kId, R"("])")));
}

}  // namespace
}  // namespace rinha::processor
