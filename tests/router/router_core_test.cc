#include "router/router_core.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/iso_time.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace rinha::router {
namespace {

constexpr char kId1[] = "11111111-1111-4111-8111-111111111111";
constexpr char kId2[] = "22222222-2222-4222-8222-222222222222";

struct Call {
  enum class Kind { kPost, kGet, kHealth } kind;
  uint64_t token;
  Target target;
  std::string text;  // POST body or GET id
};

class FakeTransport : public Transport {
 public:
  void PostPayment(uint64_t token, Target target, std::string body) override {
    calls.push_back({Call::Kind::kPost, token, target, std::move(body)});
  }
  void GetPayment(uint64_t token, Target target, std::string_view id) override {
    calls.push_back({Call::Kind::kGet, token, target, std::string(id)});
  }
  void GetHealth(uint64_t token, Target target) override {
    calls.push_back({Call::Kind::kHealth, token, target, ""});
  }
  // Removes and returns the calls of one kind made so far.
  std::vector<Call> Take(Call::Kind kind) {
    std::vector<Call> taken, kept;
    for (Call& c : calls) (c.kind == kind ? taken : kept).push_back(std::move(c));
    calls = std::move(kept);
    return taken;
  }
  std::vector<Call> calls;
};

class RecordingSink : public SettlementSink {
 public:
  void Settle(const rinha::v1::Settlement& s, int64_t,
              absl::Span<const uint64_t> journal_handles) override {
    settled.push_back(s);
    handles.push_back(journal_handles.empty() ? 0 : journal_handles[0]);
    all_handles.emplace_back(journal_handles.begin(), journal_handles.end());
  }
  std::vector<rinha::v1::Settlement> settled;
  std::vector<uint64_t> handles;  // the first handle of each settlement, 0 if none
  std::vector<std::vector<uint64_t>> all_handles;
};

// A payment of a journal written before POSTs were journaled: either processor may hold it.
RecoveredPayment Legacy(const std::string& id, int64_t cents, uint64_t handle) {
  RecoveredPayment p;
  p.correlation_id = id;
  p.amount_cents = cents;
  p.journal_handles.push_back(handle);
  p.sends_known = false;
  return p;
}

HttpOutcome Response(int status, std::string body = "") {
  return HttpOutcome{HttpOutcome::Kind::kResponse, status, std::move(body)};
}
HttpOutcome Outcome(HttpOutcome::Kind kind) { return HttpOutcome{kind, 0, ""}; }

// The failover tests below are about what happens once a payment moves; waiting for the cheaper
// processor (routing_policy.h) has its own tests (RouterCoreWaitTest), so it is off here.
RouterConfig NoWaitConfig() {
  RouterConfig config;
  config.routing.default_wait_ms = 0;
  return config;
}

class RouterCoreTest : public ::testing::Test {
 protected:
  explicit RouterCoreTest(RouterConfig config = NoWaitConfig())
      : config_(std::move(config)), core_(config_, transport_, sink_) {
    // Answer the first health polls: both healthy and fast.
    core_.Run(now());
    for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
      core_.OnHttpDone(c.token, Response(200, R"({"failing":false,"minResponseTime":0})"), now());
    }
  }
  // Both readings, as the dispatcher passes them.
  Now now() const { return Now{mono(), wall()}; }
  int64_t mono() const { return clock_.MonotonicMillis(); }
  int64_t wall() const { return clock_.NowMillis(); }
  void Advance(int64_t ms) { clock_.Advance(absl::Milliseconds(ms)); }
  // An NTP step: the wall clock jumps, the monotonic one does not move.
  void StepWall(int64_t ms) { clock_.SetTime(clock_.Now() + absl::Milliseconds(ms)); }
  void Answer(const Call& c, const HttpOutcome& outcome) {
    core_.OnHttpDone(c.token, outcome, now());
    core_.Run(now());
  }
  // Runs the core at every due time (monotonic) up to `ms` from now.
  void RunFor(int64_t ms) {
    const int64_t end = mono() + ms;
    for (int spins = 0;; ++spins) {
      const int64_t next = core_.Run(now());
      if (next > end) break;
      if (next > mono()) {
        Advance(next - mono());
        spins = 0;
      } else if (spins > 1000) {
        ADD_FAILURE() << "Run keeps asking to run again at " << next << " (now " << mono() << ")";
        break;
      }
    }
    Advance(end - mono());
    core_.Run(now());
  }
  std::vector<Call> Posts() { return transport_.Take(Call::Kind::kPost); }
  std::vector<Call> Gets() { return transport_.Take(Call::Kind::kGet); }

  testing::FakeClock clock_;
  RouterConfig config_;
  FakeTransport transport_;
  RecordingSink sink_;
  RouterCore core_;
};

TEST_F(RouterCoreTest, SendsToDefaultAndSettlesA200WithTheRequestedAtItSent) {
  ASSERT_EQ(core_.Accept(kId1, 2005), RouterCore::AcceptResult::kAccepted);
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kDefault);
  const std::string sent_at = FormatIsoMillis(wall());
  EXPECT_EQ(posts[0].text, std::string(R"({"correlationId":")") + kId1 +
                               R"(","amount":20.05,"requestedAt":")" + sent_at + "\"}");
  Advance(3);
  Answer(posts[0], Response(200));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].correlation_id(), kId1);
  EXPECT_EQ(sink_.settled[0].amount_cents(), 2005);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_EQ(sink_.settled[0].requested_at_ms(), wall() - 3);
  EXPECT_EQ(core_.pending(), 0);
}

TEST_F(RouterCoreTest, ARepeatedIdIsNeverPaidTwiceEvenAfterSettlement) {
  core_.Accept(kId1, 100);
  EXPECT_EQ(core_.Accept(kId1, 100), RouterCore::AcceptResult::kDuplicate);
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  Answer(posts[0], Response(200));
  EXPECT_EQ(core_.Accept(kId1, 100), RouterCore::AcceptResult::kDuplicate);
  core_.Run(now());
  EXPECT_TRUE(Posts().empty());
  EXPECT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(core_.stats().duplicates, 2);
}

TEST_F(RouterCoreTest, A500IsRetriedAtOnceAtTheFallback) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  std::vector<Call> posts = Posts();
  Advance(2000);
  Answer(posts[0], Response(500));
  posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kFallback);
  Answer(posts[0], Response(200));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_FALLBACK);
  EXPECT_EQ(sink_.settled[0].requested_at_ms(), wall());
}

TEST_F(RouterCoreTest, A429IsRetriedElsewhere) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Response(429));
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kFallback);
}

TEST_F(RouterCoreTest, A422SettlesWithTheRequestedAtTheProcessorHolds) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Response(422));
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].target, Target::kDefault);
  EXPECT_EQ(gets[0].text, kId1);
  Answer(gets[0],
         Response(200, std::string(R"({"correlationId":")") + kId1 +
                           R"(","amount":1.00,"requestedAt":"2025-07-15T12:34:56.789Z"})"));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_EQ(sink_.settled[0].requested_at_ms(), 1752582896789);
}

TEST_F(RouterCoreTest, ATimeoutPinsThePaymentToThatProcessorEvenWhileItFails) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  const int64_t timed_out_at = mono() + config_.timeouts.payment_ms;
  Advance(config_.timeouts.payment_ms);
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kTimeout));
  EXPECT_EQ(core_.stats().ambiguous, 1);
  // Other payments go to the fallback (default looks failing) but this one waits for default.
  core_.Accept(kId2, 100);
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kFallback);
  EXPECT_NE(posts[0].text.find(kId2), std::string::npos);
  Answer(posts[0], Response(200));
  // Looked up at default after its backoff, and again and again while it is not there: never
  // sent again (default took longer than our timeout: another POST would only time out too),
  // never sent elsewhere before the window has passed.
  int lookups = 0;
  while (mono() < timed_out_at + config_.retry.ambiguity_settle_ms - 100) {
    RunFor(50);
    EXPECT_TRUE(Posts().empty());
    for (const Call& c : Gets()) {
      ASSERT_EQ(c.target, Target::kDefault);
      ++lookups;
      Answer(c, Response(404));
    }
    transport_.Take(Call::Kind::kHealth);
  }
  EXPECT_GE(lookups, 5);
  // Lookups back off: far fewer than one per 50 ms.
  EXPECT_LE(lookups, config_.retry.ambiguity_settle_ms / config_.retry.max_backoff_ms + 8);
  EXPECT_EQ(sink_.settled.size(), 1u);  // only kId2
  EXPECT_EQ(core_.pending(), 1);
  // The first lookup made after the window that finds nothing releases it.
  std::vector<Call> to_fallback;
  for (int i = 0; i < 100 && to_fallback.empty(); ++i) {
    RunFor(100);
    for (const Call& c : Gets()) Answer(c, Response(404));
    to_fallback = Posts();
    transport_.Take(Call::Kind::kHealth);
  }
  ASSERT_EQ(to_fallback.size(), 1u);
  EXPECT_EQ(to_fallback[0].target, Target::kFallback);
  EXPECT_GE(mono(), timed_out_at + config_.retry.ambiguity_settle_ms);
}

