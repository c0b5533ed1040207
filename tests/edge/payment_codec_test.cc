#include "edge/payment_codec.h"

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

TEST(ParseSummaryQueryTest, UnparsableBoundIsInvalidArgument) {
  for (std::string_view bad :
       {"x", "2025-07-15", "2025-13-15T12:34:56Z", "2025-07-15T25:00:00Z", "1752582896000",
        "2025-07-15T12:34:56.000ZZ", "2025-07-15 12:34:56Z", "2025-07-15T12:34:56.Z"}) {
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

}  // namespace
}  // namespace rinha::edge
