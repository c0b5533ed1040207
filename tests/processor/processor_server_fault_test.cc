// The emulator's fault modes seen from a raw client socket: what arrives (reset, garbage,
// truncated body, dripping head, 429, refused connect, 500) and what the emulator then holds
// (GET /payments/{id}, the admin summary, the ids listing). Fake clock: nothing here sleeps.
#include <cerrno>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/iso_time.h"
#include "common/json.h"
#include "gtest/gtest.h"
#include "processor/processor_server.h"
#include "tests/processor/response_socket.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/wait.h"

namespace rinha::processor {
namespace {

constexpr int64_t kT = 1'752'582'896'000;
constexpr char kOk[] = R"({"message":"payment processed successfully"})";

std::string Id(int n) { return absl::StrFormat("4a7901b8-7d26-4d9d-aa19-%012d", n); }

std::string Request(const std::string& method, const std::string& path,
                    const std::string& body = "", const std::string& token = "123") {
  return absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: t\r\nX-Rinha-Token: ", token,
                      "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(),
                      "\r\n\r\n", body);
}

std::string PostPayment(int n) {
  return Request("POST", "/payments",
                 absl::StrCat(R"({"correlationId":")", Id(n), R"(","amount":20.05,"requestedAt":")",
                              FormatIsoMillis(kT), R"("})"));
}

// Reads chunked bodies (the emulator answers as Kestrel does).
using Socket = testing::ResponseSocket;
using testing::Http1Socket;

class ProcessorFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.threads = 16;
    auto server = ProcessorServer::Start(clock_, std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    server_->service().Shutdown();
    clock_.Advance(absl::Hours(1));
    server_->Stop();
  }

  // One request on a fresh connection.
  Socket::Response Call(const std::string& request) {
    Socket s(server_->port());
    if (!s.Send(request)) return {};
    return s.Read();
  }
  Socket::Response SetFault(const std::string& json) {
    return Call(Request("PUT", "/admin/configurations/fault", json));
  }
  int LookUp(int n) { return Call(Request("GET", "/payments/" + Id(n))).status; }
  std::string Summary() { return Call(Request("GET", "/admin/payments-summary")).body; }
  std::string Ids() { return Call(Request("GET", "/admin/payments/ids")).body; }

  testing::FakeClock clock_;
  std::unique_ptr<ProcessorServer> server_;
};

constexpr char kOneStored[] =
    R"({"totalAmount":20.05,"totalRequests":1,"totalFee":1.4035,"feePerTransaction":0.07})";
constexpr char kNoneStored[] =
    R"({"totalAmount":0,"totalRequests":0,"totalFee":0.00,"feePerTransaction":0.07})";

TEST_F(ProcessorFaultTest, FaultChangesAnswerWasAndIsLikeTheOtherConfigurations) {
  Socket::Response set = SetFault(R"({"mode":"reset"})");
  EXPECT_EQ(set.status, 200);
  EXPECT_EQ(set.headers["Content-Type"], "application/json; charset=utf-8");
  EXPECT_EQ(set.body,
            R"({"config":"fault","was":{"mode":"none"},"is":{"mode":"reset","probability":1}})");
  EXPECT_EQ(SetFault(R"({"mode":"slow_headers","probability":0.5,"interval_ms":20})").body,
            R"({"config":"fault","was":{"mode":"reset","probability":1},)"
            R"("is":{"mode":"slow_headers","probability":0.5,"interval_ms":20}})");
  EXPECT_EQ(SetFault(R"({"mode":"none"})").body,
            R"({"config":"fault","was":{"mode":"slow_headers","probability":0.5,)"
            R"("interval_ms":20},"is":{"mode":"none"}})");
  EXPECT_EQ(SetFault(R"({"mode":"explode"})").status, 400);
  EXPECT_EQ(SetFault(R"({"mode":"refuse"})").status, 400);  // a refusal needs its duration
  EXPECT_EQ(SetFault("not json").status, 400);
  EXPECT_EQ(
      Call(Request("PUT", "/admin/configurations/fault", R"({"mode":"reset"})", "wrong")).status,
      401);
  // Nothing of the rejected ones took effect.
  EXPECT_EQ(Call(PostPayment(1)).status, 200);
}