// The official test's worst case beyond its timeline: a default slower than our payment timeout.
// Every payment times out, default inserts each a little later, and the lookups find them there,
// each recorded once with the requestedAt we sent, within its delay plus a lookup's backoff.
TEST_F(RouterCoreTest,
       AProcessorSlowerThanOurTimeoutHasEveryPaymentRecordedOnceSoonAfterItsInsert) {
  const int64_t delay_ms = config_.timeouts.payment_ms + 1500;
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(absl::StrFormat("00000000-0000-4000-8000-%012d", i));
    core_.Accept(ids.back(), 100);
  }
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 20u);
  const int64_t sent_wall = wall();
  const int64_t sent_mono = mono();
  Advance(config_.timeouts.payment_ms);
  for (const Call& c : posts) Answer(c, Outcome(HttpOutcome::Kind::kTimeout));
  // Default holds each payment from sent + delay on; a lookup answers as the official processor
  // does (no zone, trailing zeros dropped).
  const std::string held = std::string(R"({"correlationId":"x","amount":1.00,"requestedAt":")") +
                           FormatIsoMicrosUnzoned(sent_wall * 1000) + "\"}";
  int64_t last_settled_mono = 0;
  for (int i = 0; i < 400 && sink_.settled.size() < 20; ++i) {
    RunFor(50);
    for (const Call& c : Posts()) {
      ASSERT_EQ(c.target, Target::kFallback) << "a POST after the timeout went to default";
      FAIL() << "a payment default holds was sent elsewhere";
    }
    for (const Call& c : Gets()) {
      const bool inserted = mono() >= sent_mono + delay_ms;
      Answer(c, inserted ? Response(200, held) : Response(404));
      if (inserted) last_settled_mono = mono();
    }
    transport_.Take(Call::Kind::kHealth);
  }
  ASSERT_EQ(sink_.settled.size(), 20u);
  for (const auto& s : sink_.settled) {
    EXPECT_EQ(s.processor(), rinha::v1::PROCESSOR_DEFAULT);
    EXPECT_EQ(s.requested_at_ms(), sent_wall);
  }
  EXPECT_LE(last_settled_mono, sent_mono + delay_ms + config_.retry.max_backoff_ms);
  EXPECT_EQ(core_.stats().unreadable_echoes, 0);
  EXPECT_EQ(core_.stats().echo_mismatches, 0);
}

TEST_F(RouterCoreTest, AnAmbiguousPaymentIsReleasedOnlyAfterALookupFindsNothing) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Advance(5);
  const int64_t ambiguous_at = mono();
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kConnectionLost));
  // Default keeps failing (POSTs 500, a health poll says so) and never has it (lookups 404): the
  // payment must not move before the window has passed.
  std::vector<Call> to_fallback;
  int lookups = 0;
  while (to_fallback.empty() && mono() < ambiguous_at + config_.retry.ambiguity_settle_ms +
                                             2 * config_.retry.max_backoff_ms) {
    RunFor(100);
    for (const Call& c : Posts()) {
      if (c.target == Target::kFallback) {
        to_fallback.push_back(c);
        continue;
      }
      Answer(c, Response(500));
    }
    for (const Call& c : Gets()) {
      EXPECT_EQ(c.target, Target::kDefault);
      ++lookups;
      Answer(c, Response(404));
    }
    for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
      core_.OnHttpDone(
          c.token,
          Response(200, c.target == Target::kDefault ? R"({"failing":true,"minResponseTime":0})"
                                                     : R"({"failing":false,"minResponseTime":0})"),
          now());
    }
  }
  ASSERT_EQ(to_fallback.size(), 1u);
  EXPECT_GE(mono(), ambiguous_at + config_.retry.ambiguity_settle_ms);
  EXPECT_GE(lookups, 2);  // some within the window, the last one after it
  Answer(to_fallback[0], Response(200));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_FALLBACK);
}

TEST_F(RouterCoreTest, AnAmbiguousPaymentFoundByTheLookupSettlesWhereItIs) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kTimeout));
  // Default stays unreachable for POSTs (connection refused) until the lookup.
  std::vector<Call> gets;
  for (int i = 0; i < 1000 && gets.empty(); ++i) {
    RunFor(100);
    for (const Call& c : Posts()) {
      ASSERT_EQ(c.target, Target::kDefault);
      Answer(c, Outcome(HttpOutcome::Kind::kConnectFailed));
    }
    transport_.Take(Call::Kind::kHealth);
    gets = Gets();
  }
  ASSERT_EQ(gets.size(), 1u);
  Answer(gets[0], Response(200, R"({"requestedAt":"2025-07-15T12:34:56.000Z"})"));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_EQ(sink_.settled[0].requested_at_ms(), 1752582896000);
}

TEST_F(RouterCoreTest, AnAmbiguousPaymentIsLookedUpBeforeItIsSentAgain) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  const int64_t first_sent_at = wall();
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kConnectionLost));
  RunFor(config_.retry.initial_backoff_ms);
  EXPECT_TRUE(Posts().empty());
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].target, Target::kDefault);
  EXPECT_EQ(gets[0].text, kId1);
  // Not there (it never arrived): sent again, to the same processor only.
  Answer(gets[0], Response(404));
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kDefault);
  // With the requestedAt of the first POST: whichever of the two default stores, it holds what
  // we record.
  EXPECT_NE(posts[0].text.find(FormatIsoMillis(first_sent_at)), std::string::npos);
  Answer(posts[0], Response(200));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_EQ(sink_.settled[0].requested_at_ms(), first_sent_at);
}

// The emulator's reset and truncated modes: the processor stored the payment, then broke its
// answer (to the 422 of any re-send as well). The lookup settles it without a second POST.
TEST_F(RouterCoreTest, ABrokenAnswerOfAStoredPaymentIsSettledByTheLookupWithoutAnotherPost) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kConnectionLost));
  RunFor(config_.retry.initial_backoff_ms);
  EXPECT_TRUE(Posts().empty());
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  Answer(gets[0], Response(200, R"({"requestedAt":"2025-07-15T12:34:56.000Z"})"));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_EQ(sink_.settled[0].requested_at_ms(), 1752582896000);
  RunFor(config_.retry.ambiguity_settle_ms);
  EXPECT_TRUE(Posts().empty());
  EXPECT_TRUE(Gets().empty());
}

// A processor that breaks every answer after storing (truncated, probability 1): each payment it
// gets is found by a lookup; the others go to the fallback meanwhile.
TEST_F(RouterCoreTest, AProcessorBreakingEveryAnswerGetsItsPaymentsSettledAndTheRestMoves) {
  for (int i = 0; i < 10; ++i) {
    core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", i), 100);
  }
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 10u);
  for (const Call& c : posts) Answer(c, Outcome(HttpOutcome::Kind::kConnectionLost));
  core_.Accept(kId1, 100);
  core_.Run(now());
  posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kFallback);
  Answer(posts[0], Response(200));
  RunFor(config_.retry.initial_backoff_ms);
  std::vector<Call> gets = Gets();
  EXPECT_EQ(gets.size(), 10u);
  for (const Call& c : gets) {
    EXPECT_EQ(c.target, Target::kDefault);
    Answer(c, Response(200, R"({"requestedAt":"2025-07-15T12:34:56.000Z"})"));
  }
  EXPECT_EQ(sink_.settled.size(), 11u);
  EXPECT_EQ(core_.pending(), 0);
  EXPECT_TRUE(Posts().empty());
}

TEST_F(RouterCoreTest, A200WithABodyWeCannotReadIsSettled) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Response(200, "<html>payment processed successfully}{\x01"));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_EQ(core_.stats().ambiguous, 0);
  EXPECT_EQ(core_.stats().rejected, 0);
}

TEST_F(RouterCoreTest, AConnectFailureIsNotAmbiguous) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kConnectFailed));
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kFallback);
  EXPECT_EQ(core_.stats().ambiguous, 0);
}

TEST_F(RouterCoreTest, WhenBothFailPaymentsWaitOnlyProbesGoAndNothingIsLost) {
  for (int i = 0; i < 50; ++i) {
    core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", i), 100);
  }
  core_.Run(now());
  // Everything went to default; it fails them all, then the fallback fails its share.
  for (int round = 0; round < 2; ++round) {
    for (const Call& c : Posts()) Answer(c, Response(500));
  }
  for (const Call& c : Posts()) Answer(c, Response(500));
  EXPECT_EQ(core_.stats().queued, 50);
  // For a while only one probe per processor is ever in flight.
  for (int i = 0; i < 30; ++i) {
    RunFor(100);
    std::vector<Call> posts = Posts();
    EXPECT_LE(posts.size(), 2u);
    for (const Call& c : posts) Answer(c, Response(500));
    transport_.Take(Call::Kind::kHealth);
  }
  EXPECT_EQ(core_.stats().queued, 50);
  // Default recovers: the next probe succeeds and the queue drains there.
  std::vector<Call> posts;
  for (int i = 0; i < 100 && posts.empty(); ++i) {
    RunFor(50);
    posts = Posts();
  }
  ASSERT_FALSE(posts.empty());
  int64_t settled = 0;
  for (int i = 0; i < 10 && settled < 50; ++i) {
    for (const Call& c : posts) {
      Answer(c, Response(200));
    }
    posts = Posts();
    settled = static_cast<int64_t>(sink_.settled.size());
  }
  EXPECT_EQ(settled, 50);
  EXPECT_EQ(core_.pending(), 0);
}

