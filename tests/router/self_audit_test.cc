#include "router/self_audit.h"

#include <map>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace rinha::router {
namespace {

// Payments as each side holds them: (requestedAt ms, cents) per processor.
class FakeSource : public AuditSource {
 public:
  absl::StatusOr<AuditTotals> ProcessorTotals(Target target, int64_t from_ms,
                                              int64_t to_ms) override {
    ++processor_calls;
    if (fail) return absl::UnavailableError("down");
    return Sum(theirs[static_cast<int>(target)], from_ms, to_ms);
  }
  absl::StatusOr<std::array<AuditTotals, kTargets>> LedgerTotals(int64_t from_ms,
                                                                 int64_t to_ms) override {
    ++ledger_calls;
    return std::array<AuditTotals, kTargets>{Sum(ours[0], from_ms, to_ms),
                                             Sum(ours[1], from_ms, to_ms)};
  }
  static AuditTotals Sum(const std::vector<std::pair<int64_t, int64_t>>& rows, int64_t from,
                         int64_t to) {
    AuditTotals t;
    for (const auto& [at, cents] : rows) {
      if (at < from || at > to) continue;
      ++t.requests;
      t.cents += cents;
    }
    return t;
  }
  std::vector<std::pair<int64_t, int64_t>> ours[kTargets];
  std::vector<std::pair<int64_t, int64_t>> theirs[kTargets];
  bool fail = false;
  int processor_calls = 0;
  int ledger_calls = 0;
};

class SelfAuditTest : public ::testing::Test {
 protected:
  SelfAuditTest() : audit_(config_, source_) {}
  static SelfAuditConfig Config() {
    SelfAuditConfig c;
    c.admin_token = "123";
    c.window_ms = 10'000;
    c.settle_ms = 30'000;
    c.max_recheck_age_ms = 120'000;
    return c;
  }
  void Pay(Target t, int64_t at, bool recorded) {
    source_.theirs[static_cast<int>(t)].push_back({at, 2005});
    if (recorded) source_.ours[static_cast<int>(t)].push_back({at, 2005});
  }
  const SelfAuditConfig config_ = Config();
  FakeSource source_;
  SelfAudit audit_;
};

constexpr int64_t kT0 = 1'752'580'800'000;  // a multiple of 10 s

TEST_F(SelfAuditTest, EqualBooksAreCheckedOnceEachWindowAfterItCloses) {
  Pay(Target::kDefault, kT0 + 1000, true);
  Pay(Target::kFallback, kT0 + 2000, true);
  audit_.RunRound(kT0 + 45'000);  // [kT0, kT0+10s) closed 35 s ago > 30 s: checked
  SelfAuditStats s = audit_.stats();
  EXPECT_EQ(s.windows_checked, 1);
  EXPECT_EQ(s.last_window_end_ms, kT0 + 9'999);
  EXPECT_EQ(s.mismatched_total, 0);
  EXPECT_EQ(source_.processor_calls, 2);  // one per processor
  audit_.RunRound(kT0 + 49'000);          // nothing new has closed
  EXPECT_EQ(audit_.stats().windows_checked, 1);
  audit_.RunRound(kT0 + 55'000);
  EXPECT_EQ(audit_.stats().windows_checked, 2);
}

TEST_F(SelfAuditTest, APaymentHeldButNotRecordedIsAMismatchedWindowUntilItIsRecorded) {
  Pay(Target::kDefault, kT0 + 3000, false);  // paid, stuck: never reached the ledger
  audit_.RunRound(kT0 + 45'000);
  SelfAuditStats s = audit_.stats();
  EXPECT_EQ(s.mismatched_total, 1);
  EXPECT_EQ(s.mismatched_now, 1);
  // Rechecked every round while it differs.
  audit_.RunRound(kT0 + 55'000);
  EXPECT_EQ(audit_.stats().mismatched_now, 1);
  EXPECT_EQ(audit_.stats().mismatched_total, 1);  // the same window: counted once
  // Recorded at last: the next round clears it.
  source_.ours[0].push_back({kT0 + 3000, 2005});
  audit_.RunRound(kT0 + 65'000);
  s = audit_.stats();
  EXPECT_EQ(s.mismatched_now, 0);
  EXPECT_EQ(s.cleared_total, 1);
}

TEST_F(SelfAuditTest, AmountsCountAsWellAsRequests) {
  source_.theirs[1].push_back({kT0 + 1, 2005});
  source_.ours[1].push_back({kT0 + 1, 2000});
  audit_.RunRound(kT0 + 45'000);
  EXPECT_EQ(audit_.stats().mismatched_total, 1);
}

TEST_F(SelfAuditTest, AWindowStillDifferentAfterTheRecheckAgeIsAbandoned) {
  Pay(Target::kDefault, kT0 + 3000, false);
  for (int64_t t = kT0 + 45'000; t <= kT0 + 45'000 + config_.max_recheck_age_ms; t += 10'000) {
    audit_.RunRound(t);
  }
  const SelfAuditStats s = audit_.stats();
  EXPECT_EQ(s.abandoned_total, 1);
  EXPECT_EQ(s.mismatched_now, 0);
}

TEST_F(SelfAuditTest, AFailedCallIsCountedAndTheWindowCheckedNextRound) {
  source_.fail = true;
  audit_.RunRound(kT0 + 45'000);
  EXPECT_EQ(audit_.stats().errors, 1);
  EXPECT_EQ(audit_.stats().windows_checked, 0);
  source_.fail = false;
  audit_.RunRound(kT0 + 46'000);
  EXPECT_EQ(audit_.stats().windows_checked, 1);
  EXPECT_EQ(audit_.stats().last_window_end_ms, kT0 + 9'999);
}

TEST_F(SelfAuditTest, CallsStayFewWhenRoundsFallFarBehind) {
  audit_.RunRound(kT0 + 45'000);
  const int before = source_.processor_calls;
  audit_.RunRound(kT0 + 45'000 + 3'600'000);  // an hour later
  // Only the newest few windows, not 360 of them.
  EXPECT_LE(source_.processor_calls - before, 2 * 3);
}

TEST_F(SelfAuditTest, RechecksPerRoundAreBounded) {
  for (int w = 0; w < 10; ++w) Pay(Target::kDefault, kT0 + w * 10'000 + 1, false);
  for (int64_t t = kT0 + 45'000; t < kT0 + 45'000 + 10 * 10'000; t += 10'000) audit_.RunRound(t);
  const int before = source_.processor_calls;
  audit_.RunRound(kT0 + 45'000 + 10 * 10'000);
  // One new window and at most max_rechecks_per_round old ones, two calls each.
  EXPECT_LE(source_.processor_calls - before, 2 * (1 + config_.max_rechecks_per_round));
}

TEST(ParseAdminSummaryTest, ReadsEveryScaleTheOfficialProcessorPrints) {
  absl::StatusOr<AuditTotals> t = ParseAdminSummary(
      R"({"totalAmount":39.8,"totalRequests":2,"totalFee":1.990,"feePerTransaction":0.05})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->requests, 2);
  EXPECT_EQ(t->cents, 3980);
  t = ParseAdminSummary(
      R"({"totalAmount":0,"totalRequests":0,"totalFee":0.00,"feePerTransaction":0.07})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->cents, 0);
  EXPECT_FALSE(ParseAdminSummary(R"({"totalAmount":1})").ok());
  EXPECT_FALSE(ParseAdminSummary("nope").ok());
}

}  // namespace
}  // namespace rinha::router
