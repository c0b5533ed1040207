#include "ledger/ledger_store.h"

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/testing/fake_clock.h"

namespace rinha::ledger {
namespace {

using ::testing::ElementsAre;
using testing::Notification;
using testing::TempDir;
using testing::Uuid;

Settlement Make(uint64_t id, int64_t cents, Processor p, int64_t at_ms) {
  return Settlement{Uuid(id), cents, p, at_ms};
}

class LedgerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(LedgerStore::Options options = {}) {
    store_.reset();
    absl::StatusOr<std::unique_ptr<LedgerStore>> store =
        LedgerStore::Open(db_path(), options, clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string db_path() const { return dir_.File("ledger.db"); }

  std::vector<SettleOutcome> SettleOk(std::vector<Settlement> batch) {
    absl::StatusOr<std::vector<SettleOutcome>> outcomes = store_->SettleAndWait(std::move(batch));
    EXPECT_TRUE(outcomes.ok()) << outcomes.status();
    return outcomes.ok() ? *outcomes : std::vector<SettleOutcome>{};
  }

  SummaryTotals SummaryOk(std::optional<int64_t> from, std::optional<int64_t> to) {
    absl::StatusOr<SummaryTotals> totals = store_->Summary({from, to});
    EXPECT_TRUE(totals.ok()) << totals.status();
    return totals.ok() ? *totals : SummaryTotals{};
  }

  std::vector<Settlement> ListAll() {
    absl::StatusOr<std::vector<Settlement>> page = store_->List("", 1000);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? *page : std::vector<Settlement>{};
  }

  TempDir dir_;
  rinha::testing::FakeClock clock_;  // outlives store_
  std::unique_ptr<LedgerStore> store_;
};

TEST_F(LedgerStoreTest, EmptyLedgerSummarisesToZero) {
  EXPECT_EQ(SummaryOk(std::nullopt, std::nullopt), SummaryTotals{});
}

TEST_F(LedgerStoreTest, SummaryBoundsAreInclusiveToTheMillisecond) {
  SettleOk({Make(1, 100, Processor::kDefault, 999), Make(2, 200, Processor::kDefault, 1000),
            Make(3, 400, Processor::kDefault, 1500), Make(4, 800, Processor::kDefault, 2000),
            Make(5, 1600, Processor::kDefault, 2001)});

  EXPECT_EQ(SummaryOk(1000, 2000).default_totals, (Totals{3, 1400}));
  EXPECT_EQ(SummaryOk(1001, 1999).default_totals, (Totals{1, 400}));
  EXPECT_EQ(SummaryOk(2000, 2000).default_totals, (Totals{1, 800}));
  EXPECT_EQ(SummaryOk(999, 999).default_totals, (Totals{1, 100}));
  EXPECT_EQ(SummaryOk(2002, 5000).default_totals, (Totals{0, 0}));
  // An inverted range is empty, not an error.
  EXPECT_EQ(SummaryOk(2000, 1000).default_totals, (Totals{0, 0}));
}

TEST_F(LedgerStoreTest, MissingBoundsAreUnbounded) {
  SettleOk({Make(1, 1, Processor::kDefault, std::numeric_limits<int64_t>::min() + 1),
            Make(2, 10, Processor::kDefault, 0), Make(3, 100, Processor::kDefault, 1000),
            Make(4, 1000, Processor::kDefault, std::numeric_limits<int64_t>::max())});

  EXPECT_EQ(SummaryOk(std::nullopt, std::nullopt).default_totals, (Totals{4, 1111}));
  EXPECT_EQ(SummaryOk(std::nullopt, 0).default_totals, (Totals{2, 11}));
  EXPECT_EQ(SummaryOk(0, std::nullopt).default_totals, (Totals{3, 1110}));
  EXPECT_EQ(SummaryOk(1001, std::nullopt).default_totals, (Totals{1, 1000}));
}

TEST_F(LedgerStoreTest, ProcessorsAreSummarisedSeparately) {
  SettleOk({Make(1, 1990, Processor::kDefault, 10), Make(2, 1990, Processor::kFallback, 10),
            Make(3, 5, Processor::kFallback, 20), Make(4, 7, Processor::kDefault, 30)});

  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{2, 1997}));
  EXPECT_EQ(all.fallback_totals, (Totals{2, 1995}));
  SummaryTotals early = SummaryOk(std::nullopt, 20);
  EXPECT_EQ(early.default_totals, (Totals{1, 1990}));
  EXPECT_EQ(early.fallback_totals, (Totals{2, 1995}));
}

TEST_F(LedgerStoreTest, SumsAreExactCentsOverOneHundredThousandRows) {
  // Amounts chosen so that a floating-point accumulation of the decimal values would drift.
  constexpr int kRows = 100'000;
  constexpr int64_t kStartMs = 1'752'582'896'000;
  Totals expected_default, expected_fallback, expected_window_default;
  std::vector<Settlement> batch;
  for (int i = 0; i < kRows; ++i) {
    const int64_t cents = 1 + (static_cast<int64_t>(i) * 7919) % 99'999;  // 0.01 .. 999.99
    const Processor p = i % 3 == 0 ? Processor::kFallback : Processor::kDefault;
    const int64_t at = kStartMs + i * 3;  // ~300 s of traffic
    Totals& t = p == Processor::kDefault ? expected_default : expected_fallback;
    ++t.count;
    t.amount_cents += cents;
    if (p == Processor::kDefault && at >= kStartMs + 60'000 && at <= kStartMs + 73'000) {
      ++expected_window_default.count;
      expected_window_default.amount_cents += cents;
    }
    batch.push_back(Settlement{Uuid(i), cents, p, at});
    if (batch.size() == 1000) {
      SettleOk(std::move(batch));
      batch.clear();
    }
  }

  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, expected_default);
  EXPECT_EQ(all.fallback_totals, expected_fallback);
  EXPECT_EQ(all.default_totals.count + all.fallback_totals.count, kRows);
  EXPECT_EQ(SummaryOk(kStartMs + 60'000, kStartMs + 73'000).default_totals,
            expected_window_default);
}