TEST_F(ProcessorFaultTest, ResetCutsTheHeadWithATcpResetAfterStoringThePayment) {
  ASSERT_EQ(SetFault(R"({"mode":"reset"})").status, 200);
  Socket s(server_->port());
  ASSERT_TRUE(s.Send(PostPayment(1)));
  const Http1Socket::Ending ending = s.ReadUntilClosed();
  EXPECT_EQ(ending.error, ECONNRESET);
  EXPECT_FALSE(ending.bytes.empty());
  EXPECT_EQ(ending.bytes.find("\r\n\r\n"), std::string::npos);  // never a whole head
  EXPECT_EQ(ending.bytes.rfind("HTTP/1.1 ", 0), 0u) << ending.bytes;
  EXPECT_EQ(LookUp(1), 200);
  EXPECT_EQ(Summary(), kOneStored);
  EXPECT_EQ(Ids(), absl::StrCat(R"([")", Id(1), R"("])"));
}

TEST_F(ProcessorFaultTest, GarbageAnswers200WithABodyThatIsNotJsonAfterStoring) {
  ASSERT_EQ(SetFault(R"({"mode":"garbage"})").status, 200);
  Socket s(server_->port());
  ASSERT_TRUE(s.Send(PostPayment(1)));
  const Socket::Response r = s.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body.empty());
  EXPECT_FALSE(
      ParseJsonObject(r.body, [](std::string_view, const JsonValue&) { return absl::OkStatus(); })
          .ok())
      << r.body;
  EXPECT_EQ(LookUp(1), 200);
  EXPECT_EQ(Summary(), kOneStored);
  // The answer was complete: the connection stays usable.
  ASSERT_TRUE(s.Send(Request("GET", "/payments/" + Id(1))));
  EXPECT_EQ(s.Read().status, 200);
}

// Bodies go chunked (as Kestrel sends them): the cut falls inside the one chunk's data, so neither
// the chunk nor the body ever ends.
TEST_F(ProcessorFaultTest, TruncatedSendsTheHeadAndHalfTheChunkedBodyThenCloses) {
  ASSERT_EQ(SetFault(R"({"mode":"truncated"})").status, 200);
  Socket s(server_->port());
  ASSERT_TRUE(s.Send(PostPayment(1)));
  const Http1Socket::Ending ending = s.ReadUntilClosed();
  EXPECT_EQ(ending.error, 0);  // a clean close, not a reset
  const size_t head_end = ending.bytes.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << ending.bytes;
  const std::string head = ending.bytes.substr(0, head_end);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  EXPECT_EQ(head.find("Connection: close"), std::string::npos);  // nothing announced the close
  const std::string body = ending.bytes.substr(head_end + 4);
  const std::string size_line = absl::StrCat(absl::Hex(std::string(kOk).size()), "\r\n");
  const std::string whole = absl::StrCat(size_line, kOk, "\r\n0\r\n\r\n");
  EXPECT_EQ(whole.rfind(body, 0), 0u) << body;  // the start of the real chunked body
  EXPECT_GT(body.size(), size_line.size());
  EXPECT_LT(body.size(), size_line.size() + std::string(kOk).size());  // the chunk is cut
  EXPECT_EQ(LookUp(1), 200);
  EXPECT_EQ(Summary(), kOneStored);
}