TEST_F(RouterCoreTest, PollsEachProcessorAtMostOncePerIntervalWithoutBlockingPayments) {
  // The constructor's polls were answered at t0. A poll left unanswered blocks nothing.
  RunFor(config_.health.min_interval_ms);
  std::vector<Call> polls = transport_.Take(Call::Kind::kHealth);
  ASSERT_EQ(polls.size(), 2u);
  core_.Accept(kId1, 100);
  core_.Run(now());
  EXPECT_EQ(Posts().size(), 1u);
  RunFor(3 * config_.health.min_interval_ms);
  EXPECT_TRUE(transport_.Take(Call::Kind::kHealth).empty());
  core_.OnHttpDone(polls[0].token, Response(429), now());
  core_.Run(now());
  EXPECT_EQ(transport_.Take(Call::Kind::kHealth).size(), 1u);
}

TEST_F(RouterCoreTest, APollSayingFailingMovesTrafficBeforeAnyPaymentFails) {
  RunFor(config_.health.min_interval_ms);
  for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
    core_.OnHttpDone(
        c.token,
        Response(200, c.target == Target::kDefault ? R"({"failing":true,"minResponseTime":2000})"
                                                   : R"({"failing":false,"minResponseTime":0})"),
        now());
  }
  core_.Accept(kId1, 100);
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kFallback);
}

TEST_F(RouterCoreTest, PurgeForgetsSettledIdsButNotPendingOnes) {
  core_.Accept(kId1, 100);
  core_.Accept(kId2, 100);
  core_.Run(now());
  std::vector<Call> posts = Posts();
  Answer(posts[0], Response(200));  // kId1 settled, kId2 in flight
  EXPECT_EQ(core_.Purge(), 1);
  EXPECT_EQ(core_.Accept(kId2, 100), RouterCore::AcceptResult::kDuplicate);
  EXPECT_EQ(core_.Accept(kId1, 100), RouterCore::AcceptResult::kAccepted);
}

TEST_F(RouterCoreTest, AFullFastDefaultIsWaitedForASlowOneOverflowsToTheFallback) {
  // Fast (0 ms): 5 more than it takes wait for room there.
  for (int i = 0; i < config_.routing.max_in_flight + 5; ++i) {
    core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", i), 100);
  }
  core_.Run(now());
  std::vector<Call> posts = Posts();
  int to_default = 0, to_fallback = 0;
  for (const Call& c : posts) (c.target == Target::kDefault ? to_default : to_fallback)++;
  EXPECT_EQ(to_default, config_.routing.max_in_flight);
  EXPECT_EQ(to_fallback, 0);
  Advance(1000);                         // answered after a second: the default is slow now
  core_.Accept(kId1, 100, 0, 0, now());  // and the load goes on
  Answer(posts[0], Response(200));
  std::vector<Call> more = Posts();
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].target, Target::kDefault);
  // 1000 more arrive: at 1000 ms and 700 in flight, 700 queued is what a second sends; the rest
  // overflows.
  for (int i = 0; i < 1000; ++i) {
    core_.Accept(absl::StrFormat("00000000-0000-4000-9000-%012d", i), 100);
  }
  core_.Run(now());
  to_default = to_fallback = 0;
  for (const Call& c : Posts()) (c.target == Target::kDefault ? to_default : to_fallback)++;
  EXPECT_EQ(to_default, 0);
  EXPECT_EQ(to_fallback, 1000 + 5 - config_.routing.max_in_flight);
}

TEST_F(RouterCoreTest, LookupsInFlightAreBoundedPerProcessor) {
  const int n = config_.routing.max_lookups_in_flight + 10;
  for (int i = 0; i < n; ++i) {
    core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", i), 100);
  }
  core_.Run(now());
  for (const Call& c : Posts()) Answer(c, Response(422));
  std::vector<Call> gets = Gets();
  EXPECT_EQ(static_cast<int>(gets.size()), config_.routing.max_lookups_in_flight);
  for (const Call& c : gets)
    Answer(c, Response(200, R"({"requestedAt":"2025-07-15T12:34:56.000Z"})"));
  RunFor(config_.retry.initial_backoff_ms);
  gets = Gets();
  EXPECT_EQ(gets.size(), 10u);
  for (const Call& c : gets)
    Answer(c, Response(200, R"({"requestedAt":"2025-07-15T12:34:56.000Z"})"));
  EXPECT_EQ(static_cast<int>(sink_.settled.size()), n);
}

TEST_F(RouterCoreTest, RejectsInvalidPayments) {
  EXPECT_EQ(core_.Accept("", 100), RouterCore::AcceptResult::kInvalid);
  EXPECT_EQ(core_.Accept(kId1, 0), RouterCore::AcceptResult::kInvalid);
}

// ---- Time: every timer on the monotonic reading; only requestedAt follows the wall clock.

constexpr int64_t kHour = 3'600'000;

TEST_F(RouterCoreTest, RequestedAtFollowsTheWallClockAcrossSteps) {
  for (const int64_t step : {-kHour, 2 * kHour}) {
    StepWall(step);
    const std::string id = step < 0 ? kId1 : kId2;
    core_.Accept(id, 2005);
    core_.Run(now());
    std::vector<Call> posts = Posts();
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_NE(posts[0].text.find(absl::StrCat(R"("requestedAt":")", FormatIsoMillis(wall()))),
              std::string::npos)
        << posts[0].text;
    Answer(posts[0], Response(200));
    ASSERT_FALSE(sink_.settled.empty());
    EXPECT_EQ(sink_.settled.back().correlation_id(), id);
    EXPECT_EQ(sink_.settled.back().requested_at_ms(), wall());
  }
}

// Attempts (POST or GET) made so far for kId1 at `target`.
int AttemptsAt(std::vector<Call>& calls, Target target) {
  int n = 0;
  for (const Call& c : calls) n += c.target == target && c.text.find(kId1) != std::string::npos;
  return n;
}

TEST_F(RouterCoreTest, AWallClockStepNeitherDelaysNorHastensARetry) {
  for (const int64_t step : {-kHour, kHour}) {
    core_.Purge();
    core_.Accept(kId1, 100);
    core_.Run(now());
    std::vector<Call> posts = Posts();
    ASSERT_EQ(posts.size(), 1u);
    const Target target = posts[0].target;
    Answer(posts[0], Outcome(HttpOutcome::Kind::kConnectionLost));  // pinned, backoff armed
    StepWall(step);
    RunFor(config_.retry.initial_backoff_ms - 1);
    EXPECT_EQ(AttemptsAt(transport_.calls, target), 0) << "retried early after a step of " << step;
    RunFor(1);
    ASSERT_EQ(AttemptsAt(transport_.calls, target), 1)
        << "not retried on time after a step of " << step;
    // Settle it where it is, for the next round.
    for (const Call& c : Gets()) {
      Answer(c, Response(200, R"({"requestedAt":"2025-07-15T12:34:56.000Z"})"));
    }
    for (const Call& c : Posts()) Answer(c, Response(200));
    ASSERT_EQ(core_.pending(), 0);
  }
}

TEST_F(RouterCoreTest, AWallClockStepNeitherDelaysNorHastensTheHealthPolls) {
  // The constructor's polls were answered at t0.
  StepWall(-kHour);
  RunFor(config_.health.min_interval_ms - 1);
  EXPECT_TRUE(transport_.Take(Call::Kind::kHealth).empty());
  RunFor(1);
  std::vector<Call> polls = transport_.Take(Call::Kind::kHealth);
  ASSERT_EQ(polls.size(), 2u);
  for (const Call& c : polls) {
    core_.OnHttpDone(c.token, Response(200, R"({"failing":false,"minResponseTime":0})"), now());
  }
  StepWall(2 * kHour);
  RunFor(config_.health.min_interval_ms - 1);
  EXPECT_TRUE(transport_.Take(Call::Kind::kHealth).empty());
  RunFor(1);
  EXPECT_EQ(transport_.Take(Call::Kind::kHealth).size(), 2u);
}

TEST_F(RouterCoreTest, AWallClockStepDoesNotMakeAProcessorLookSlow) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  ASSERT_EQ(Posts().size(), 1u);  // in flight at default
  StepWall(kHour);
  Advance(5);
  EXPECT_EQ(core_.signals(Target::kDefault, mono()).latency_ms, 5);
  core_.Accept(kId2, 100);
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kDefault);
}

TEST_F(RouterCoreTest, AWallClockStepDoesNotShortenTheAmbiguityWindow) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  const int64_t ambiguous_at = mono();
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kTimeout));
  StepWall(24 * kHour);  // a day forward: the window must still be measured from ambiguous_at
  std::vector<Call> fallback_posts;
  for (int i = 0; i < 500 && fallback_posts.empty(); ++i) {
    RunFor(50);
    for (const Call& c : Posts()) {
      if (c.target == Target::kFallback) {
        fallback_posts.push_back(c);
      } else {
        Answer(c, Response(500));
      }
    }
    for (const Call& c : Gets()) Answer(c, Response(404));
    for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
      core_.OnHttpDone(
          c.token,
          Response(200, c.target == Target::kDefault ? R"({"failing":true,"minResponseTime":0})"
                                                     : R"({"failing":false,"minResponseTime":0})"),
          now());
    }
  }
  ASSERT_EQ(fallback_posts.size(), 1u);
  EXPECT_GE(mono(), ambiguous_at + config_.retry.ambiguity_settle_ms);
}