TEST_F(LedgerStoreTest, SumThatWouldOverflowInt64IsAnErrorNotAWrongNumber) {
  const int64_t big = std::numeric_limits<int64_t>::max() / 2 + 1;
  SettleOk({Make(1, big, Processor::kDefault, 1), Make(2, big, Processor::kDefault, 2)});

  EXPECT_EQ(SummaryOk(1, 1).default_totals, (Totals{1, big}));
  absl::StatusOr<SummaryTotals> all = store_->Summary({});
  EXPECT_EQ(all.status().code(), absl::StatusCode::kOutOfRange) << all.status();
}

TEST_F(LedgerStoreTest, SameIdSettledTwiceIsStoredOnceAndReportedDuplicate) {
  EXPECT_THAT(SettleOk({Make(1, 1990, Processor::kDefault, 10)}),
              ElementsAre(SettleOutcome::kStored));
  EXPECT_THAT(SettleOk({Make(1, 1990, Processor::kDefault, 10)}),
              ElementsAre(SettleOutcome::kDuplicate));
  // Within one batch as well.
  EXPECT_THAT(
      SettleOk({Make(2, 5, Processor::kFallback, 20), Make(2, 5, Processor::kFallback, 20)}),
      ElementsAre(SettleOutcome::kStored, SettleOutcome::kDuplicate));

  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{1, 1990}));
  EXPECT_EQ(all.fallback_totals, (Totals{1, 5}));
}

TEST_F(LedgerStoreTest, SameIdWithAnotherProcessorIsAConflictAndKeepsTheOriginal) {
  SettleOk({Make(1, 1990, Processor::kDefault, 10)});

  EXPECT_THAT(SettleOk({Make(1, 1990, Processor::kFallback, 10)}),
              ElementsAre(SettleOutcome::kConflict));

  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{1, 1990}));
  EXPECT_EQ(all.fallback_totals, (Totals{0, 0}));
}

Settlement Double(uint64_t id, int64_t cents, Processor p, int64_t at_ms) {
  Settlement s = Make(id, cents, p, at_ms);
  s.double_payment = true;
  return s;
}

