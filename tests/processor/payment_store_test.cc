#include "processor/payment_store.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace rinha::processor {
namespace {

constexpr int64_t kT = 1'752'582'896'000'000;  // 2025-07-15T12:34:56Z, in microseconds

std::string IdOf(int n) { return absl::StrFormat("00000000-0000-4000-8000-%012d", n); }

Payment MakePayment(int n, int64_t cents, int64_t at_us, int scale = 2, int64_t inserted_ms = 0) {
  return Payment{IdOf(n), DecimalAmount{cents, scale}, at_us, inserted_ms};
}

TEST(PaymentStoreTest, StoresAndFindsAPaymentWithItsScaleMicrosecondsAndInsertTime) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(1, 1990, kT + 780'001, 1, 42)).ok());
  std::optional<Payment> found = store.Find(IdOf(1));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->amount.cents, 1990);
  EXPECT_EQ(found->amount.scale, 1);
  EXPECT_EQ(found->requested_at_us, kT + 780'001);
  EXPECT_EQ(found->inserted_at_ms, 42);
  EXPECT_FALSE(store.Find(IdOf(2)).has_value());
}

TEST(PaymentStoreTest, DuplicateCorrelationIdIsRejectedAndKeepsTheFirst) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(1, 2005, kT)).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(store.Insert(MakePayment(1, 999, kT + 1))));
  EXPECT_EQ(store.Find(IdOf(1))->amount.cents, 2005);
  EXPECT_EQ(store.Summarize(std::nullopt, std::nullopt).count, 1);
}

// The official compares Postgres timestamps, which hold microseconds: a bound one microsecond
// away from a row decides.
TEST(PaymentStoreTest, SummaryBoundsAreInclusiveToTheMicrosecond) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(1, 100, kT - 1)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(2, 200, kT)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(3, 300, kT + 5)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(4, 400, kT + 6)).ok());
  const PaymentTotals totals = store.Summarize(kT, kT + 5);
  EXPECT_EQ(totals.count, 2);
  EXPECT_EQ(totals.amount_cents, 500);
}

TEST(PaymentStoreTest, SummaryCountsEveryRowWhenEitherBoundIsMissing) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(1, 100, kT - 1000)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(2, 200, kT + 1000)).ok());
  EXPECT_EQ(store.Summarize(kT, std::nullopt).count, 2);
  EXPECT_EQ(store.Summarize(std::nullopt, kT).count, 2);
  EXPECT_EQ(store.Summarize(std::nullopt, std::nullopt).amount_cents, 300);
}

// SUM over a DECIMAL without a scale keeps the largest scale of the rows it adds.
TEST(PaymentStoreTest, SummaryScaleIsTheLargestOfTheRowsSummedAndZeroForNone) {
  PaymentStore store;
  EXPECT_EQ(store.Summarize(std::nullopt, std::nullopt).amount_scale, 0);
  ASSERT_TRUE(store.Insert(MakePayment(1, 2000, kT, 0)).ok());
  EXPECT_EQ(store.Summarize(std::nullopt, std::nullopt).amount_scale, 0);
  ASSERT_TRUE(store.Insert(MakePayment(2, 1990, kT + 10, 1)).ok());
  EXPECT_EQ(store.Summarize(std::nullopt, std::nullopt).amount_scale, 1);
  ASSERT_TRUE(store.Insert(MakePayment(3, 5, kT + 20, 2)).ok());
  EXPECT_EQ(store.Summarize(std::nullopt, std::nullopt).amount_scale, 2);
  // Only the rows in the window count.
  EXPECT_EQ(store.Summarize(kT, kT + 10).amount_scale, 1);
}

TEST(PaymentStoreTest, IdsAreSortedAndWindowedLikeTheSummary) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(3, 300, kT + 5)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(1, 100, kT - 1)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(2, 200, kT)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(4, 400, kT + 6)).ok());
  EXPECT_EQ(store.Ids(kT, kT + 5), (std::vector<std::string>{IdOf(2), IdOf(3)}));
  EXPECT_EQ(store.Ids(kT, std::nullopt).size(), 4u);
  EXPECT_EQ(store.Ids(std::nullopt, std::nullopt).front(), IdOf(1));
  store.Purge();
  EXPECT_TRUE(store.Ids(std::nullopt, std::nullopt).empty());
}

TEST(PaymentStoreTest, InsertedIdsCarryEachRowsInsertTimeSortedByIdAndWindowed) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(2, 200, kT, 2, 1002)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(1, 100, kT + 1, 2, 1003)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(3, 300, kT + 9, 2, 1001)).ok());
  const std::vector<InsertedId> all = store.InsertedIds(std::nullopt, std::nullopt);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].correlation_id, IdOf(1));
  EXPECT_EQ(all[0].inserted_at_ms, 1003);
  EXPECT_EQ(all[1].correlation_id, IdOf(2));
  EXPECT_EQ(all[1].inserted_at_ms, 1002);
  EXPECT_EQ(all[2].correlation_id, IdOf(3));
  EXPECT_EQ(all[2].inserted_at_ms, 1001);
  const std::vector<InsertedId> windowed = store.InsertedIds(kT, kT + 1);
  ASSERT_EQ(windowed.size(), 2u);
  EXPECT_EQ(windowed[0].correlation_id, IdOf(1));
  EXPECT_EQ(windowed[1].correlation_id, IdOf(2));
}

TEST(PaymentStoreTest, PurgeForgetsEverything) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(1, 100, kT)).ok());
  store.Purge();
  EXPECT_EQ(store.Summarize(std::nullopt, std::nullopt).count, 0);
  EXPECT_TRUE(store.Insert(MakePayment(1, 100, kT)).ok());
}

}  // namespace
}  // namespace rinha::processor
