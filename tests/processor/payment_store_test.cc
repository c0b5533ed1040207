#include "processor/payment_store.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace rinha::processor {
namespace {

constexpr int64_t kT = 1'752'582'896'000;

Payment MakePayment(int n, int64_t cents, int64_t at_ms) {
  return Payment{absl::StrFormat("00000000-0000-4000-8000-%012d", n), cents, at_ms};
}

TEST(PaymentStoreTest, StoresAndFindsAPayment) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(1, 2005, kT)).ok());
  std::optional<Payment> found = store.Find("00000000-0000-4000-8000-000000000001");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->amount_cents, 2005);
  EXPECT_EQ(found->requested_at_ms, kT);
  EXPECT_FALSE(store.Find("00000000-0000-4000-8000-000000000002").has_value());
}

TEST(PaymentStoreTest, DuplicateCorrelationIdIsRejectedAndKeepsTheFirst) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(1, 2005, kT)).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(store.Insert(MakePayment(1, 999, kT + 1))));
  EXPECT_EQ(store.Find("00000000-0000-4000-8000-000000000001")->amount_cents, 2005);
  EXPECT_EQ(store.Summarize(std::nullopt, std::nullopt).count, 1);
}

TEST(PaymentStoreTest, SummaryBoundsAreInclusiveToTheMillisecond) {
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

TEST(PaymentStoreTest, IdsAreSortedAndWindowedLikeTheSummary) {
  PaymentStore store;
  ASSERT_TRUE(store.Insert(MakePayment(3, 300, kT + 5)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(1, 100, kT - 1)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(2, 200, kT)).ok());
  ASSERT_TRUE(store.Insert(MakePayment(4, 400, kT + 6)).ok());
  EXPECT_EQ(store.Ids(kT, kT + 5),
            (std::vector<std::string>{"00000000-0000-4000-8000-000000000002",
                                      "00000000-0000-4000-8000-000000000003"}));
  EXPECT_EQ(store.Ids(kT, std::nullopt).size(), 4u);
  EXPECT_EQ(store.Ids(std::nullopt, std::nullopt).front(), "00000000-0000-4000-8000-000000000001");
  store.Purge();
  EXPECT_TRUE(store.Ids(std::nullopt, std::nullopt).empty());
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
