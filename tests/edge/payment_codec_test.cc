#include "edge/payment_codec.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::edge {
namespace {

using ::testing::HasSubstr;

constexpr char kId[] = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";

absl::StatusOr<rinha::v1::Payment> Decode(std::string_view body) {
  rinha::v1::Payment payment;
  absl::Status status = DecodePayment(body, &payment);
  if (!status.ok()) return status;
  return payment;
}

int StatusFor(std::string_view body) {
  absl::StatusOr<rinha::v1::Payment> p = Decode(body);
  EXPECT_FALSE(p.ok()) << body;
  return HttpStatusForDecodeError(p.status());
}

TEST(DecodePaymentTest, ReadsTheContestBody) {
  absl::StatusOr<rinha::v1::Payment> p =
      Decode(R"({"correlationId": "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3", "amount": 19.90})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->correlation_id(), kId);
  EXPECT_EQ(p->amount_cents(), 1990);
  EXPECT_EQ(p->accepted_at_ms(), 0);
}

TEST(DecodePaymentTest, KeepsTheAmountExactly) {
  EXPECT_EQ(Decode(R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20.05})")
                ->amount_cents(),
            2005);
  EXPECT_EQ(Decode(R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":19.9})")
                ->amount_cents(),
            1990);
  EXPECT_EQ(Decode(R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":1})")
                ->amount_cents(),
            100);
  EXPECT_EQ(Decode(R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":2005e-2})")
                ->amount_cents(),
            2005);
  EXPECT_EQ(Decode(R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":0.1000000})")
                ->amount_cents(),
            10);
  EXPECT_EQ(Decode(R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":0.01})")
                ->amount_cents(),
            1);
}

TEST(DecodePaymentTest, CanonicalisesTheCorrelationIdToLowerCase) {
  absl::StatusOr<rinha::v1::Payment> p =
      Decode(R"({"amount":1,"correlationId":"4A7901B8-7D26-4D9D-AA19-4DC1C7CF60B3"})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->correlation_id(), kId);
}

TEST(DecodePaymentTest, IgnoresUnknownMembersWhateverTheirType) {
  absl::StatusOr<rinha::v1::Payment> p = Decode(
      R"({"requestedAt":"2025-07-15T12:34:56.000Z","correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3",)"
      R"("x":{"a":[1,2,{"b":null}]},"amount":20.05,"y":true,"z":"\u00e9\ud83d\ude00"})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->amount_cents(), 2005);
}

TEST(DecodePaymentTest, AcceptsAnEscapedKeyAndSurroundingWhitespace) {
  absl::StatusOr<rinha::v1::Payment> p = Decode(
      " \n{\"correl\\u0061tionId\" : \"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\" ,\"amount\":3}\t ");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->amount_cents(), 300);
}

TEST(DecodePaymentTest, MalformedJsonIs400) {
  for (std::string_view body : {
           "",
           " ",
           "null",
           "[]",
           "\"x\"",
           "{",
           "}",
           "{\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\",\"amount\":1",
           "{\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\",\"amount\":1}x",
           "{\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\",\"amount\":1}{}",
           "{\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\",\"amount\":1,}",
           "{\"correlationId\":'4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3',\"amount\":1}",
           "{correlationId:\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\",amount:1}",
           "{\"amount\":01,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"}",
           "{\"amount\":1.,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"}",
           "{\"amount\":.5,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"}",
           "{\"amount\":+1,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"}",
           "{\"amount\":NaN,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"}",
           "{\"amount\":1,\"amount\":1,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"}",
           "{\"amount\":1,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\","
           "\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b4\"}",
           "{\"amount\":1,\"\\u0061mount\":2,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-"
           "4dc1c7cf60b3\"}",
           "{\"amount\":1,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\",\"z\":"
           "\"\xff\"}",
           "{\"amount\":1,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\",\"z\":"
           "\"\\ud800\"}",
           "\xef\xbb\xbf{\"amount\":1,\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"}",
       }) {
    EXPECT_EQ(StatusFor(body), 400) << body;
  }
}

TEST(DecodePaymentTest, EmbeddedNulIsMalformed) {
  constexpr char kBody[] =
      "{\"amount\":1,\0\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"}";
  EXPECT_EQ(StatusFor(std::string_view(kBody, sizeof(kBody) - 1)), 400);
}