TEST_F(LedgerStoreTest, ADetectedDoublePaymentIsASecondRowCountedInTheSummary) {
  SettleOk({Make(1, 1990, Processor::kFallback, 10)});
  // Found at default as well: recorded there too, so the summary equals what each one holds.
  EXPECT_THAT(SettleOk({Double(1, 1990, Processor::kDefault, 7)}),
              ElementsAre(SettleOutcome::kStored));
  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{1, 1990}));
  EXPECT_EQ(all.fallback_totals, (Totals{1, 1990}));
  // Each row in its own window (its own requestedAt).
  EXPECT_EQ(SummaryOk(7, 7).default_totals, (Totals{1, 1990}));
  EXPECT_EQ(SummaryOk(7, 7).fallback_totals, (Totals{0, 0}));
}

TEST_F(LedgerStoreTest, SettlingIsIdempotentPerIdAndProcessor) {
  SettleOk({Make(1, 1990, Processor::kFallback, 10), Double(1, 1990, Processor::kDefault, 7)});
  // Resends of either row, flagged or not, change nothing.
  EXPECT_THAT(
      SettleOk({Double(1, 1990, Processor::kDefault, 7), Make(1, 1990, Processor::kDefault, 7),
                Make(1, 1990, Processor::kFallback, 10),
                Double(1, 1990, Processor::kFallback, 10)}),
      ElementsAre(SettleOutcome::kDuplicate, SettleOutcome::kDuplicate, SettleOutcome::kDuplicate,
                  SettleOutcome::kDuplicate));
  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{1, 1990}));
  EXPECT_EQ(all.fallback_totals, (Totals{1, 1990}));
}

TEST_F(LedgerStoreTest, ADoublePaymentRecordedFirstDoesNotTurnTheFirstSettlementIntoAConflict) {
  // Order on the wire is the router's business; the ledger does not depend on it.
  EXPECT_THAT(SettleOk({Double(1, 1990, Processor::kDefault, 7)}),
              ElementsAre(SettleOutcome::kStored));
  EXPECT_THAT(SettleOk({Make(1, 1990, Processor::kFallback, 10)}),
              ElementsAre(SettleOutcome::kStored));
  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{1, 1990}));
  EXPECT_EQ(all.fallback_totals, (Totals{1, 1990}));
}

TEST_F(LedgerStoreTest, ListNeverSplitsAnIdsRowsAcrossPages) {
  SettleOk({Make(1, 1, Processor::kDefault, 1), Make(2, 2, Processor::kFallback, 2),
            Double(2, 2, Processor::kDefault, 1), Make(3, 3, Processor::kDefault, 3)});
  // Two rows asked: id 1 and the first of id 2; the page completes id 2.
  absl::StatusOr<std::vector<Settlement>> page = store_->List("", 2);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[1].correlation_id, Uuid(2));
  EXPECT_EQ((*page)[1].processor, Processor::kDefault);
  EXPECT_TRUE((*page)[1].double_payment);
  EXPECT_EQ((*page)[2].correlation_id, Uuid(2));
  EXPECT_EQ((*page)[2].processor, Processor::kFallback);
  EXPECT_FALSE((*page)[2].double_payment);
  page = store_->List(Uuid(2), 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].correlation_id, Uuid(3));
}

TEST_F(LedgerStoreTest, EachRowRecordsTheClocksWallTimeWhenItWasStored) {
  const int64_t t0 = clock_.NowMillis();
  SettleOk({Make(1, 1, Processor::kDefault, 1), Make(2, 2, Processor::kFallback, 2)});
  clock_.Advance(absl::Milliseconds(1500));
  SettleOk({Make(3, 3, Processor::kDefault, 3), Double(2, 2, Processor::kDefault, 2)});

  std::vector<Settlement> rows = ListAll();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].recorded_at_ms, t0);         // id 1
  EXPECT_EQ(rows[1].recorded_at_ms, t0 + 1500);  // id 2 at default: the double payment, later
  EXPECT_EQ(rows[2].recorded_at_ms, t0);         // id 2 at fallback
  EXPECT_EQ(rows[3].recorded_at_ms, t0 + 1500);  // id 3
}

