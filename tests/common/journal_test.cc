// Journal: what was appended is read back after the process dies (killed with SIGKILL in the
// middle of its appends), released records and their segments go, torn or damaged tails end a
// segment, a failed append leaves nothing behind, and one directory has one owner.
#include "common/journal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace rinha {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = rinha::testing::MakeTempDir("journal"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Journal::Options Options(int64_t segment_bytes = 1 << 20) {
    Journal::Options o;
    o.dir = (dir_ / "j").string();
    o.segment_bytes = segment_bytes;
    return o;
  }

  std::unique_ptr<Journal> Open(std::vector<Journal::Record>* recovered,
                                int64_t segment_bytes = 1 << 20) {
    auto journal = Journal::Open(Options(segment_bytes), recovered);
    EXPECT_TRUE(journal.ok()) << journal.status();
    return journal.ok() ? *std::move(journal) : nullptr;
  }

  std::vector<std::string> Reopen() {
    std::vector<Journal::Record> recovered;
    auto journal = Open(&recovered);
    std::vector<std::string> payloads;
    for (const auto& r : recovered) payloads.push_back(r.payload);
    return payloads;
  }

  int SegmentFiles() {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "j")) {
      if (e.path().extension() == ".seg") ++n;
    }
    return n;
  }

  std::filesystem::path OnlySegment() {
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "j")) {
      if (e.path().extension() == ".seg") return e.path();
    }
    return {};
  }

  std::filesystem::path dir_;
};

TEST_F(JournalTest, UnreleasedRecordsAreReadBackInOrderByTheNextOpen) {
  {
    std::vector<Journal::Record> recovered;
    auto journal = Open(&recovered);
    EXPECT_THAT(recovered, IsEmpty());
    ASSERT_TRUE(journal->Append("one").ok());
    const std::vector<std::string_view> batch = {"two", "three"};
    ASSERT_TRUE(journal->Append(batch).ok());
    EXPECT_EQ(journal->stats().live, 3);
  }
  EXPECT_THAT(Reopen(), ElementsAre("one", "two", "three"));
  // Still there: reading back releases nothing.
  EXPECT_THAT(Reopen(), ElementsAre("one", "two", "three"));
}

TEST_F(JournalTest, ReleasedRecordsAreGoneAndSoIsASegmentWithNothingLive) {
  {
    std::vector<Journal::Record> recovered;
    auto journal = Open(&recovered);
    auto a = journal->Append("a");
    auto b = journal->Append("b");
    ASSERT_TRUE(a.ok() && b.ok());
    journal->Release(*a);
    EXPECT_EQ(journal->stats().live, 1);
  }
  // Records are released by count per segment: what is left is one record, and which one is up
  // to the caller's bookkeeping; here the segment still holds both bytes-wise.
  std::vector<Journal::Record> recovered;
  auto journal = Open(&recovered);
  ASSERT_THAT(recovered, SizeIs(2));
  EXPECT_EQ(SegmentFiles(), 1);
  journal->Release(recovered[0].handle, 2);
  EXPECT_EQ(SegmentFiles(), 0);
  EXPECT_EQ(journal->stats().live, 0);
}

TEST_F(JournalTest, FullSegmentsRollOverAndAreDeletedOnceReleased) {
  std::vector<Journal::Record> recovered;
  auto journal = Open(&recovered, /*segment_bytes=*/4096);
  std::vector<Journal::Handle> handles;
  const std::string payload(100, 'x');
  for (int i = 0; i < 200; ++i) {
    auto h = journal->Append(payload);
    ASSERT_TRUE(h.ok()) << h.status();
    handles.push_back(*h);
  }
  EXPECT_GE(SegmentFiles(), 5);
  EXPECT_EQ(journal->stats().segments, SegmentFiles());
  for (Journal::Handle h : handles) journal->Release(h);
  // Only the segment being written remains (empty of live records).
  EXPECT_EQ(SegmentFiles(), 1);
  journal.reset();
  EXPECT_EQ(SegmentFiles(), 0);
  EXPECT_THAT(Reopen(), IsEmpty());
}

TEST_F(JournalTest, NewRecordsNeverGoToASegmentOfAnEarlierRun) {
  {
    std::vector<Journal::Record> recovered;
    auto journal = Open(&recovered);
    ASSERT_TRUE(journal->Append("old").ok());
  }
  std::vector<Journal::Record> recovered;
  auto journal = Open(&recovered);
  ASSERT_THAT(recovered, SizeIs(1));
  auto h = journal->Append("new");
  ASSERT_TRUE(h.ok());
  EXPECT_NE(*h, recovered[0].handle);
  EXPECT_EQ(SegmentFiles(), 2);
  journal->Release(recovered[0].handle);
  EXPECT_EQ(SegmentFiles(), 1);
}