TEST(DecodePaymentTest, WellFormedButInvalidIs422) {
  for (
      std::string_view body : {
          "{}",
          R"({"amount":1})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3"})",
          R"({"correlationId":null,"amount":1})",
          R"({"correlationId":42,"amount":1})",
          R"({"correlationId":"","amount":1})",
          R"({"correlationId":"not-a-uuid","amount":1})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b","amount":1})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3 ","amount":1})",
          R"({"correlationId":"{4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3}","amount":1})",
          R"({"correlationId":"4a7901b87d264d9daa194dc1c7cf60b3","amount":1})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60bg","amount":1})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":"19.90"})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":null})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":true})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":[1]})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":{"v":1}})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":0})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":0.00})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":-0})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":-1})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":19.999})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":0.001})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":1e-3})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":1e999999999})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":99999999999999999999999})",
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":1000000000.01})",
      }) {
    EXPECT_EQ(StatusFor(body), 422) << body;
  }
}

TEST(DecodePaymentTest, AcceptsTheDocumentedMaximumAndNothingAbove) {
  absl::StatusOr<rinha::v1::Payment> p =
      Decode(R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":1e9})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->amount_cents(), kMaxAmountCents);
  EXPECT_EQ(
      StatusFor(
          R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":1000000000.01})"),
      422);
}

TEST(DecodePaymentTest, ErrorsCarryAShortReason) {
  absl::StatusOr<rinha::v1::Payment> p =
      Decode(R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":-5})");
  EXPECT_THAT(p.status().message(), HasSubstr("positive"));
  p = Decode(R"({"amount":5})");
  EXPECT_THAT(p.status().message(), HasSubstr("correlationId"));
}

TEST(DecodePaymentTest, HugeBodiesOfGarbageFailQuickly) {
  EXPECT_EQ(StatusFor(std::string(1 << 20, '[')), 400);
  EXPECT_EQ(StatusFor("{\"a\":" + std::string(100'000, '[') + "}"), 400);
  EXPECT_EQ(StatusFor("{\"amount\":1" + std::string(100'000, '0') +
                      ",\"correlationId\":\"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3\"}"),
            422);
}

TEST(ErrorJsonTest, EscapesTheMessage) {
  EXPECT_EQ(ErrorJson("bad \"x\"\n"), R"({"error":"bad \"x\"\u000a"})");
}

TEST(ParseSummaryQueryTest, NoBoundsMeansUnbounded) {
  absl::StatusOr<rinha::v1::SummaryRequest> r = ParseSummaryQuery(std::nullopt, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_from_ms());
  EXPECT_FALSE(r->has_to_ms());
  r = ParseSummaryQuery("", "");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_from_ms());
  EXPECT_FALSE(r->has_to_ms());
}

TEST(ParseSummaryQueryTest, ReadsMillisecondBounds) {
  absl::StatusOr<rinha::v1::SummaryRequest> r =
      ParseSummaryQuery("2025-07-15T12:34:56.000Z", "2025-07-15T12:35:56.789Z");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->from_ms(), 1752582896000);
  EXPECT_EQ(r->to_ms(), 1752582956789);
}

TEST(ParseSummaryQueryTest, ReadsBoundsWithoutMillisecondsOrWithoutZone) {
  absl::StatusOr<rinha::v1::SummaryRequest> r =
      ParseSummaryQuery("2025-07-15T12:34:56Z", "2025-07-15T12:34:57");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->from_ms(), 1752582896000);
  EXPECT_EQ(r->to_ms(), 1752582897000);
}

TEST(ParseSummaryQueryTest, FromRoundsUpAndToRoundsDownToTheMillisecond) {
  absl::StatusOr<rinha::v1::SummaryRequest> r =
      ParseSummaryQuery("2025-07-15T12:34:56.0001Z", "2025-07-15T12:34:56.9999Z");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->from_ms(), 1752582896001);
  EXPECT_EQ(r->to_ms(), 1752582896999);
}

TEST(ParseSummaryQueryTest, OnlyOneBound) {
  absl::StatusOr<rinha::v1::SummaryRequest> r =
      ParseSummaryQuery(std::nullopt, "2025-07-15T12:34:56.000Z");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_from_ms());
  EXPECT_EQ(r->to_ms(), 1752582896000);
}