TEST_F(LedgerStoreTest, SettlingAgainKeepsWhenTheRowWasFirstRecorded) {
  const int64_t t0 = clock_.NowMillis();
  Settlement first = Make(1, 1, Processor::kDefault, 1);
  first.recorded_at_ms = 42;  // the sender's value is ignored
  SettleOk({first});
  clock_.Advance(absl::Seconds(10));
  EXPECT_THAT(SettleOk({Make(1, 1, Processor::kDefault, 1)}),
              ElementsAre(SettleOutcome::kDuplicate));

  std::vector<Settlement> rows = ListAll();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].recorded_at_ms, t0);
}

// A database of the schema before recorded_at_ms gets the column on open: its rows are kept,
// with 0 (unknown), and new rows are stamped.
TEST_F(LedgerStoreTest, ADatabaseOfTheSchemaBeforeRecordedAtGetsTheColumnOnOpen) {
  store_.reset();
  std::filesystem::remove(db_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  const std::string old_schema = absl::StrCat(
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE settlements (correlation_id TEXT NOT NULL,"
      "  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),"
      "  processor INTEGER NOT NULL CHECK (processor IN (1, 2)),"
      "  requested_at_ms INTEGER NOT NULL,"
      "  double_payment INTEGER NOT NULL DEFAULT 0 CHECK (double_payment IN (0, 1)),"
      "  PRIMARY KEY (correlation_id, processor));"
      "CREATE INDEX settlements_by_time ON settlements (requested_at_ms, processor, amount_cents);"
      "INSERT INTO settlements VALUES ('",
      Uuid(1), "', 1990, 1, 10, 0), ('", Uuid(2), "', 5, 2, 20, 0), ('", Uuid(2),
      "', 5, 1, 20, 1);");
  ASSERT_EQ(sqlite3_exec(db, old_schema.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  Reopen();
  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{2, 1995}));
  EXPECT_EQ(all.fallback_totals, (Totals{1, 5}));
  EXPECT_THAT(
      SettleOk({Make(1, 1990, Processor::kDefault, 10), Make(3, 7, Processor::kDefault, 30)}),
      ElementsAre(SettleOutcome::kDuplicate, SettleOutcome::kStored));
  std::vector<Settlement> rows = ListAll();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].recorded_at_ms, 0);
  EXPECT_EQ(rows[1].recorded_at_ms, 0);
  EXPECT_TRUE(rows[1].double_payment);
  EXPECT_EQ(rows[2].recorded_at_ms, 0);
  EXPECT_EQ(rows[3].recorded_at_ms, clock_.NowMillis());
  Reopen();  // and opening it again leaves it as it is
  EXPECT_EQ(ListAll().size(), 4u);
  EXPECT_EQ(SummaryOk(std::nullopt, std::nullopt).default_totals, (Totals{3, 2002}));
}

TEST_F(LedgerStoreTest, InvalidSettlementsAreRejectedWhileTheRestOfTheBatchIsStored) {
  std::vector<Settlement> batch = {
      Make(1, 100, Processor::kDefault, 10),
      Settlement{"4A7E1D35-0000-4000-8000-000000000001", 100, Processor::kDefault, 10},  // upper
      Settlement{"not-a-uuid", 100, Processor::kDefault, 10},
      Settlement{"", 100, Processor::kDefault, 10},
      Make(2, 0, Processor::kDefault, 10),
      Make(3, -5, Processor::kDefault, 10),
      Make(4, 100, static_cast<Processor>(0), 10),
      Make(5, 100, static_cast<Processor>(3), 10),
      Make(6, 100, Processor::kFallback, 10),
  };
  EXPECT_THAT(
      SettleOk(std::move(batch)),
      ElementsAre(SettleOutcome::kStored, SettleOutcome::kInvalid, SettleOutcome::kInvalid,
                  SettleOutcome::kInvalid, SettleOutcome::kInvalid, SettleOutcome::kInvalid,
                  SettleOutcome::kInvalid, SettleOutcome::kInvalid, SettleOutcome::kStored));

  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{1, 100}));
  EXPECT_EQ(all.fallback_totals, (Totals{1, 100}));
}