TEST_F(RouterCoreTest, AWallClockStepBackDoesNotStretchTheAmbiguityWindow) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  const int64_t ambiguous_at = mono();
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kTimeout));
  StepWall(-24 * kHour);
  std::vector<Call> fallback_posts;
  while (fallback_posts.empty() && mono() < ambiguous_at + config_.retry.ambiguity_settle_ms +
                                                2 * config_.retry.max_backoff_ms) {
    RunFor(50);
    for (const Call& c : Posts()) {
      if (c.target == Target::kFallback) {
        fallback_posts.push_back(c);
      } else {
        Answer(c, Outcome(HttpOutcome::Kind::kConnectFailed));
      }
    }
    for (const Call& c : Gets()) Answer(c, Response(404));
    transport_.Take(Call::Kind::kHealth);
  }
  // Released within the window plus one backoff of the monotonic clock, not a day later.
  ASSERT_EQ(fallback_posts.size(), 1u);
}

TEST_F(RouterCoreTest, AWallClockStepDoesNotShortenARecoveredPaymentsInsertWindow) {
  core_.Recover(Legacy(kId1, 2005, 7), now());
  core_.Run(now());
  for (const Call& c : Gets()) Answer(c, Response(404));
  StepWall(24 * kHour);
  RunFor(config_.retry.ambiguity_settle_ms - 1);
  EXPECT_TRUE(Posts().empty());
  EXPECT_TRUE(Gets().empty());
  RunFor(1);
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 2u);
  for (const Call& c : gets) Answer(c, Response(404));
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  // Sent now, stamped with the (stepped) wall clock.
  EXPECT_NE(posts[0].text.find(FormatIsoMillis(wall())), std::string::npos);
}

// ---- Double payments after a 500 (the emulator's store_then_500).

constexpr char kHeld[] =
    R"({"correlationId":"x","amount":1.00,"requestedAt":"2025-07-15T12:00:00.000Z"})";

TEST_F(RouterCoreTest, A500ThatStoredIsFoundAfterTheFailoverAndRecordedAsADoublePayment) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  const int64_t sent_to_default = wall();
  Advance(7);
  Answer(Posts()[0], Response(500));  // default stored it all the same
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  ASSERT_EQ(posts[0].target, Target::kFallback);
  EXPECT_TRUE(Gets().empty());  // nothing is looked up before it is settled elsewhere
  Answer(posts[0], Response(200));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_FALSE(sink_.settled[0].double_payment());
  // Looked up at default at once.
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].target, Target::kDefault);
  EXPECT_EQ(gets[0].text, kId1);
  EXPECT_EQ(core_.stats().double_checks, 1);
  Answer(gets[0], Response(200, kHeld));
  ASSERT_EQ(sink_.settled.size(), 2u);
  const rinha::v1::Settlement& twice = sink_.settled[1];
  EXPECT_EQ(twice.correlation_id(), kId1);
  EXPECT_EQ(twice.processor(), rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_TRUE(twice.double_payment());
  EXPECT_EQ(twice.amount_cents(), 100);
  // Default stored what we sent it; its echo (kHeld) says otherwise: counted, and what we sent
  // is recorded.
  EXPECT_EQ(twice.requested_at_ms(), sent_to_default);
  EXPECT_EQ(core_.stats().echo_mismatches, 1);
  EXPECT_EQ(sink_.handles[1], 0u);
  EXPECT_EQ(core_.stats().double_payments_detected, 1);
  EXPECT_EQ(core_.stats().double_checks, 0);
  RunFor(2 * config_.retry.ambiguity_settle_ms);
  EXPECT_TRUE(Gets().empty());
}

TEST_F(RouterCoreTest, A500ThatStoredNothingIsLookedUpOnceMoreAfterItsWindowThenForgotten) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Advance(30);
  const int64_t failed_at = mono();
  Answer(Posts()[0], Response(500));
  Answer(Posts()[0], Response(200));  // at the fallback
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  Answer(gets[0], Response(404));
  // Default might still insert it (a processor that answers before it stores): once more when
  // its window has passed, and no more.
  RunFor(failed_at + config_.retry.ambiguity_settle_ms - mono() - 1);
  EXPECT_TRUE(Gets().empty());
  RunFor(1);
  gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].target, Target::kDefault);
  Answer(gets[0], Response(404));
  EXPECT_EQ(core_.stats().double_checks, 0);
  RunFor(2 * config_.retry.ambiguity_settle_ms);
  EXPECT_TRUE(Gets().empty());
  EXPECT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(core_.stats().double_payments_detected, 0);
}

TEST_F(RouterCoreTest, OnlyA5xxIsCheckedForADoublePayment) {
  const std::vector<HttpOutcome> not_stored = {Response(429), Response(400),
                                               Outcome(HttpOutcome::Kind::kConnectFailed)};
  for (size_t i = 0; i < not_stored.size(); ++i) {
    const std::string id = absl::StrFormat("00000000-0000-4000-8000-%012d", i);
    core_.Accept(id, 100);
    core_.Run(now());
    std::vector<Call> posts = Posts();
    ASSERT_EQ(posts.size(), 1u);
    Answer(posts[0], not_stored[i]);
    posts = Posts();
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_NE(posts[0].target, Target::kDefault);
    Answer(posts[0], Response(200));
    // Let default be healthy again for the next one.
    RunFor(config_.health.min_interval_ms);
    for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
      core_.OnHttpDone(c.token, Response(200, R"({"failing":false,"minResponseTime":0})"), now());
    }
  }
  RunFor(2 * config_.retry.ambiguity_settle_ms);
  EXPECT_TRUE(Gets().empty());
  EXPECT_EQ(core_.stats().double_checks, 0);
}

TEST_F(RouterCoreTest, ADoubleCheckWithoutAnAnswerIsRetriedABoundedNumberOfTimes) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Response(500));
  Answer(Posts()[0], Response(200));
  int lookups = 0;
  for (int i = 0; i < 200; ++i) {
    for (const Call& c : Gets()) {
      ++lookups;
      Answer(c, Outcome(HttpOutcome::Kind::kConnectFailed));
    }
    RunFor(config_.retry.max_backoff_ms);
    transport_.Take(Call::Kind::kHealth);
  }
  EXPECT_GE(lookups, 2);
  EXPECT_LE(lookups, 12);
  EXPECT_EQ(core_.stats().double_checks, 0);
  EXPECT_EQ(core_.stats().in_flight, 0);
}

TEST_F(RouterCoreTest, DoubleChecksShareTheBoundOnLookupsInFlight) {
  const int n = config_.routing.max_lookups_in_flight + 8;
  for (int i = 0; i < n; ++i) {
    core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", i), 100);
  }
  core_.Run(now());
  for (const Call& c : Posts()) Answer(c, Response(500));
  for (const Call& c : Posts()) Answer(c, Response(200));
  std::vector<Call> gets = Gets();
  EXPECT_EQ(static_cast<int>(gets.size()), config_.routing.max_lookups_in_flight);
  for (const Call& c : gets) Answer(c, Response(200, kHeld));
  RunFor(config_.retry.initial_backoff_ms);
  gets = Gets();
  EXPECT_EQ(gets.size(), 8u);
  for (const Call& c : gets) Answer(c, Response(200, kHeld));
  EXPECT_EQ(core_.stats().double_payments_detected, n);
  EXPECT_EQ(static_cast<int>(sink_.settled.size()), 2 * n);
}

// ---- A 429 storm or a refusing processor never starves the other one.

TEST_F(RouterCoreTest, A429StormAtDefaultSendsEveryPaymentToTheFallbackAtOnce) {
  for (int i = 0; i < 20; ++i) {
    core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", i), 100);
  }
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 20u);
  // Every one refused at once; without any time passing each goes to the fallback.
  for (const Call& c : posts) Answer(c, Response(429));
  posts = Posts();
  ASSERT_EQ(posts.size(), 20u);
  for (const Call& c : posts) {
    EXPECT_EQ(c.target, Target::kFallback);
    Answer(c, Response(200));
  }
  EXPECT_EQ(core_.stats().queued, 0);
  // Later payments go straight to the fallback until a poll says default is fine again.
  for (int round = 0; round < 3; ++round) {
    Advance(1000);
    core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", 100 + round), 100);
    core_.Run(now());
    posts = Posts();
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_EQ(posts[0].target, Target::kFallback);
    Answer(posts[0], Response(200));
  }
  EXPECT_EQ(static_cast<int>(sink_.settled.size()), 23);
  EXPECT_EQ(core_.pending(), 0);
}

TEST_F(RouterCoreTest, ARefusingDefaultSendsEveryPaymentToTheFallbackAtOnceAndPinnedOnesWait) {
  // One payment was in flight when default closed every connection: ambiguous, pinned there.
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kConnectionLost));
  for (int i = 0; i < 20; ++i) {
    core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", i), 100);
  }
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 20u);
  for (const Call& c : posts) {
    EXPECT_EQ(c.target, Target::kFallback);
    Answer(c, Response(200));
  }
  // Default refuses for 3 s: the pinned payment's lookups fail to connect and it waits; health
  // polls fail too; nothing else waits for default.
  int lookups = 0;
  for (int i = 0; i < 30; ++i) {
    RunFor(100);
    for (const Call& c : Gets()) {
      EXPECT_EQ(c.target, Target::kDefault);
      ++lookups;
      Answer(c, Outcome(HttpOutcome::Kind::kConnectFailed));
    }
    for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
      core_.OnHttpDone(c.token,
                       c.target == Target::kDefault
                           ? Outcome(HttpOutcome::Kind::kConnectFailed)
                           : Response(200, R"({"failing":false,"minResponseTime":0})"),
                       now());
    }
    core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", 100 + i), 100);
    core_.Run(now());
    posts = Posts();
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_EQ(posts[0].target, Target::kFallback);
    Answer(posts[0], Response(200));
  }
  EXPECT_GE(lookups, 2);
  EXPECT_EQ(core_.pending(), 1);  // only the pinned one
  // Default listens again: the pinned payment's next lookup finds it.
  std::vector<Call> gets;
  for (int i = 0; i < 100 && gets.empty(); ++i) {
    RunFor(100);
    gets = Gets();
    transport_.Take(Call::Kind::kHealth);
  }
  ASSERT_EQ(gets.size(), 1u);
  Answer(gets[0], Response(200, kHeld));
  EXPECT_EQ(core_.pending(), 0);
  EXPECT_EQ(sink_.settled.size(), 51u);
}