TEST_F(ProcessorFaultTest, SlowHeadersDripsTheHeadOneByteEachIntervalAfterStoring) {
  ASSERT_EQ(SetFault(R"({"mode":"slow_headers","interval_ms":100})").status, 200);
  Socket s(server_->port());
  ASSERT_TRUE(s.Send(PostPayment(1)));
  // The fake clock does not move until the test moves it: one byte is all that can arrive.
  std::string received = s.ReadSome();
  EXPECT_EQ(received, "H");
  EXPECT_EQ(LookUp(1), 200);  // stored before the answer began
  const std::string expected =
      FormatReply(HttpReply{.status = 200, .body = kOk, .content_type = kJsonContentType}, false);
  const size_t head_size = expected.find("\r\n\r\n") + 4;
  int intervals = 0;
  while (received.size() < head_size) {
    // The worker pauses after each byte; once it sleeps, one interval releases one byte.
    ASSERT_TRUE(testing::WaitUntil([&] { return clock_.sleepers() == 1; }));
    clock_.Advance(absl::Milliseconds(100));
    ++intervals;
    const std::string some = s.ReadSome();
    ASSERT_FALSE(some.empty()) << received;
    if (received.size() + 1 < head_size) {
      EXPECT_EQ(some.size(), 1u) << received;
    }
    received += some;
  }
  while (received.size() < expected.size()) {
    const std::string some = s.ReadSome();
    ASSERT_FALSE(some.empty()) << received;
    received += some;
  }
  EXPECT_EQ(received, expected);
  EXPECT_EQ(intervals, static_cast<int>(head_size) - 1);
  EXPECT_EQ(Summary(), kOneStored);
}

TEST_F(ProcessorFaultTest, TooManyRequestsAnswers429AtOnceAndStoresNothing) {
  // A delay on a clock that never moves: a payment that reached it would never be answered.
  ASSERT_EQ(Call(Request("PUT", "/admin/configurations/delay", R"({"delay":1000})")).status, 200);
  ASSERT_EQ(SetFault(R"({"mode":"429"})").status, 200);
  Socket s(server_->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.Send(PostPayment(i)));
    Socket::Response r = s.Read();
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.headers["Retry-After"], "5");
    EXPECT_EQ(LookUp(i), 404);
  }
  EXPECT_EQ(Summary(), kNoneStored);
  EXPECT_EQ(Ids(), "[]");
  // Health is not part of the storm.
  EXPECT_EQ(Call(Request("GET", "/payments/service-health")).status, 200);
}

TEST_F(ProcessorFaultTest, PartialStormMixes429WithStoredPayments) {
  ASSERT_EQ(SetFault(R"({"mode":"429","probability":0.5})").status, 200);
  Socket s(server_->port());
  int rejected = 0;
  int stored = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(s.Send(PostPayment(i)));
    const int status = s.Read().status;
    ASSERT_TRUE(status == 200 || status == 429) << status;
    (status == 200 ? stored : rejected) += 1;
  }
  // Each outcome missing would be a 2^-200 event.
  EXPECT_GT(rejected, 0);
  EXPECT_GT(stored, 0);
  EXPECT_EQ(server_->service().store().Summarize(std::nullopt, std::nullopt).count, stored);
}

TEST_F(ProcessorFaultTest, RefuseAnswersThenClosesEveryConnectionAndRefusesConnects) {
  Socket idle(server_->port());
  ASSERT_TRUE(idle.connected());
  Socket admin(server_->port());
  ASSERT_TRUE(admin.Send(
      Request("PUT", "/admin/configurations/fault", R"({"mode":"refuse","duration_ms":3600000})")));
  const Socket::Response set = admin.Read();
  EXPECT_EQ(set.status, 200);
  EXPECT_EQ(set.body, R"({"config":"fault","was":{"mode":"none"},)"
                      R"("is":{"mode":"refuse","duration_ms":3600000}})");
  // The listener is closed before the connections, so once they are gone connects fail.
  EXPECT_TRUE(admin.ClosedByServer());
  EXPECT_TRUE(idle.ClosedByServer());
  // listening() turns false just after the last connection is closed.
  EXPECT_TRUE(testing::WaitUntil([&] { return !server_->listening(); }));
  Socket refused(server_->port());
  EXPECT_FALSE(refused.connected());
  EXPECT_EQ(refused.connect_error(), ECONNREFUSED);
}

TEST_F(ProcessorFaultTest, AfterARefusalTheSamePortListensAgainWithNoFault) {
  ASSERT_EQ(SetFault(R"({"mode":"garbage"})").status, 200);
  ASSERT_EQ(SetFault(R"({"mode":"refuse","duration_ms":50})").status, 200);
  // Real time: the refusal is the event loop's, whatever the service's clock.
  ASSERT_TRUE(testing::WaitUntil([&] { return !server_->listening(); }));
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->listening(); }));
  EXPECT_EQ(SetFault(R"({"mode":"none"})").body,
            R"({"config":"fault","was":{"mode":"none"},"is":{"mode":"none"}})");
  const Socket::Response paid = Call(PostPayment(1));
  EXPECT_EQ(paid.status, 200);
  EXPECT_EQ(paid.body, kOk);
}