TEST_F(LedgerStoreTest, PurgeDeletesEverythingAndCountsIt) {
  SettleOk({Make(1, 1, Processor::kDefault, 1), Make(2, 2, Processor::kFallback, 2),
            Make(3, 3, Processor::kDefault, 3)});

  absl::StatusOr<int64_t> deleted = store_->PurgeAndWait();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(SummaryOk(std::nullopt, std::nullopt), SummaryTotals{});
  // A purged id may be settled again.
  EXPECT_THAT(SettleOk({Make(1, 1, Processor::kFallback, 1)}), ElementsAre(SettleOutcome::kStored));
}

TEST_F(LedgerStoreTest, PurgeIsOrderedWithTheSettlementsQueuedAroundIt) {
  Notification all_done;
  std::atomic<int> callbacks{0};
  auto count = [&] {
    if (++callbacks == 3) all_done.Notify();
  };
  store_->Settle({Make(1, 1, Processor::kDefault, 1)}, [&](auto r) {
    EXPECT_TRUE(r.ok());
    count();
  });
  int64_t deleted = -1;
  store_->Purge([&](absl::StatusOr<int64_t> r) {
    deleted = r.value_or(-2);
    count();
  });
  store_->Settle({Make(2, 2, Processor::kDefault, 2)}, [&](auto r) {
    EXPECT_TRUE(r.ok());
    count();
  });
  all_done.WaitForNotification();

  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(SummaryOk(std::nullopt, std::nullopt).default_totals, (Totals{1, 2}));
}

TEST_F(LedgerStoreTest, SettlementsSurviveReopening) {
  SettleOk({Make(1, 1990, Processor::kDefault, 10), Make(2, 5, Processor::kFallback, 20)});

  Reopen();

  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{1, 1990}));
  EXPECT_EQ(all.fallback_totals, (Totals{1, 5}));
  EXPECT_THAT(SettleOk({Make(1, 1990, Processor::kDefault, 10)}),
              ElementsAre(SettleOutcome::kDuplicate));
}