// Two shards of the router, each with its own core, transport and gate, sharing nothing but the
// clock, as on two hosts: their health calls to each processor, together, start at least the
// gate's interval apart, every one answered at once; each wakes for its own slot, also when the
// wake-up comes late (a throttled process) within the slot's opening.
TEST(RouterCoreShardsTest, ShardsTakeTurnsAtTheHealthEndpointNeverTwicePerInterval) {
  for (const int64_t late_ms : {int64_t{0}, int64_t{350}}) {
    testing::FakeClock clock;
    RouterConfig configs[2];
    FakeTransport transports[2];
    RecordingSink sinks[2];
    for (int i = 0; i < 2; ++i) {
      configs[i].health.slot = i;
      configs[i].health.slots = 2;
    }
    RouterCore cores[2] = {RouterCore(configs[0], transports[0], sinks[0]),
                           RouterCore(configs[1], transports[1], sinks[1])};
    std::vector<int64_t> starts[kTargets];  // wall ms of every call, per processor
    int per_shard[2] = {0, 0};
    const int64_t end = clock.MonotonicMillis() + 120'000;
    while (clock.MonotonicMillis() < end) {
      int64_t next = std::numeric_limits<int64_t>::max();
      for (int i = 0; i < 2; ++i) {
        const Now now{clock.MonotonicMillis(), clock.NowMillis()};
        next = std::min(next, cores[i].Run(now));
        for (const Call& c : transports[i].Take(Call::Kind::kHealth)) {
          starts[static_cast<int>(c.target)].push_back(now.wall_ms);
          ++per_shard[i];
          cores[i].OnHttpDone(c.token, Response(200, R"({"failing":false,"minResponseTime":0})"),
                              now);
        }
      }
      ASSERT_GT(next, clock.MonotonicMillis()) << "a core asks to run again at once";
      clock.Advance(absl::Milliseconds(next - clock.MonotonicMillis() + late_ms));
    }
    for (int t = 0; t < kTargets; ++t) {
      // 120 s of 5.5 s slots: 21 or 22 calls per processor, all shards together.
      EXPECT_GE(starts[t].size(), 20u) << "late " << late_ms;
      for (size_t k = 1; k < starts[t].size(); ++k) {
        EXPECT_GE(starts[t][k] - starts[t][k - 1], configs[0].health.min_interval_ms)
            << "late " << late_ms << ", call " << k;
      }
    }
    EXPECT_GE(per_shard[0], 20) << "late " << late_ms;  // about 11 per processor each
    EXPECT_GE(per_shard[1], 20) << "late " << late_ms;
  }
}

TEST(RouterCoreParsingTest, ReadsHealthAnswers) {
  bool failing = true;
  int64_t min = -1;
  ASSERT_TRUE(ParseHealthBody(R"({"failing":false,"minResponseTime":103})", &failing, &min));
  EXPECT_FALSE(failing);
  EXPECT_EQ(min, 103);
  EXPECT_FALSE(ParseHealthBody(R"({"failing":false})", &failing, &min));
  EXPECT_FALSE(ParseHealthBody("oops", &failing, &min));
}

TEST(RouterCoreParsingTest, ReadsTheStoredRequestedAtWithAnyPrecisionOrOffset) {
  int64_t at = 0;
  ASSERT_TRUE(
      ParseStoredRequestedAt(R"({"requestedAt":"2025-07-15T12:34:56.7899999+00:00"})", &at));
  EXPECT_EQ(at, 1752582896789);
  EXPECT_FALSE(ParseStoredRequestedAt(R"({"amount":1})", &at));
}

// Each shape docs/contest.md gives for the official processor's GET /payments/{id}: the row read
// back from a Postgres `timestamp` (no zone) and printed by .NET (no trailing zeros, no '.' on a
// whole second, up to 6 digits), the id lowercase, the amount as stored.
TEST(RouterCoreParsingTest, ReadsEveryShapeOfTheOfficialProcessorsLookupAnswer) {
  struct Case {
    const char* body;
    int64_t ms;
  };
  const Case cases[] = {
      {R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":19.90,"requestedAt":"2025-07-15T12:34:56.78"})",
       1752582896780},
      {R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20.05,"requestedAt":"2025-07-15T12:34:56.789"})",
       1752582896789},
      {R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":19.9,"requestedAt":"2025-07-15T12:34:56.7"})",
       1752582896700},
      {R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20,"requestedAt":"2025-07-15T12:34:56"})",
       1752582896000},
      {R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20.05,"requestedAt":"2025-07-15T12:34:56.123456"})",
       1752582896123},
      {R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20.05,"requestedAt":"2025-07-15T12:34:56.000001"})",
       1752582896000},
      // What our emulator used to answer, and other legitimate spellings.
      {R"({"correlationId":"x","amount":20.05,"requestedAt":"2025-07-15T12:34:56.780Z"})",
       1752582896780},
      {R"({"requestedAt":"2025-07-15T09:34:56.78-03:00","amount":1,"correlationId":"x"})",
       1752582896780},
      {R"({ "correlationId" : "x" , "requestedAt" : "2025-07-15T12:34:56.78" })", 1752582896780},
  };
  for (const Case& c : cases) {
    int64_t at = 0;
    EXPECT_TRUE(ParseStoredRequestedAt(c.body, &at)) << c.body;
    EXPECT_EQ(at, c.ms) << c.body;
  }
}

// ---- What a lookup's 200 means: the processor holds it, whatever the body says.

TEST_F(RouterCoreTest, ALookupsUnreadable200IsRecordedWithTheRequestedAtWeSentAndSaidOnce) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  const int64_t sent_at = wall();
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kTimeout));
  RunFor(config_.retry.initial_backoff_ms);
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  Answer(gets[0], Response(200, "<html>payment found}{"));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_EQ(sink_.settled[0].requested_at_ms(), sent_at);
  EXPECT_EQ(core_.stats().unreadable_echoes, 1);
}

TEST_F(RouterCoreTest, AnEchoInTheOfficialShapeAgreesWithWhatWeSent) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  const int64_t sent_at = wall();
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kConnectionLost));
  RunFor(config_.retry.initial_backoff_ms);
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  Answer(gets[0], Response(200, std::string(R"({"correlationId":")") + kId1 +
                                    R"(","amount":1.00,"requestedAt":")" +
                                    FormatIsoMicrosUnzoned(sent_at * 1000) + "\"}"));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].requested_at_ms(), sent_at);
  EXPECT_EQ(core_.stats().echo_mismatches, 0);
  EXPECT_EQ(core_.stats().unreadable_echoes, 0);
}

TEST_F(RouterCoreTest, ALookupWithoutAClearAnswerBacksOffAndNeverSpins) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kTimeout));
  int lookups = 0;
  const int64_t minute = 60'000;
  for (int64_t end = mono() + minute; mono() < end;) {
    RunFor(100);
    for (const Call& c : Gets()) {
      ++lookups;
      Answer(c, Response(503));
    }
    transport_.Take(Call::Kind::kHealth);
    Posts();
  }
  // 50 ms doubling up to max_lookup_backoff_ms: a handful in the first seconds, then one per
  // backoff cap.
  EXPECT_GE(lookups, 5);
  EXPECT_LE(lookups, 10 + minute / config_.retry.max_lookup_backoff_ms);
  EXPECT_EQ(core_.stats().lookup_errors, lookups);
}

TEST_F(RouterCoreTest, LookupsPerProcessorAreBoundedInRateAsWellAsInFlight) {
  const int n = 3000;
  for (int i = 0; i < n; ++i) core_.Accept(absl::StrFormat("00000000-0000-4000-8000-%012d", i), 1);
  core_.Run(now());
  for (const Call& c : Posts()) Answer(c, Outcome(HttpOutcome::Kind::kConnectionLost));
  // Every payment wants a lookup at default; they answer at once (404, not there yet).
  int64_t max_in_one_second = 0;
  for (int second = 0; second < 5; ++second) {
    int64_t in_this_second = 0;
    for (int step = 0; step < 20; ++step) {
      RunFor(50);
      for (const Call& c : Gets()) {
        in_this_second += c.target == Target::kDefault ? 1 : 0;
        Answer(c, Response(404));
      }
      for (const Call& c : Posts()) Answer(c, Outcome(HttpOutcome::Kind::kConnectionLost));
      transport_.Take(Call::Kind::kHealth);
    }
    max_in_one_second = std::max(max_in_one_second, in_this_second);
  }
  EXPECT_GT(max_in_one_second, 0);
  EXPECT_LE(max_in_one_second,
            config_.routing.max_lookups_per_s + config_.routing.max_lookups_per_s / 5);
  EXPECT_GT(core_.stats().lookups_waiting, 0);
}

// ---- Recovery: payments an earlier run took and the ledger does not hold.

constexpr char kStored[] =
    R"({"correlationId":"x","amount":20.05,"requestedAt":"2025-07-15T12:34:56.789Z"})";

