#include "common/shard.h"

#include <random>
#include <string>
#include <vector>

#include "common/uuid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha {
namespace {

using ::testing::ElementsAre;

TEST(Fnv1a64Test, MatchesThePublishedVectors) {
  // The FNV reference test vectors (http://www.isthe.com/chongo/tech/comp/fnv/).
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(ShardOfTest, IsPinnedForKnownIds) {
  // Data already placed depends on these: a change here moves ids away from their shard's
  // journal and ledger.
  const std::string id = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";
  EXPECT_EQ(Fnv1a64(id), 0xa6f630d1b5353739ULL);
  EXPECT_EQ(ShardOf(id, 2), 1);
  EXPECT_EQ(ShardOf(id, 3), 1);
  EXPECT_EQ(ShardOf("00000000-0000-4000-8000-000000000000", 2),
            static_cast<int>(Fnv1a64("00000000-0000-4000-8000-000000000000") % 2));
}

TEST(ShardOfTest, OneShardTakesEverything) {
  EXPECT_EQ(ShardOf("4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3", 1), 0);
  EXPECT_EQ(ShardOf("", 1), 0);
  EXPECT_EQ(ShardOf("anything", 0), 0);  // nonsense counts read as one shard, never a crash
}

TEST(ShardOfTest, SpreadsRandomUuidsEvenly) {
  std::mt19937_64 random(42);
  for (const int shards : {2, 3, 4}) {
    std::vector<int> counts(shards, 0);
    constexpr int kIds = 60'000;
    char text[36];
    for (int i = 0; i < kIds; ++i) {
      WriteUuidV4(random(), random(), text);
      const int shard = ShardOf(std::string_view(text, 36), shards);
      ASSERT_GE(shard, 0);
      ASSERT_LT(shard, shards);
      ++counts[shard];
    }
    for (const int count : counts) {
      // Within 3 % of an even share (a binomial's standard deviation here is under 0.6 %).
      EXPECT_NEAR(count, kIds / shards, kIds / shards * 0.03) << shards << " shards";
    }
  }
}

TEST(ParseTargetListTest, OneTargetIsAListOfOne) {
  auto targets = ParseTargetList("unix:/run/rinha/router.sock");
  ASSERT_TRUE(targets.ok());
  EXPECT_THAT(*targets, ElementsAre("unix:/run/rinha/router.sock"));
}

TEST(ParseTargetListTest, KeepsShardOrder) {
  auto targets = ParseTargetList("router-0:50051,router-1:50051,unix:/tmp/r2.sock");
  ASSERT_TRUE(targets.ok());
  EXPECT_THAT(*targets, ElementsAre("router-0:50051", "router-1:50051", "unix:/tmp/r2.sock"));
}

TEST(ParseTargetListTest, RefusesEmptyElements) {
  EXPECT_FALSE(ParseTargetList("").ok());
  EXPECT_FALSE(ParseTargetList("a:1,").ok());
  EXPECT_FALSE(ParseTargetList(",a:1").ok());
  EXPECT_FALSE(ParseTargetList("a:1,,b:2").ok());
}

}  // namespace
}  // namespace rinha