// A database written before double payments existed (correlation_id alone the primary key) is
// brought to the current schema on open, every row kept and still a duplicate of itself.
TEST_F(LedgerStoreTest, ADatabaseOfTheSchemaBeforeDoublePaymentsIsMigratedOnOpen) {
  store_.reset();
  std::filesystem::remove(db_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  const std::string old_schema = absl::StrCat(
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE settlements (correlation_id TEXT NOT NULL PRIMARY KEY,"
      "  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),"
      "  processor INTEGER NOT NULL CHECK (processor IN (1, 2)),"
      "  requested_at_ms INTEGER NOT NULL);"
      "CREATE INDEX settlements_by_time ON settlements (requested_at_ms, processor, amount_cents);"
      "INSERT INTO settlements VALUES ('",
      Uuid(1), "', 1990, 1, 10), ('", Uuid(2), "', 5, 2, 20);");
  ASSERT_EQ(sqlite3_exec(db, old_schema.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  Reopen();
  SummaryTotals all = SummaryOk(std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals, (Totals{1, 1990}));
  EXPECT_EQ(all.fallback_totals, (Totals{1, 5}));
  EXPECT_EQ(SummaryOk(20, 20).fallback_totals, (Totals{1, 5}));  // the time index is back
  EXPECT_THAT(
      SettleOk({Make(1, 1990, Processor::kDefault, 10), Make(1, 1990, Processor::kFallback, 10),
                Double(2, 5, Processor::kDefault, 21)}),
      ElementsAre(SettleOutcome::kDuplicate, SettleOutcome::kConflict, SettleOutcome::kStored));
  for (const Settlement& row : ListAll()) {
    // The rows from before: recorded at an unknown time; the double payment: now.
    EXPECT_EQ(row.recorded_at_ms, row.double_payment ? clock_.NowMillis() : 0)
        << row.correlation_id;
  }
  Reopen();  // and opening it again leaves it as it is
  EXPECT_EQ(SummaryOk(std::nullopt, std::nullopt).default_totals, (Totals{2, 1995}));
}

TEST_F(LedgerStoreTest, FullSynchronousModeStoresAndReadsTheSame) {
  Reopen({.synchronous = LedgerStore::Synchronous::kFull});
  SettleOk({Make(1, 42, Processor::kDefault, 10)});
  EXPECT_EQ(SummaryOk(std::nullopt, std::nullopt).default_totals, (Totals{1, 42}));
}

TEST_F(LedgerStoreTest, SummaryAnswersWhileTheWriterIsBusy) {
  SettleOk({Make(1, 7, Processor::kDefault, 10)});
  // A callback runs on the writer thread: holding it there stalls the writer with work queued.
  Notification writer_blocked, release_writer;
  store_->Settle({Make(2, 1, Processor::kDefault, 10)}, [&](auto) {
    writer_blocked.Notify();
    release_writer.WaitForNotification();
  });
  writer_blocked.WaitForNotification();
  Notification queued_done;
  store_->Settle({Make(3, 1, Processor::kDefault, 10)}, [&](auto) { queued_done.Notify(); });

  Notification summary_done;
  absl::StatusOr<SummaryTotals> totals;
  std::thread reader([&] {
    totals = store_->Summary({});
    summary_done.Notify();
  });
  const bool answered = summary_done.WaitForNotificationWithTimeout(absl::Seconds(30));
  release_writer.Notify();
  reader.join();
  queued_done.WaitForNotification();

  EXPECT_TRUE(answered) << "Summary waited for the writer";
  ASSERT_TRUE(totals.ok()) << totals.status();
  EXPECT_EQ(totals->default_totals, (Totals{2, 8}));  // ids 1 and 2 committed; 3 still queued
}

TEST_F(LedgerStoreTest, ConcurrentBatchesAreAllStoredWithOneOutcomeEach) {
  constexpr int kThreads = 4, kBatches = 50, kBatchSize = 20;
  std::vector<std::thread> threads;
  std::atomic<int> stored{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Settlement> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          batch.push_back(Make((t * kBatches + b) * kBatchSize + i, 3, Processor::kDefault, b));
        }
        absl::StatusOr<std::vector<SettleOutcome>> r = store_->SettleAndWait(std::move(batch));
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->size(), static_cast<size_t>(kBatchSize));
        for (SettleOutcome o : *r) stored += o == SettleOutcome::kStored;
      }
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(stored.load(), kThreads * kBatches * kBatchSize);
  EXPECT_EQ(SummaryOk(std::nullopt, std::nullopt).default_totals,
            (Totals{kThreads * kBatches * kBatchSize, 3 * kThreads * kBatches * kBatchSize}));
}

TEST_F(LedgerStoreTest, ShutdownCommitsQueuedWorkThenRejectsNewWork) {
  constexpr int kBatches = 100;
  std::atomic<int> ok{0};
  for (int b = 0; b < kBatches; ++b) {
    store_->Settle({Make(b, 1, Processor::kDefault, b)}, [&](auto r) { ok += r.ok(); });
  }
  store_->Shutdown();
  EXPECT_EQ(ok.load(), kBatches);

  absl::StatusOr<std::vector<SettleOutcome>> late =
      store_->SettleAndWait({Make(1000, 1, Processor::kDefault, 1)});
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SummaryOk(std::nullopt, std::nullopt).default_totals, (Totals{kBatches, kBatches}));
}

TEST_F(LedgerStoreTest, GetAnswersAnIdsRowsWithItsFirstSettlementFirst) {
  SettleOk({Make(1, 1990, Processor::kFallback, 10), Make(2, 5, Processor::kDefault, 20)});
  SettleOk({Double(1, 1990, Processor::kDefault, 7)});

  absl::StatusOr<std::vector<Settlement>> one = store_->Get(Uuid(1));
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), 2u);
  EXPECT_EQ((*one)[0].correlation_id, Uuid(1));
  EXPECT_EQ((*one)[0].processor, Processor::kFallback);
  EXPECT_EQ((*one)[0].amount_cents, 1990);
  EXPECT_EQ((*one)[0].requested_at_ms, 10);
  EXPECT_FALSE((*one)[0].double_payment);
  EXPECT_EQ((*one)[1].processor, Processor::kDefault);
  EXPECT_TRUE((*one)[1].double_payment);

  absl::StatusOr<std::vector<Settlement>> two = store_->Get(Uuid(2));
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->size(), 1u);
  EXPECT_EQ((*two)[0].requested_at_ms, 20);

  absl::StatusOr<std::vector<Settlement>> none = store_->Get(Uuid(3));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST_F(LedgerStoreTest, StatsCountRowsAndOutcomesOfCommittedSettlements) {
  EXPECT_EQ(store_->stats().rows_default, 0);
  EXPECT_EQ(store_->stats().transactions, 0);
  SettleOk({Make(1, 1, Processor::kDefault, 1), Make(2, 2, Processor::kFallback, 2),
            Make(3, 3, Processor::kDefault, 3), Make(4, -1, Processor::kDefault, 4)});
  SettleOk({Make(1, 1, Processor::kDefault, 1), Make(2, 2, Processor::kDefault, 2),
            Double(2, 2, Processor::kDefault, 2)});

  const LedgerStore::Stats s = store_->stats();
  EXPECT_EQ(s.rows_default, 3);  // 1, 3 and the double payment of 2
  EXPECT_EQ(s.rows_fallback, 1);
  EXPECT_EQ(s.stored, 4);
  EXPECT_EQ(s.duplicate, 1);
  EXPECT_EQ(s.conflict, 1);
  EXPECT_EQ(s.invalid, 1);
  EXPECT_EQ(s.transactions, 2);
}