std::vector<Call> GetsOf(std::vector<Call>& gets, Target target) {
  std::vector<Call> out;
  for (const Call& c : gets) {
    if (c.target == target) out.push_back(c);
  }
  return out;
}

TEST_F(RouterCoreTest, ARecoveredPaymentIsLookedUpAtBothProcessorsBeforeAnythingElse) {
  ASSERT_EQ(core_.Recover(Legacy(kId1, 2005, 7), now()), RouterCore::AcceptResult::kAccepted);
  core_.Run(now());
  EXPECT_TRUE(Posts().empty());
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(GetsOf(gets, Target::kDefault).size(), 1u);
  EXPECT_EQ(GetsOf(gets, Target::kFallback).size(), 1u);
  EXPECT_EQ(gets[0].text, kId1);
  EXPECT_EQ(core_.stats().recovering, 1);
}

TEST_F(RouterCoreTest, ARecoveredPaymentFoundAtAProcessorIsSettledThereWithItsRequestedAt) {
  core_.Recover(Legacy(kId1, 2005, 7), now());
  core_.Run(now());
  std::vector<Call> gets = Gets();
  Answer(GetsOf(gets, Target::kDefault)[0], Response(404));
  EXPECT_TRUE(sink_.settled.empty());
  // Paid at the fallback by the earlier run, never recorded: recorded now, as it is there.
  Answer(GetsOf(gets, Target::kFallback)[0], Response(200, kStored));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.settled[0].processor(), rinha::v1::PROCESSOR_FALLBACK);
  EXPECT_EQ(sink_.settled[0].requested_at_ms(),
            absl::ToUnixMillis(*ParseIsoTime("2025-07-15T12:34:56.789Z")));
  EXPECT_EQ(sink_.handles[0], 7u);
  EXPECT_EQ(core_.stats().recovering, 0);
  EXPECT_TRUE(Posts().empty());
}

TEST_F(RouterCoreTest, ARecoveredPaymentAbsentEverywhereIsSentOnlyOnceTheInsertWindowHasPassed) {
  core_.Recover(Legacy(kId1, 2005, 7), now());
  core_.Run(now());
  std::vector<Call> gets = Gets();
  for (const Call& c : gets) Answer(c, Response(404));
  // 404 at both, but a POST of the dead run may still be inserted: nothing is sent yet.
  RunFor(config_.retry.ambiguity_settle_ms - 1);
  EXPECT_TRUE(Posts().empty());
  EXPECT_TRUE(Gets().empty());
  RunFor(1);
  gets = Gets();
  ASSERT_EQ(gets.size(), 2u);  // asked again at both, after the window
  for (const Call& c : gets) Answer(c, Response(404));
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kDefault);
  Answer(posts[0], Response(200));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.handles[0], 7u);
  EXPECT_EQ(core_.stats().recovering, 0);
}

TEST_F(RouterCoreTest, AFailedRecoveryLookupIsRetriedAndNeverTakenAsAbsence) {
  const int64_t window_end = mono() + config_.retry.ambiguity_settle_ms;
  core_.Recover(Legacy(kId1, 2005, 7), now());
  core_.Run(now());
  std::vector<Call> gets = Gets();
  Answer(GetsOf(gets, Target::kDefault)[0], Response(404));
  Answer(GetsOf(gets, Target::kFallback)[0], Outcome(HttpOutcome::Kind::kTimeout));
  // From now on every lookup finds nothing; it must still not send before the window ends, and
  // the processor that did not answer is asked again.
  int fallback_gets = 0;
  std::vector<Call> posts;
  for (int round = 0; round < 200 && posts.empty(); ++round) {
    RunFor(100);
    gets = Gets();
    fallback_gets += static_cast<int>(GetsOf(gets, Target::kFallback).size());
    for (const Call& c : gets) Answer(c, Response(404));
    posts = Posts();
  }
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_GE(mono(), window_end);
  EXPECT_GE(fallback_gets, 1);
}

TEST_F(RouterCoreTest, ARecoveredIdIsNotTakenAgainAndRememberedIdsAreNeverPaid) {
  ASSERT_EQ(core_.Remember(kId2), RouterCore::AcceptResult::kAccepted);
  EXPECT_TRUE(core_.Knows(kId2));
  EXPECT_EQ(core_.Accept(kId2, 2005), RouterCore::AcceptResult::kDuplicate);
  core_.Recover(Legacy(kId1, 2005, 7), now());
  EXPECT_EQ(core_.Accept(kId1, 2005), RouterCore::AcceptResult::kDuplicate);
  EXPECT_EQ(core_.Recover(Legacy(kId1, 2005, 8), now()), RouterCore::AcceptResult::kDuplicate);
  core_.Run(now());
  EXPECT_TRUE(Posts().empty());
}

TEST_F(RouterCoreTest, RecoveryLookupsRespectTheBoundPerProcessor) {
  for (int i = 0; i < 3 * config_.routing.max_lookups_in_flight; ++i) {
    core_.Recover(Legacy(absl::StrFormat("00000000-0000-4000-8000-%012d", i), 2005, 1), now());
  }
  core_.Run(now());
  std::vector<Call> gets = Gets();
  EXPECT_EQ(static_cast<int>(GetsOf(gets, Target::kDefault).size()),
            config_.routing.max_lookups_in_flight);
  // A payment needs a lookup at both; answering both of one makes room for the next one's.
  for (const Call& c : gets) {
    if (c.text == gets[0].text) Answer(c, Response(404));
  }
  EXPECT_EQ(Gets().size(), 2u);
}

// ---- Recovery with the journal's record of each POST.

RecoveredPayment Journaled(const std::string& id, int64_t cents, uint64_t handle,
                           int64_t sent_to_default, int64_t sent_to_fallback) {
  RecoveredPayment p;
  p.correlation_id = id;
  p.amount_cents = cents;
  p.journal_handles = {handle, handle + 1};
  p.sends_known = true;
  p.sent_at_ms[static_cast<int>(Target::kDefault)] = sent_to_default;
  p.sent_at_ms[static_cast<int>(Target::kFallback)] = sent_to_fallback;
  return p;
}

TEST_F(RouterCoreTest, ARecoveredPaymentNeverSentIsSentAtOnceWithoutALookup) {
  core_.Recover(Journaled(kId1, 2005, 7, -1, -1), now());
  core_.Run(now());
  EXPECT_TRUE(Gets().empty());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, Target::kDefault);
  Answer(posts[0], Response(200));
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.all_handles[0], std::vector<uint64_t>({7, 8}));
}

TEST_F(RouterCoreTest, ARecoveredPaymentIsLookedUpOnlyWhereItWasSent) {
  core_.Recover(Journaled(kId1, 2005, 7, -1, wall() - 1000), now());
  core_.Run(now());
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].target, Target::kFallback);
}

// The crash issue 19 found: the official processor's echo has no zone. Recovery records what
// the journal says was sent, and does not need the echo at all.
TEST_F(RouterCoreTest, ARecoveredPaymentFoundWhereItWasSentIsRecordedWithTheJournaledRequestedAt) {
  const int64_t sent = wall() - 800;
  for (const char* body : {"", "not json", R"({"requestedAt":"2025-07-15T12:34:56.78"})"}) {
    const std::string id =
        absl::StrCat("00000000-0000-4000-8000-", std::string(12 - 1, '0'), sink_.settled.size());
    core_.Recover(Journaled(id, 2005, 7, sent, -1), now());
    core_.Run(now());
    std::vector<Call> gets = Gets();
    ASSERT_EQ(gets.size(), 1u);
    Answer(gets[0], Response(200, body));
  }
  ASSERT_EQ(sink_.settled.size(), 3u);
  for (const auto& s : sink_.settled) {
    EXPECT_EQ(s.processor(), rinha::v1::PROCESSOR_DEFAULT);
    EXPECT_EQ(s.requested_at_ms(), sent);
  }
  EXPECT_EQ(core_.stats().unreadable_echoes, 2);
  EXPECT_EQ(core_.stats().echo_mismatches, 1);
  EXPECT_EQ(core_.stats().recovering, 0);
}

TEST_F(RouterCoreTest, ARecoveredPaymentSentLongAgoIsFreeAtTheFirst404) {
  core_.Recover(Journaled(kId1, 2005, 7, wall() - config_.retry.ambiguity_settle_ms - 1, -1),
                now());
  core_.Run(now());
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  Answer(gets[0], Response(404));
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
}

TEST_F(RouterCoreTest, ARecoveredPaymentSentJustBeforeTheCrashWaitsOutItsInsertWindow) {
  const int64_t sent = wall() - 1000;
  core_.Recover(Journaled(kId1, 2005, 7, sent, -1), now());
  core_.Run(now());
  Answer(Gets()[0], Response(404));
  RunFor(config_.retry.ambiguity_settle_ms - 1000 - 1);
  EXPECT_TRUE(Posts().empty());
  RunFor(1);
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  Answer(gets[0], Response(404));
  EXPECT_EQ(Posts().size(), 1u);
}

// ---- Every POST is journaled before it leaves.

class RecordingDispatchLog : public DispatchLog {
 public:
  explicit RecordingDispatchLog(FakeTransport& transport) : transport_(transport) {}
  absl::StatusOr<uint64_t> Record(absl::Span<const Entry> entries) override {
    if (fail) return absl::ResourceExhaustedError("disk full");
    for (const Entry& e : entries) {
      recorded.push_back(
          {std::string(e.correlation_id), e.target, e.requested_at_ms, transport_.calls.size()});
    }
    return ++next_handle;
  }
  struct Recorded {
    std::string id;
    Target target;
    int64_t requested_at_ms;
    size_t calls_before;  // transport calls made before it was journaled
  };
  std::vector<Recorded> recorded;
  bool fail = false;
  uint64_t next_handle = 100;