TEST_F(ProcessorFaultTest, StoreThen500AnswersAFailureForAPaymentItKeeps) {
  ASSERT_EQ(SetFault(R"({"mode":"store_then_500"})").status, 200);
  const Socket::Response r = Call(PostPayment(1));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(LookUp(1), 200);
  EXPECT_EQ(Summary(), kOneStored);
  EXPECT_EQ(Ids(), absl::StrCat(R"([")", Id(1), R"("])"));
  // A retry is told 500 again and still counted once; without the fault it is the usual 422.
  EXPECT_EQ(Call(PostPayment(1)).status, 500);
  EXPECT_EQ(Summary(), kOneStored);
  ASSERT_EQ(SetFault(R"({"mode":"none"})").status, 200);
  EXPECT_EQ(Call(PostPayment(1)).status, 422);
}

// For a client's handling of lookups that fail while payments still go through (the project's
// operability test sticks a payment with it).
TEST_F(ProcessorFaultTest, Lookups503FailsEveryLookupAndNothingElse) {
  ASSERT_EQ(SetFault(R"({"mode":"lookups_503"})").status, 200);
  const Socket::Response paid = Call(PostPayment(1));
  EXPECT_EQ(paid.status, 200);
  EXPECT_EQ(paid.body, kOk);
  EXPECT_EQ(LookUp(1), 503);
  EXPECT_EQ(LookUp(2), 503);
  EXPECT_EQ(Summary(), kOneStored);
  ASSERT_EQ(SetFault(R"({"mode":"none"})").status, 200);
  EXPECT_EQ(LookUp(1), 200);
  EXPECT_EQ(LookUp(2), 404);
}

TEST_F(ProcessorFaultTest, FailureModeComesFirstSoAStoringFaultNeverStoresAFailedPayment) {
  ASSERT_EQ(Call(Request("PUT", "/admin/configurations/failure", R"({"failure":true})")).status,
            200);
  ASSERT_EQ(SetFault(R"({"mode":"store_then_500"})").status, 200);
  EXPECT_EQ(Call(PostPayment(1)).status, 500);
  EXPECT_EQ(LookUp(1), 404);
  EXPECT_EQ(Summary(), kNoneStored);
}

TEST_F(ProcessorFaultTest, ZeroProbabilityLeavesEveryAnswerHealthy) {
  ASSERT_EQ(SetFault(R"({"mode":"reset","probability":0})").status, 200);
  Socket s(server_->port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(s.Send(PostPayment(i)));
    EXPECT_EQ(s.Read().status, 200);
  }
}

TEST(ProcessorFaultStartTest, InitialFaultActsFromTheFirstPaymentAndIsValidated) {
  testing::FakeClock clock;
  ServerOptions options;
  options.threads = 4;
  options.processor.initial_fault = {.mode = FaultMode::kStoreThen500};
  auto server = ProcessorServer::Start(clock, options);
  ASSERT_TRUE(server.ok()) << server.status();
  Socket s((*server)->port());
  ASSERT_TRUE(s.Send(PostPayment(1)));
  EXPECT_EQ(s.Read().status, 500);
  EXPECT_TRUE((*server)->service().store().Find(Id(1)).has_value());
  (*server)->Stop();

  options.processor.initial_fault = {.mode = FaultMode::kRefuse, .duration = absl::Hours(1)};
  auto refusing = ProcessorServer::Start(clock, options);
  ASSERT_TRUE(refusing.ok()) << refusing.status();
  EXPECT_TRUE(testing::WaitUntil([&] { return !(*refusing)->listening(); }));
  (*refusing)->Stop();

  options.processor.initial_fault = {.mode = FaultMode::kRefuse};  // no duration
  EXPECT_EQ(ProcessorServer::Start(clock, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rinha::processor
