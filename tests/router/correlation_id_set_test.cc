#include "router/correlation_id_set.h"

#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace rinha::router {
namespace {

std::string Uuid(uint64_t n) {
  return absl::StrFormat("%08x-0000-4000-8000-%012x", static_cast<uint32_t>(n >> 8), n);
}

TEST(CorrelationIdSetTest, SecondInsertOfAnIdIsADuplicate) {
  CorrelationIdSet set(10);
  EXPECT_EQ(set.Insert(Uuid(1)), CorrelationIdSet::InsertResult::kNew);
  EXPECT_EQ(set.Insert(Uuid(1)), CorrelationIdSet::InsertResult::kDuplicate);
  EXPECT_EQ(set.Insert(Uuid(2)), CorrelationIdSet::InsertResult::kNew);
  EXPECT_TRUE(set.Contains(Uuid(2)));
  EXPECT_EQ(set.size(), 2);
}

TEST(CorrelationIdSetTest, NonCanonicalIdsAreKeptAsText) {
  CorrelationIdSet set(10);
  EXPECT_EQ(set.Insert("not-a-uuid"), CorrelationIdSet::InsertResult::kNew);
  EXPECT_EQ(set.Insert("not-a-uuid"), CorrelationIdSet::InsertResult::kDuplicate);
  // Upper case is not canonical, so it is a different id here (the edge canonicalises).
  EXPECT_EQ(set.Insert("A0000000-0000-4000-8000-000000000001"),
            CorrelationIdSet::InsertResult::kNew);
}

TEST(CorrelationIdSetTest, RefusesBeyondItsBoundInsteadOfForgetting) {
  CorrelationIdSet set(2);
  EXPECT_EQ(set.Insert(Uuid(1)), CorrelationIdSet::InsertResult::kNew);
  EXPECT_EQ(set.Insert(Uuid(2)), CorrelationIdSet::InsertResult::kNew);
  EXPECT_EQ(set.Insert(Uuid(3)), CorrelationIdSet::InsertResult::kFull);
  EXPECT_EQ(set.Insert(Uuid(1)), CorrelationIdSet::InsertResult::kDuplicate);
}

TEST(CorrelationIdSetTest, ClearForgetsEverything) {
  CorrelationIdSet set(1000);
  for (int i = 0; i < 100; ++i) set.Insert(Uuid(i));
  EXPECT_EQ(set.Clear(), 100);
  EXPECT_EQ(set.size(), 0);
  EXPECT_EQ(set.Insert(Uuid(5)), CorrelationIdSet::InsertResult::kNew);
}

TEST(CorrelationIdSetTest, HoldsAHundredThousandIdsExactly) {
  CorrelationIdSet set(200000);
  for (uint64_t i = 0; i < 100000; ++i) {
    ASSERT_EQ(set.Insert(Uuid(i * 7919)), CorrelationIdSet::InsertResult::kNew);
  }
  for (uint64_t i = 0; i < 100000; ++i) ASSERT_TRUE(set.Contains(Uuid(i * 7919)));
  EXPECT_FALSE(set.Contains(Uuid(1)));
  EXPECT_EQ(set.size(), 100000);
}

TEST(CorrelationIdSetTest, ParsesAllHexDigitsOfACanonicalUuid) {
  absl::uint128 v;
  ASSERT_TRUE(ParseCanonicalUuid("0123abcd-ef01-4567-89ab-cdef01234567", &v));
  EXPECT_EQ(absl::Uint128High64(v), 0x0123abcdef014567ULL);
  EXPECT_EQ(absl::Uint128Low64(v), 0x89abcdef01234567ULL);
  EXPECT_FALSE(ParseCanonicalUuid("0123ABCD-ef01-4567-89ab-cdef01234567", &v));
}

}  // namespace
}  // namespace rinha::router