 private:
  FakeTransport& transport_;
};

class RouterCoreJournalTest : public RouterCoreTest {
 protected:
  RouterCoreJournalTest() : log_(transport_), journaled_(config_, transport_, sink_, &log_) {
    journaled_.Run(now());
    for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
      journaled_.OnHttpDone(c.token, Response(200, R"({"failing":false,"minResponseTime":0})"),
                            now());
    }
  }
  RecordingDispatchLog log_;
  RouterCore journaled_;
};

TEST_F(RouterCoreJournalTest, EachPostIsJournaledBeforeItLeavesAndReleasedWithThePayment) {
  journaled_.Accept(kId1, 100, 0, /*journal_handle=*/5);
  journaled_.Accept(kId2, 100, 0, /*journal_handle=*/5);
  const size_t calls_before = transport_.calls.size();
  journaled_.Run(now());
  ASSERT_EQ(log_.recorded.size(), 2u);
  EXPECT_EQ(log_.recorded[0].calls_before, calls_before);  // one write, before both POSTs
  EXPECT_EQ(log_.recorded[1].calls_before, calls_before);
  EXPECT_EQ(log_.recorded[0].requested_at_ms, wall());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_NE(posts[0].text.find(FormatIsoMillis(log_.recorded[0].requested_at_ms)),
            std::string::npos);
  journaled_.OnHttpDone(posts[0].token, Response(200), now());
  ASSERT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(sink_.all_handles[0], std::vector<uint64_t>({5, 101}));
}

TEST_F(RouterCoreJournalTest, AResendWithTheSameRequestedAtIsNotJournaledAgain) {
  journaled_.Accept(kId1, 100);
  journaled_.Run(now());
  std::vector<Call> posts = Posts();
  journaled_.OnHttpDone(posts[0].token, Outcome(HttpOutcome::Kind::kConnectionLost), now());
  Advance(config_.retry.initial_backoff_ms);
  journaled_.Run(now());
  std::vector<Call> gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  journaled_.OnHttpDone(gets[0].token, Response(404), now());
  ASSERT_EQ(Posts().size(), 1u);  // sent again
  EXPECT_EQ(log_.recorded.size(), 1u);
}

TEST_F(RouterCoreJournalTest, APostThatCannotBeJournaledIsHeldBackAndSentOnceItCan) {
  log_.fail = true;
  journaled_.Accept(kId1, 100);
  journaled_.Run(now());
  EXPECT_TRUE(Posts().empty());
  EXPECT_EQ(journaled_.stats().dispatch_journal_errors, 1);
  EXPECT_EQ(journaled_.stats().in_flight, 0);
  EXPECT_EQ(journaled_.signals(Target::kDefault, mono()).in_flight, 0);
  EXPECT_FALSE(journaled_.signals(Target::kDefault, mono()).failing);  // not the processor's fault
  // Not retried before its backoff, then sent once the journal takes it.
  journaled_.Run(now());
  EXPECT_EQ(journaled_.stats().dispatch_journal_errors, 1);
  log_.fail = false;
  Advance(config_.retry.initial_backoff_ms);
  journaled_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  ASSERT_EQ(log_.recorded.size(), 1u);
  journaled_.OnHttpDone(posts[0].token, Response(200), now());
  EXPECT_EQ(sink_.settled.size(), 1u);
}

// ---- Nothing is stuck in silence.

TEST_F(RouterCoreTest, APaymentPendingPastTheBoundIsCountedOnceByStateWithItsAge) {
  // Both processors fail: the payment waits (queued) past the bound.
  for (const Call& c : transport_.Take(Call::Kind::kHealth)) Answer(c, Response(200));
  core_.Accept(kId1, 100);
  core_.Run(now());
  for (const Call& c : Posts()) Answer(c, Response(500));
  int64_t waited = 0;
  while (waited < config_.undecided_after_ms + 2000) {
    RunFor(500);
    waited += 500;
    for (const Call& c : Posts()) Answer(c, Response(500));
    for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
      core_.OnHttpDone(c.token, Response(200, R"({"failing":true,"minResponseTime":0})"), now());
    }
  }
  const RouterCoreStats s = core_.stats();
  EXPECT_EQ(s.undecided, 1);
  EXPECT_EQ(s.undecided_total, 1);
  const PaymentStateStats& queued = s.by_state[static_cast<int>(PaymentState::kQueued)];
  EXPECT_EQ(queued.pending + s.by_state[static_cast<int>(PaymentState::kPosting)].pending, 1);
  const int64_t oldest =
      std::max(queued.oldest_ms, s.by_state[static_cast<int>(PaymentState::kPosting)].oldest_ms);
  EXPECT_GE(oldest, config_.undecided_after_ms);
  EXPECT_LE(oldest, config_.undecided_after_ms + 3000);
  // Once it settles, it is no longer counted; the total stays.
  for (const Call& c : transport_.Take(Call::Kind::kHealth)) Answer(c, Response(200));
  for (int i = 0; i < 100 && sink_.settled.empty(); ++i) {
    RunFor(500);
    for (const Call& c : Posts()) Answer(c, Response(200));
    for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
      core_.OnHttpDone(c.token, Response(200, R"({"failing":false,"minResponseTime":0})"), now());
    }
  }
  ASSERT_EQ(sink_.settled.size(), 1u);
  RunFor(1000);
  EXPECT_EQ(core_.stats().undecided, 0);
  EXPECT_EQ(core_.stats().undecided_total, 1);
}

TEST_F(RouterCoreTest, AnAmbiguousPaymentCountsAsAmbiguousAtItsProcessor) {
  core_.Accept(kId1, 100);
  core_.Run(now());
  Answer(Posts()[0], Outcome(HttpOutcome::Kind::kTimeout));
  RunFor(1000);
  const RouterCoreStats s = core_.stats();
  EXPECT_EQ(s.by_state[static_cast<int>(PaymentState::kAmbiguous)].pending, 1);
  EXPECT_EQ(s.undecided, 0);
}

TEST_F(RouterCoreTest, FindTellsWhereAPaymentIsAndWhichProcessorItConcerns) {
  EXPECT_EQ(core_.Find(kId1, mono()).where, PaymentView::Where::kUnknown);
  core_.Accept(kId1, 2005);
  PaymentView v = core_.Find(kId1, mono());
  EXPECT_EQ(v.where, PaymentView::Where::kPending);
  EXPECT_EQ(v.state, PaymentState::kQueued);
  EXPECT_FALSE(v.has_processor);
  EXPECT_EQ(v.amount_cents, 2005);
  core_.Run(now());
  std::vector<Call> posts = Posts();
  v = core_.Find(kId1, mono());
  EXPECT_EQ(v.state, PaymentState::kPosting);
  ASSERT_TRUE(v.has_processor);
  EXPECT_EQ(v.processor, Target::kDefault);
  Advance(250);
  Answer(posts[0], Outcome(HttpOutcome::Kind::kTimeout));
  v = core_.Find(kId1, mono());
  EXPECT_EQ(v.state, PaymentState::kAmbiguous);
  EXPECT_EQ(v.processor, Target::kDefault);
  EXPECT_EQ(v.pending_ms, 250);
  RunFor(config_.retry.initial_backoff_ms);
  Answer(Gets()[0], Response(200));
  EXPECT_EQ(core_.Find(kId1, mono()).where, PaymentView::Where::kSettled);
  core_.Purge();
  EXPECT_EQ(core_.Find(kId1, mono()).where, PaymentView::Where::kUnknown);
}

TEST_F(RouterCoreTest, WhileDrainingNothingNewStartsButAnswersAreTaken) {
  core_.Accept(kId1, 2005);
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 1u);
  core_.set_draining(true);
  core_.Accept(kId2, 2005);
  core_.Run(now());
  EXPECT_TRUE(Posts().empty());
  Answer(posts[0], Response(200));
  EXPECT_EQ(sink_.settled.size(), 1u);
  EXPECT_EQ(core_.pending(), 1);
}

// Waiting for the cheaper processor while it fails (routing_policy.h), through the core: the
// policy's own tests cover its decisions, these what the core does with them.
class RouterCoreWaitTest : public RouterCoreTest {
 protected:
  static RouterConfig WaitConfig() {
    RouterConfig config;
    config.routing.default_wait_ms = 10000;
    return config;
  }
  RouterCoreWaitTest() : RouterCoreTest(WaitConfig()) {}

  // The next health polls (due within an interval) answer with these states.
  void PollSays(bool default_failing, bool fallback_failing) {
    for (int i = 0; i < 2;) {
      RunFor(100);
      for (const Call& c : transport_.Take(Call::Kind::kHealth)) {
        const bool failing = c.target == Target::kDefault ? default_failing : fallback_failing;
        core_.OnHttpDone(c.token,
                         Response(200, absl::StrCat(R"({"failing":)", failing ? "true" : "false",
                                                    R"(,"minResponseTime":0})")),
                         now());
        ++i;
      }
    }
  }
  // Another payment arrives: the load goes on.
  std::string Arrive() {
    std::string id = absl::StrFormat("00000000-0000-4000-8000-%012d", next_id_++);
    EXPECT_EQ(core_.Accept(id, 100, 0, 0, now()), RouterCore::AcceptResult::kAccepted);
    return id;
  }
  // Keeps payments arriving every 100 ms for `ms`; the default answers 500 (it fails) or 200
  // (it is back), the fallback 200. Returns the POSTs that went to the fallback.
  int LoadFor(int64_t ms, bool default_works = false, bool fallback_works = true) {
    int to_fallback = 0;
    for (int64_t t = 0; t < ms; t += 100) {
      Arrive();
      RunFor(100);
      for (const Call& c : Posts()) {
        if (c.target == Target::kFallback) ++to_fallback;
        const bool works = c.target == Target::kFallback ? fallback_works : default_works;
        Answer(c, Response(works ? 200 : 500));
      }
    }
    return to_fallback;
  }
  int LoadWhileDefaultFails(int64_t ms) { return LoadFor(ms); }
  int next_id_ = 0;
};

