#include "edge/sharding.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace rinha::edge {
namespace {

namespace fs = std::filesystem;

TEST(ShardJournalDirTest, OneShardKeepsTheDirectoryOfAnEdgeWithoutShards) {
  EXPECT_EQ(ShardJournalDir("/var/lib/rinha/edge-journal", 0, 1), "/var/lib/rinha/edge-journal");
}

TEST(ShardJournalDirTest, SeveralShardsGetASubdirectoryEach) {
  EXPECT_EQ(ShardJournalDir("/j", 0, 2), "/j/shard-0");
  EXPECT_EQ(ShardJournalDir("/j", 1, 2), "/j/shard-1");
  EXPECT_EQ(ShardJournalDir("/j", 3, 4), "/j/shard-3");
}

TEST(ShardJournalDirTest, NoJournalStaysNoJournal) { EXPECT_EQ(ShardJournalDir("", 1, 2), ""); }

class CheckJournalLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = ::rinha::testing::MakeTempDir("journal_layout"); }
  void TearDown() override { fs::remove_all(dir_); }
  // A segment file as common/journal.h names them (its content does not matter here).
  void Segment(const fs::path& dir) {
    fs::create_directories(dir);
    std::ofstream(dir / "0000000000000001.seg") << "x";
  }
  std::string dir() const { return dir_.string(); }
  fs::path dir_;
};

TEST_F(CheckJournalLayoutTest, AnEmptyOrMissingJournalFitsAnyLayout) {
  EXPECT_TRUE(CheckJournalLayout("", 2).ok());
  EXPECT_TRUE(CheckJournalLayout(dir() + "/missing", 2).ok());
  EXPECT_TRUE(CheckJournalLayout(dir(), 1).ok());
  EXPECT_TRUE(CheckJournalLayout(dir(), 3).ok());
  // A lock file and empty shard directories hold nothing.
  std::ofstream(dir_ / "LOCK") << "";
  fs::create_directories(dir_ / "shard-0");
  fs::create_directories(dir_ / "shard-5");
  EXPECT_TRUE(CheckJournalLayout(dir(), 1).ok());
  EXPECT_TRUE(CheckJournalLayout(dir(), 2).ok());
}

TEST_F(CheckJournalLayoutTest, AJournalOfOneRouterFitsOnlyOneShard) {
  Segment(dir_);
  EXPECT_TRUE(CheckJournalLayout(dir(), 1).ok());
  const absl::Status two = CheckJournalLayout(dir(), 2);
  EXPECT_EQ(two.code(), absl::StatusCode::kFailedPrecondition) << two;
}

TEST_F(CheckJournalLayoutTest, ShardJournalsFitTheirNumberOfShardsOrMore) {
  Segment(dir_ / "shard-1");
  EXPECT_TRUE(CheckJournalLayout(dir(), 2).ok());
  EXPECT_TRUE(CheckJournalLayout(dir(), 3).ok());  // shard-1 is still read as shard 1...
  // ...but not with one router (it would look in the directory itself) nor with shard 1 gone.
  EXPECT_EQ(CheckJournalLayout(dir(), 1).code(), absl::StatusCode::kFailedPrecondition);
  Segment(dir_ / "shard-2");
  EXPECT_EQ(CheckJournalLayout(dir(), 2).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(CheckJournalLayoutTest, OtherSubdirectoriesAreNotShards) {
  Segment(dir_ / "lost+found");
  EXPECT_TRUE(CheckJournalLayout(dir(), 1).ok());
  EXPECT_TRUE(CheckJournalLayout(dir(), 2).ok());
}

TEST(AddSummaryTest, AddsRequestsAndCentsPerProcessor) {
  rinha::v1::SummaryResponse total;
  rinha::v1::SummaryResponse a;
  a.mutable_default_totals()->set_total_requests(3);
  a.mutable_default_totals()->set_total_amount_cents(5970);
  a.mutable_fallback_totals()->set_total_requests(1);
  a.mutable_fallback_totals()->set_total_amount_cents(1990);
  rinha::v1::SummaryResponse b;
  b.mutable_default_totals()->set_total_requests(2);
  b.mutable_default_totals()->set_total_amount_cents(1);
  AddSummary(a, &total);
  AddSummary(b, &total);
  AddSummary(rinha::v1::SummaryResponse(), &total);  // a shard with nothing yet
  EXPECT_EQ(total.default_totals().total_requests(), 5);
  EXPECT_EQ(total.default_totals().total_amount_cents(), 5971);
  EXPECT_EQ(total.fallback_totals().total_requests(), 1);
  EXPECT_EQ(total.fallback_totals().total_amount_cents(), 1990);
}

TEST(AddSummaryTest, OneShardIsItsOwnSum) {
  rinha::v1::SummaryResponse one;
  one.mutable_default_totals()->set_total_requests(7);
  one.mutable_default_totals()->set_total_amount_cents(12345);
  rinha::v1::SummaryResponse total;
  AddSummary(one, &total);
  EXPECT_EQ(total.default_totals().total_requests(), 7);
  EXPECT_EQ(total.default_totals().total_amount_cents(), 12345);
  EXPECT_EQ(total.fallback_totals().total_requests(), 0);
  EXPECT_EQ(total.fallback_totals().total_amount_cents(), 0);
}

}  // namespace
}  // namespace rinha::edge
