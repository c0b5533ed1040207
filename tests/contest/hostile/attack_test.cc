// Attack specs: parsing, defaults per mode, and the bytes each attack sends.
#include "contest/hostile/attack.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseAttackTest, ModeAloneTakesItsDefaults) {
  absl::StatusOr<AttackSpec> spec = ParseAttack("half-open");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->mode, AttackMode::kHalfOpen);
  EXPECT_EQ(spec->conns, 256);
  EXPECT_EQ(spec->text, "half-open");
  EXPECT_EQ(ParseAttack("invalid")->conns, 16);
  EXPECT_EQ(ParseAttack("big-body")->size, 1 << 20);
  EXPECT_EQ(ParseAttack("reset")->rate, 200);
}

TEST(ParseAttackTest, KeysSetTheirFields) {
  absl::StatusOr<AttackSpec> spec = ParseAttack("slow-body:conns=10,interval_ms=250,body_bytes=99");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->mode, AttackMode::kSlowBody);
  EXPECT_EQ(spec->conns, 10);
  EXPECT_EQ(spec->interval_ms, 250);
  EXPECT_EQ(spec->body_bytes, 99);
  EXPECT_EQ(ParseAttack("invalid:rate=5000,conns=4,reconnect_ms=0")->reconnect_ms, 0);
}

TEST(ParseAttackTest, RejectsUnknownModesKeysOfOtherModesAndBadValues) {
  EXPECT_THAT(ParseAttack("ddos").status().message(), HasSubstr("unknown attack"));
  EXPECT_THAT(ParseAttack("idle:rate=5").status().message(), HasSubstr("takes conns"));
  EXPECT_FALSE(ParseAttack("reset:conns=5").ok());
  EXPECT_FALSE(ParseAttack("idle:conns").ok());
  EXPECT_FALSE(ParseAttack("idle:conns=x").ok());
  EXPECT_FALSE(ParseAttack("idle:conns=0").ok());
  EXPECT_FALSE(ParseAttack("invalid:rate=-1").ok());
  EXPECT_TRUE(ParseAttack("idle:reconnect_ms=0").ok());
}

TEST(AttackBytesTest, SlowHeadDripsWholeHeaderLinesThatNeverEndTheHead) {
  std::string dripped;
  for (int i = 0; i < 110; ++i) dripped += SlowHeadByte(i);
  EXPECT_THAT(dripped, StartsWith("X-Drip: d\r\nX-Drip: d\r\n"));
  EXPECT_EQ(dripped.find("\r\n\r\n"), std::string::npos);
  EXPECT_EQ(HeadPrefix("h:1"), "POST /payments HTTP/1.1\r\nHost: h:1\r\n");
}

TEST(AttackBytesTest, BigRequestsHaveTheAskedSizeAndAreWellFramed) {
  const std::string head = BigHeadRequest("h", 70000);
  EXPECT_NEAR(static_cast<double>(head.size()), 70000, 64);
  EXPECT_EQ(head.find("\r\n\r\n"), head.size() - 4);
  const std::string body = BigBodyRequest("h", 5000);
  EXPECT_THAT(body, HasSubstr("Content-Length: 5000\r\n\r\n"));
  EXPECT_EQ(body.size() - body.find("\r\n\r\n") - 4, 5000u);
  EXPECT_THAT(SlowBodyHead("h", 4000), HasSubstr("Content-Length: 4000\r\n\r\n"));
  EXPECT_EQ(HalfOpenHead("h", 0), HeadPrefix("h"));
  const std::string half = HalfOpenHead("h", 3000);
  EXPECT_EQ(half.size(), 3000u);
  EXPECT_EQ(half.find("\r\n\r\n"), std::string::npos);
  EXPECT_EQ(ParseAttack("half-open:size=3000")->size, 3000);
}

TEST(AttackBytesTest, InvalidRequestsCarryNoValidPayment) {
  const auto requests = InvalidRequests("h");
  ASSERT_GE(requests.size(), 6u);
  for (const std::string& r : requests) {
    // A valid payment has a UUID and a positive amount; none of these has both.
    const bool uuid = r.find("4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3") != std::string::npos;
    const bool positive_amount =
        r.find("\"amount\":1") != std::string::npos || r.find("\"amount\":2") != std::string::npos;
    EXPECT_FALSE(uuid && positive_amount) << r;
  }
}

}  // namespace
}  // namespace rinha::contest