TEST_F(RouterCoreWaitTest, WhileTheDefaultFailsPaymentsWaitForItAndGoThereWhenItIsBack) {
  PollSays(/*default_failing=*/true, /*fallback_failing=*/false);
  // 2 s of load, within the 10 s bound: nothing goes to the fallback, only probes to the default.
  EXPECT_EQ(LoadWhileDefaultFails(2000), 0);
  EXPECT_EQ(core_.stats().waiting_for_cheaper, 20);
  EXPECT_EQ(core_.stats().settled_fallback, 0);
  // The default is back: the next probe is answered 200, and everything waiting goes there.
  EXPECT_EQ(LoadFor(3000, /*default_works=*/true), 0);
  EXPECT_EQ(core_.stats().settled_default, 50);
  // The 20 and those that arrived before the next probe found the default back.
  EXPECT_GT(core_.stats().waited_then_cheaper, 20);
  EXPECT_LT(core_.stats().waited_then_cheaper, 50);
  EXPECT_EQ(core_.stats().waiting_for_cheaper, 0);
  EXPECT_EQ(core_.stats().wait_expired, 0);
  EXPECT_EQ(core_.pending(), 0);
}

TEST_F(RouterCoreWaitTest, APaymentWaitsAtMostTheBoundThenTheFallbackTakesIt) {
  PollSays(/*default_failing=*/true, /*fallback_failing=*/false);
  const int64_t start = mono();
  const int to_fallback = LoadWhileDefaultFails(12000);
  // Payments arrived for 12 s; those older than 10 s went: about the first 2 s of them.
  EXPECT_GE(to_fallback, 18);
  EXPECT_LE(to_fallback, 21);
  EXPECT_EQ(core_.stats().wait_expired, to_fallback);
  EXPECT_EQ(core_.stats().settled_fallback, to_fallback);
  // None waited longer than the bound (plus one 100 ms step of the test).
  EXPECT_LE(core_.stats().by_state[static_cast<int>(PaymentState::kQueued)].oldest_ms,
            config_.routing.default_wait_ms + 1000);
  EXPECT_GE(mono() - start, 12000);
}

TEST_F(RouterCoreWaitTest, WhenTheLoadStopsEverythingWaitingGoesToTheFallback) {
  PollSays(/*default_failing=*/true, /*fallback_failing=*/false);
  EXPECT_EQ(LoadWhileDefaultFails(1000), 0);
  ASSERT_EQ(core_.stats().waiting_for_cheaper, 10);
  // No new payment for load_stopped_after_ms: all ten go, without waiting for the bound.
  RunFor(config_.routing.load_stopped_after_ms);
  std::vector<Call> posts = Posts();
  int to_fallback = 0;
  for (const Call& c : posts) {
    if (c.target == Target::kFallback) ++to_fallback;
    Answer(c, Response(c.target == Target::kFallback ? 200 : 500));
  }
  RunFor(100);
  for (const Call& c : Posts()) {  // the probe's payment, if one was out
    if (c.target == Target::kFallback) ++to_fallback;
    Answer(c, Response(200));
  }
  EXPECT_EQ(to_fallback, 10);
  EXPECT_EQ(core_.stats().released_on_stop, 10);
  EXPECT_EQ(core_.pending(), 0);
}

TEST_F(RouterCoreWaitTest, AWaitingPaymentIsNotUndecidedBeforeItsBoundAndTheUsualTime) {
  PollSays(/*default_failing=*/true, /*fallback_failing=*/true);  // both fail: payments wait
  LoadFor(config_.undecided_after_ms + 1000, /*default_works=*/false, /*fallback_works=*/false);
  EXPECT_EQ(core_.stats().undecided, 0);
  LoadFor(config_.routing.default_wait_ms + 1000, /*default_works=*/false,
          /*fallback_works=*/false);
  EXPECT_GT(core_.stats().undecided, 0);
}

TEST_F(RouterCoreWaitTest, WhatWaitedGoesToTheCheaperPacedWhileTheLoadGoesOn) {
  PollSays(/*default_failing=*/true, /*fallback_failing=*/false);
  for (int i = 0; i < 1000; ++i) Arrive();
  core_.Run(now());
  std::vector<Call> probe = Posts();
  ASSERT_EQ(probe.size(), 1u);  // only the default's probe
  Advance(10);
  Arrive();
  Answer(probe[0], Response(200));  // it is back
  // A tenth of a second's worth at once, then release_per_s.
  const int burst = config_.routing.release_per_s / 10;
  std::vector<Call> posts = Posts();
  EXPECT_EQ(static_cast<int>(posts.size()), burst);
  int sent = static_cast<int>(posts.size());
  for (const Call& c : posts) Answer(c, Response(200));
  for (int step = 0; step < 3; ++step) {
    Arrive();
    RunFor(100);
    posts = Posts();
    // A tenth of a second's tokens, and the arrivals that were not waiting (not paced).
    EXPECT_LE(static_cast<int>(posts.size()), burst + 5);
    sent += static_cast<int>(posts.size());
    for (const Call& c : posts) Answer(c, Response(200));
  }
  EXPECT_GE(sent, burst * 3);
  EXPECT_LT(sent, burst * 5);
  // Once the load stops, the rest goes at once.
  RunFor(config_.routing.load_stopped_after_ms + 100);
  for (const Call& c : Posts()) {
    EXPECT_EQ(c.target, Target::kDefault);
    Answer(c, Response(200));
  }
  EXPECT_EQ(core_.pending(), 0);
  EXPECT_EQ(core_.stats().settled_fallback, 0);
}

TEST_F(RouterCoreWaitTest, APaymentSentOnAfterWaitingIsNotUndecidedBeforeItsBoundEither) {
  PollSays(/*default_failing=*/true, /*fallback_failing=*/false);
  EXPECT_EQ(LoadWhileDefaultFails(config_.routing.default_wait_ms - 1000), 0);
  // Then the default is back but full and slow: the queue overflows to the fallback, whose
  // answers take long (left unanswered here).
  const int64_t waited = config_.routing.default_wait_ms - 1000;
  for (int64_t t = 0; t < config_.undecided_after_ms + 1000 - waited + 2000; t += 100) {
    Arrive();
    RunFor(100);
    for (const Call& c : Posts()) {
      if (c.target == Target::kDefault) Answer(c, Response(500));
    }
  }
  EXPECT_GT(core_.stats().wait_expired, 0);
  EXPECT_EQ(core_.stats().undecided, 0);
}

TEST_F(RouterCoreWaitTest, PaymentsBackInLineAfterA500WhileWaitingWaitToo) {
  // Ten go to the default; it starts failing and answers them all 500 (reverse, 150 s: ~300).
  for (int i = 0; i < 10; ++i) Arrive();
  core_.Run(now());
  std::vector<Call> posts = Posts();
  ASSERT_EQ(posts.size(), 10u);
  Answer(posts[0], Response(500));  // failing now: the policy waits
  // The other nine answered together, before the core runs again (as the loop hands them over).
  for (size_t i = 1; i < posts.size(); ++i) core_.OnHttpDone(posts[i].token, Response(500), now());
  core_.Run(now());
  // The load goes on; after the bound they go to the fallback, which keeps them (unanswered).
  for (int64_t t = 0; t < config_.undecided_after_ms + 1000; t += 100) {
    Arrive();
    RunFor(100);
    for (const Call& c : Posts()) {
      if (c.target == Target::kDefault) Answer(c, Response(500));
    }
  }
  EXPECT_GE(core_.stats().wait_expired, 10);
  // All of them waited by design: none is undecided before its bound plus the usual 30 s.
  EXPECT_EQ(core_.stats().undecided, 0);
}

TEST_F(RouterCoreWaitTest, AProbeOutForTheWaitingIsNotUndecidedBeforeItsBoundEither) {
  PollSays(/*default_failing=*/true, /*fallback_failing=*/false);
  // The first payment goes out as the default's probe and is never answered (a 5 s delay, say,
  // stretched); the load goes on, the others wait their bound and go to the fallback.
  int probes = 0;
  auto load = [&](int64_t ms) {
    for (int64_t t = 0; t < ms; t += 100) {
      Arrive();
      RunFor(100);
      for (const Call& c : Posts()) {
        if (c.target == Target::kDefault) {
          ++probes;  // left unanswered
        } else {
          Answer(c, Response(200));
        }
      }
    }
  };
  load(config_.undecided_after_ms + 1000);
  EXPECT_EQ(probes, 1);
  EXPECT_EQ(core_.stats().undecided, 0);
  load(config_.routing.default_wait_ms);
  EXPECT_EQ(core_.stats().undecided, 1);
}

}  // namespace
}  // namespace rinha::router