TEST(ParseSummaryQueryTest, HonoursAnOffset) {
  absl::StatusOr<rinha::v1::SummaryRequest> r =
      ParseSummaryQuery("2025-07-15T09:34:56.000-03:00", std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->from_ms(), 1752582896000);
}

// Read as leniently as a processor's echo (common/iso_time.h): a 400 reads as a zero summary to
// the auditor, which costs far more than leniency.
TEST(ParseSummaryQueryTest, AcceptsAMissingZoneAndASpaceForTheT) {
  for (std::string_view text : {"2025-07-15T12:34:56", "2025-07-15T12:34:56.000",
                                "2025-07-15 12:34:56Z", "2025-07-15 12:34:56.000"}) {
    absl::StatusOr<rinha::v1::SummaryRequest> r = ParseSummaryQuery(text, text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status();
    EXPECT_EQ(r->from_ms(), 1752582896000) << text;
    EXPECT_EQ(r->to_ms(), 1752582896000) << text;
  }
}

TEST(ParseSummaryQueryTest, UnparsableBoundIsInvalidArgument) {
  for (std::string_view bad :
       {"x", "2025-07-15", "2025-13-15T12:34:56Z", "2025-07-15T25:00:00Z", "1752582896000",
        "2025-07-15T12:34:56.000ZZ", "2025-07-15T12:34:56.Z", "2025-07-15T12:34:56 "}) {
    EXPECT_EQ(ParseSummaryQuery(bad, std::nullopt).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(ParseSummaryQuery(std::nullopt, bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(AppendSummaryJsonTest, WritesTheContestShapeWithTwoDecimals) {
  rinha::v1::SummaryResponse s;
  s.mutable_default_totals()->set_total_requests(3);
  s.mutable_default_totals()->set_total_amount_cents(6015);
  s.mutable_fallback_totals()->set_total_requests(1);
  s.mutable_fallback_totals()->set_total_amount_cents(1990);
  std::string out;
  AppendSummaryJson(s, &out);
  EXPECT_EQ(out, R"({"default":{"totalRequests":3,"totalAmount":60.15},)"
                 R"("fallback":{"totalRequests":1,"totalAmount":19.90}})");
}

TEST(AppendSummaryJsonTest, EmptyLedgerIsZeros) {
  std::string out;
  AppendSummaryJson(rinha::v1::SummaryResponse(), &out);
  EXPECT_EQ(out, R"({"default":{"totalRequests":0,"totalAmount":0.00},)"
                 R"("fallback":{"totalRequests":0,"totalAmount":0.00}})");
}

TEST(AppendSummaryJsonTest, LargeTotalsStayExact) {
  rinha::v1::SummaryResponse s;
  s.mutable_default_totals()->set_total_requests(90600);
  s.mutable_default_totals()->set_total_amount_cents(181653000);
  s.mutable_fallback_totals()->set_total_amount_cents(5);
  std::string out;
  AppendSummaryJson(s, &out);
  EXPECT_EQ(out, R"({"default":{"totalRequests":90600,"totalAmount":1816530.00},)"
                 R"("fallback":{"totalRequests":0,"totalAmount":0.05}})");
}

TEST(ParsePaymentIdTest, AnyCaseOfAUuidIsCanonical) {
  absl::StatusOr<std::string> id = ParsePaymentId("4A7901B8-7d26-4D9D-aa19-4DC1C7CF60B3");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3");
}

TEST(ParsePaymentIdTest, AnythingElseIsInvalidArgument) {
  for (const char* text :
       {"", "x", "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b", "{4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3}",
        "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3/x", "4a7901b87d264d9daa194dc1c7cf60b3"}) {
    absl::StatusOr<std::string> id = ParsePaymentId(text);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(PendingStageTest, MapsTheRoutersPendingStatesOnly) {
  using State = rinha::v1::PaymentStatus;
  EXPECT_EQ(PendingStage(State::STATE_QUEUED), PaymentStage::kQueued);
  EXPECT_EQ(PendingStage(State::STATE_IN_FLIGHT), PaymentStage::kInFlight);
  EXPECT_EQ(PendingStage(State::STATE_AMBIGUOUS), PaymentStage::kAmbiguous);
  EXPECT_EQ(PendingStage(State::STATE_RECOVERING), PaymentStage::kRecovering);
  EXPECT_EQ(PendingStage(State::STATE_SETTLED), std::nullopt);
  EXPECT_EQ(PendingStage(State::STATE_UNKNOWN), std::nullopt);
}

constexpr char kStatusId[] = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";

std::string StatusJson(PaymentStage stage, const rinha::v1::PaymentStatus& details) {
  std::string out;
  AppendPaymentStatusJson(kStatusId, stage, details, &out);
  return out;
}

TEST(AppendPaymentStatusJsonTest, ARouterStateHasWhatTheRouterKnowsAndHowLongItWaited) {
  rinha::v1::PaymentStatus queued;
  queued.set_state(rinha::v1::PaymentStatus::STATE_QUEUED);
  queued.set_amount_cents(1990);
  queued.set_pending_ms(0);
  EXPECT_EQ(StatusJson(PaymentStage::kQueued, queued),
            R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","status":"queued",)"
            R"("amount":19.90,"pendingMs":0})");
  rinha::v1::PaymentStatus ambiguous = queued;
  ambiguous.set_state(rinha::v1::PaymentStatus::STATE_AMBIGUOUS);
  ambiguous.set_processor(rinha::v1::PROCESSOR_FALLBACK);
  ambiguous.set_pending_ms(12'345);
  EXPECT_EQ(StatusJson(PaymentStage::kAmbiguous, ambiguous),
            R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","status":"ambiguous",)"
            R"("processor":"fallback","amount":19.90,"pendingMs":12345})");
  rinha::v1::PaymentStatus in_flight = ambiguous;
  in_flight.set_state(rinha::v1::PaymentStatus::STATE_IN_FLIGHT);
  in_flight.set_processor(rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_THAT(StatusJson(PaymentStage::kInFlight, in_flight),
              HasSubstr(R"("status":"in_flight","processor":"default")"));
  rinha::v1::PaymentStatus recovering = queued;
  recovering.set_state(rinha::v1::PaymentStatus::STATE_RECOVERING);
  EXPECT_THAT(StatusJson(PaymentStage::kRecovering, recovering),
              HasSubstr(R"("status":"recovering")"));
}

TEST(AppendPaymentStatusJsonTest, ASettledPaymentHasItsProcessorAmountAndRequestedAtAsSent) {
  rinha::v1::PaymentStatus settled;
  settled.set_state(rinha::v1::PaymentStatus::STATE_SETTLED);
  settled.set_processor(rinha::v1::PROCESSOR_DEFAULT);
  settled.set_amount_cents(100'000'000'000);
  settled.set_requested_at_ms(1752582896000);
  EXPECT_EQ(StatusJson(PaymentStage::kSettled, settled),
            R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","status":"settled",)"
            R"("processor":"default","amount":1000000000.00,)"
            R"("requestedAt":"2025-07-15T12:34:56.000Z"})");
}

TEST(AppendPaymentStatusJsonTest, ADetectedDoublePaymentNamesTheOtherProcessor) {
  rinha::v1::PaymentStatus settled;
  settled.set_state(rinha::v1::PaymentStatus::STATE_SETTLED);
  settled.set_processor(rinha::v1::PROCESSOR_FALLBACK);
  settled.set_also_held_by(rinha::v1::PROCESSOR_DEFAULT);
  settled.set_amount_cents(5);
  settled.set_requested_at_ms(1);
  EXPECT_EQ(StatusJson(PaymentStage::kSettled, settled),
            R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","status":"settled",)"
            R"("processor":"fallback","alsoHeldBy":"default","amount":0.05,)"
            R"("requestedAt":"1970-01-01T00:00:00.001Z"})");
}

TEST(AppendPaymentStatusJsonTest, TheEdgesOwnStagesCarryNoDetails) {
  EXPECT_EQ(StatusJson(PaymentStage::kAccepted, rinha::v1::PaymentStatus()),
            R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","status":"accepted"})");
  rinha::v1::PaymentStatus router_settled;
  router_settled.set_state(rinha::v1::PaymentStatus::STATE_SETTLED);
  EXPECT_EQ(StatusJson(PaymentStage::kSettling, router_settled),
            R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","status":"settling"})");
}

}  // namespace
}  // namespace rinha::edge