TEST_F(JournalTest, ATornLastRecordIsIgnored) {
  {
    std::vector<Journal::Record> recovered;
    auto journal = Open(&recovered);
    ASSERT_TRUE(journal->Append("first").ok());
    ASSERT_TRUE(journal->Append("second").ok());
  }
  {
    // What a write cut short by a crash leaves: a header promising 50 bytes, and 3 of them.
    std::ofstream out(OnlySegment(), std::ios::binary | std::ios::app);
    const char torn[] = {50, 0, 0, 0, 1, 2, 3, 4, 'a', 'b', 'c'};
    out.write(torn, sizeof(torn));
  }
  EXPECT_THAT(Reopen(), ElementsAre("first", "second"));
}

TEST_F(JournalTest, ADamagedRecordEndsItsSegment) {
  {
    std::vector<Journal::Record> recovered;
    auto journal = Open(&recovered);
    ASSERT_TRUE(journal->Append("first").ok());
    ASSERT_TRUE(journal->Append("second").ok());
    ASSERT_TRUE(journal->Append("third").ok());
  }
  {
    // Flip one byte of "second"'s payload: its checksum no longer matches.
    std::fstream f(OnlySegment(), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(8 + 5 + 8);
    f.put('S');
  }
  EXPECT_THAT(Reopen(), ElementsAre("first"));
}

TEST_F(JournalTest, ASecondOwnerOfTheDirectoryIsRefused) {
  std::vector<Journal::Record> recovered;
  auto first = Open(&recovered);
  auto second = Journal::Open(Options(), &recovered);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first.reset();
  EXPECT_TRUE(Journal::Open(Options(), &recovered).ok());
}

TEST(JournalSyncTest, ParsesTheFlagValues) {
  EXPECT_EQ(*Journal::ParseSync("none"), Journal::Sync::kNone);
  EXPECT_EQ(*Journal::ParseSync("data"), Journal::Sync::kData);
  EXPECT_FALSE(Journal::ParseSync("full").ok());
  EXPECT_FALSE(Journal::ParseSync("").ok());
}

TEST_F(JournalTest, SyncModeReadsBackTheSame) {
  Journal::Options o = Options();
  o.sync = Journal::Sync::kData;
  {
    std::vector<Journal::Record> recovered;
    auto journal = Journal::Open(o, &recovered);
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE((*journal)->Append("synced").ok());
  }
  EXPECT_THAT(Reopen(), ElementsAre("synced"));
}

// A child process appends numbered records and reports each one once Append returned; it is
// killed with SIGKILL mid-stream. Every reported record must be read back, intact and in order.
TEST_F(JournalTest, EveryAppendThatReturnedSurvivesKillMinus9) {
  for (int round = 0; round < 3; ++round) {
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(pipe_fds[0]);
      std::vector<Journal::Record> ignored;
      auto journal = Journal::Open(Options(/*segment_bytes=*/8192), &ignored);
      if (!journal.ok()) _exit(3);
      for (int i = static_cast<int>(ignored.size());; ++i) {
        const std::string payload = absl::StrCat("payment-", i);
        if (!(*journal)->Append(payload).ok()) _exit(4);
        if (write(pipe_fds[1], &i, sizeof(i)) != sizeof(i)) _exit(5);
      }
    }
    close(pipe_fds[1]);
    int last = -1;
    int n = 0;
    // Let it get well into its appends (across segments), then kill it between two of them.
    while (read(pipe_fds[0], &n, sizeof(n)) == sizeof(n)) {
      last = n;
      if (last >= 2000 * (round + 1)) {
        kill(child, SIGKILL);
        break;
      }
    }
    int status = 0;
    waitpid(child, &status, 0);
    close(pipe_fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

    const std::vector<std::string> payloads = Reopen();
    ASSERT_GE(static_cast<int>(payloads.size()), last + 1);
    for (int i = 0; i <= last; ++i) {
      ASSERT_EQ(payloads[i], absl::StrCat("payment-", i)) << "record " << i;
    }
  }
}

// A file size limit makes write(2) fail part-way, as a full disk does: the failed append must
// leave nothing behind, so that later appends are not hidden behind a torn record.
TEST_F(JournalTest, AFailedAppendLeavesNothingAndLaterAppendsSurvive) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    std::vector<Journal::Record> ignored;
    auto journal = Journal::Open(Options(/*segment_bytes=*/1 << 20), &ignored);
    if (!journal.ok()) _exit(3);
    if (!(*journal)->Append("before").ok()) _exit(4);
    rlimit limit{20, RLIM_INFINITY};  // the segment holds 14 bytes: a 30-byte record cannot fit
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(5);
    if ((*journal)->Append(std::string(22, 'x')).ok()) _exit(6);
    if ((*journal)->stats().write_errors != 1) _exit(7);
    limit = {RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(8);
    if (!(*journal)->Append("after").ok()) _exit(9);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_THAT(Reopen(), ElementsAre("before", "after"));
}

}  // namespace
}  // namespace rinha
