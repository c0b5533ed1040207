#include "router/router_journal.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rinha::router {
namespace {

constexpr char kId1[] = "11111111-1111-4111-8111-111111111111";
constexpr char kId2[] = "22222222-2222-4222-8222-222222222222";

rinha::v1::Payment MakePayment(const std::string& id, int64_t cents) {
  rinha::v1::Payment p;
  p.set_correlation_id(id);
  p.set_amount_cents(cents);
  return p;
}

Journal::Record Rec(uint64_t handle, std::string payload) {
  return Journal::Record{handle, std::move(payload)};
}

TEST(ReplayJournal, APaymentNeverSentIsKnownToBeHeldNowhere) {
  const JournalReplay replay =
      ReplayJournal({Rec(1, EncodeAcceptedRecord(MakePayment(kId1, 2005)))});
  ASSERT_EQ(replay.payments.size(), 1u);
  const RecoveredPayment& p = replay.payments[0];
  EXPECT_EQ(p.correlation_id, kId1);
  EXPECT_EQ(p.amount_cents, 2005);
  EXPECT_TRUE(p.sends_known);
  EXPECT_EQ(p.sent_at_ms[0], -1);
  EXPECT_EQ(p.sent_at_ms[1], -1);
  EXPECT_EQ(std::vector<uint64_t>(p.journal_handles.begin(), p.journal_handles.end()),
            std::vector<uint64_t>({1}));
  EXPECT_TRUE(replay.orphans.empty());
}

TEST(ReplayJournal, TheLastPostToEachProcessorIsTheRequestedAtItWouldHold) {
  const JournalReplay replay = ReplayJournal({
      Rec(1, EncodeAcceptedRecord(MakePayment(kId1, 2005))),
      Rec(1, EncodeAcceptedRecord(MakePayment(kId2, 100))),
      Rec(2, EncodeDispatchedRecord(kId1, Target::kDefault, 1000)),
      Rec(2, EncodeDispatchedRecord(kId2, Target::kFallback, 1001)),
      Rec(3, EncodeDispatchedRecord(kId1, Target::kFallback, 2000)),
      Rec(4, EncodeDispatchedRecord(kId1, Target::kDefault, 3000)),
  });
  ASSERT_EQ(replay.payments.size(), 2u);
  const RecoveredPayment& a = replay.payments[0];
  EXPECT_EQ(a.correlation_id, kId1);
  EXPECT_EQ(a.sent_at_ms[static_cast<int>(Target::kDefault)], 3000);
  EXPECT_EQ(a.sent_at_ms[static_cast<int>(Target::kFallback)], 2000);
  EXPECT_EQ(std::vector<uint64_t>(a.journal_handles.begin(), a.journal_handles.end()),
            std::vector<uint64_t>({1, 2, 3, 4}));
  const RecoveredPayment& b = replay.payments[1];
  EXPECT_EQ(b.sent_at_ms[static_cast<int>(Target::kDefault)], -1);
  EXPECT_EQ(b.sent_at_ms[static_cast<int>(Target::kFallback)], 1001);
}

TEST(ReplayJournal, ABarePaymentOfAnOlderJournalMayBeHeldByEitherProcessor) {
  const JournalReplay replay = ReplayJournal({Rec(5, MakePayment(kId1, 2005).SerializeAsString())});
  ASSERT_EQ(replay.payments.size(), 1u);
  EXPECT_EQ(replay.payments[0].correlation_id, kId1);
  EXPECT_EQ(replay.payments[0].amount_cents, 2005);
  EXPECT_FALSE(replay.payments[0].sends_known);
}

TEST(ReplayJournal, APaymentJournaledTwiceIsOnePaymentHoldingEveryRecord) {
  const JournalReplay replay = ReplayJournal({
      Rec(1, EncodeAcceptedRecord(MakePayment(kId1, 2005))),
      Rec(2, EncodeAcceptedRecord(MakePayment(kId1, 2005))),
  });
  ASSERT_EQ(replay.payments.size(), 1u);
  EXPECT_EQ(replay.payments[0].journal_handles.size(), 2u);
}

TEST(ReplayJournal, RecordsOfNoPaymentToRecoverAreOrphansToRelease) {
  const JournalReplay replay = ReplayJournal({
      Rec(1, EncodeDispatchedRecord(kId1, Target::kDefault, 1000)),  // its acceptance is gone
      Rec(2, "\xff\xff garbage"),
  });
  EXPECT_TRUE(replay.payments.empty());
  EXPECT_EQ(replay.unreadable, 1);
  EXPECT_EQ(replay.orphans.size(), 2u);
}

TEST(ReplayJournal, ARecordIsNeverMistakenForABarePayment) {
  // A bare Payment parses as a RouterJournalRecord with neither field set (its fields are
  // unknown there), and a record does not parse as a Payment with an id.
  rinha::v1::RouterJournalRecord as_record;
  ASSERT_TRUE(as_record.ParseFromString(MakePayment(kId1, 1).SerializeAsString()));
  EXPECT_FALSE(as_record.has_accepted());
  EXPECT_FALSE(as_record.has_dispatched());
  rinha::v1::Payment as_payment;
  if (as_payment.ParseFromString(EncodeAcceptedRecord(MakePayment(kId1, 1)))) {
    EXPECT_TRUE(as_payment.correlation_id().empty());
  }
}

}  // namespace
}  // namespace rinha::router