TEST_F(LedgerStoreTest, RowsAreCountedOnceAtOpenAndAPurgeZeroesThem) {
  SettleOk({Make(1, 1, Processor::kDefault, 1), Make(2, 2, Processor::kFallback, 2),
            Make(3, 3, Processor::kFallback, 3)});

  Reopen();
  EXPECT_EQ(store_->stats().rows_default, 1);
  EXPECT_EQ(store_->stats().rows_fallback, 2);
  EXPECT_EQ(store_->stats().stored, 0);  // counters are this process's

  ASSERT_TRUE(store_->PurgeAndWait().ok());
  EXPECT_EQ(store_->stats().rows_default, 0);
  EXPECT_EQ(store_->stats().rows_fallback, 0);
  EXPECT_EQ(store_->stats().transactions, 1);
  SettleOk({Make(4, 4, Processor::kFallback, 4)});
  EXPECT_EQ(store_->stats().rows_fallback, 1);
}

TEST_F(LedgerStoreTest, APurgeBetweenSettlementsOfOneTransactionCountsOnlyWhatFollowsIt) {
  // Whether the three share one transaction or not, the counts end as the rows do.
  Notification all_done;
  std::atomic<int> callbacks{0};
  auto count = [&] {
    if (++callbacks == 3) all_done.Notify();
  };
  store_->Settle({Make(1, 1, Processor::kDefault, 1)}, [&](auto) { count(); });
  store_->Purge([&](auto) { count(); });
  store_->Settle({Make(2, 2, Processor::kDefault, 2)}, [&](auto) { count(); });
  all_done.WaitForNotification();
  EXPECT_EQ(store_->stats().rows_default, 1);
  EXPECT_EQ(store_->stats().stored, 2);
}

TEST_F(LedgerStoreTest, CommitsAndSummariesAreObservedInTheirHistograms) {
  const metrics::HistogramBuckets buckets{{0.001, 1}, metrics::kMicrosPerSecond};
  metrics::Histogram commits(buckets);
  metrics::Histogram summaries(buckets);
  LedgerStore::Options options;
  options.commit_duration = &commits;
  options.summary_duration = &summaries;
  Reopen(options);

  SettleOk({Make(1, 1, Processor::kDefault, 1)});
  ASSERT_TRUE(store_->PurgeAndWait().ok());
  SummaryOk(std::nullopt, std::nullopt);

  EXPECT_EQ(commits.count(), 2);
  EXPECT_EQ(summaries.count(), 1);
  store_.reset();  // before the histograms go
}

TEST(LedgerStoreOpenTest, UnwritablePathFailsToOpen) {
  absl::StatusOr<std::unique_ptr<LedgerStore>> store =
      LedgerStore::Open("/nonexistent-dir/definitely/ledger.db");
  EXPECT_FALSE(store.ok());
}

}  // namespace
}  // namespace rinha::ledger
