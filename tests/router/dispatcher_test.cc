// The dispatcher's threads (submitters, the event loop, Purge/Stats callers) against two
// in-process processor emulators on port 0; no gRPC, so it also runs in the TSan build.
#include "router/dispatcher.h"

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "processor/processor_server.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

#if defined(__SANITIZE_THREAD__)
// The emulators run on Debian's cpp-httplib, a shared library not built with TSan: races it
// reports between its own worker threads are about synchronisation TSan cannot see. The router's
// code (all of it instrumented) stays checked.
extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:libcpp-httplib.so.0.11\n";
}
#endif

namespace rinha::router {
namespace {

class RecordingSink : public SettlementSink {
 public:
  void Settle(const rinha::v1::Settlement& s, int64_t received_us,
              absl::Span<const uint64_t>) override {
    std::lock_guard<std::mutex> lock(mu_);
    settled_.push_back(s);
    if (received_us <= 0) ++missing_receipt_;
  }
  std::vector<rinha::v1::Settlement> settled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return settled_;
  }
  int missing_receipt() const {
    std::lock_guard<std::mutex> lock(mu_);
    return missing_receipt_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<rinha::v1::Settlement> settled_;
  int missing_receipt_ = 0;
};

std::string Id(int i) { return absl::StrFormat("%08x-0000-4000-8000-%012x", 0xd15, i); }

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      processor::ServerOptions o;
      o.threads = 64;
      o.processor.fee = i == 0 ? FeeRate{7, 2} : FeeRate{10, 2};
      auto server = processor::ProcessorServer::Start(RealClock::Get(), o);
      ASSERT_TRUE(server.ok()) << server.status();
      servers_[i] = *std::move(server);
    }
    config_.default_url = absl::StrCat("http://127.0.0.1:", servers_[0]->port());
    config_.fallback_url = absl::StrCat("http://127.0.0.1:", servers_[1]->port());
    // The emulator holds one thread per keep-alive connection: stay below its pool.
    config_.routing.max_in_flight = 48;
  }

  RouterConfig config_;
  std::unique_ptr<processor::ProcessorServer> servers_[2];
  RecordingSink sink_;
};

TEST_F(DispatcherTest, ConcurrentSubmittersGetEveryPaymentSettledOnceDespiteResends) {
  auto dispatcher = Dispatcher::Start(config_, sink_, RealClock::Get());
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status();
  constexpr int kPerThread = 300;
  std::atomic<int> taken{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < 3; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i += 10) {
        rinha::v1::PaymentBatch batch;
        for (int j = i; j < i + 10; ++j) {
          auto* p = batch.add_payments();
          // Threads 0 and 1 send the same ids (an edge resending); thread 2 its own.
          p->set_correlation_id(Id(t == 2 ? 100000 + j : j));
          p->set_amount_cents(1990);
        }
        (*dispatcher)->Submit(batch, [&](rinha::v1::AckResult result, int invalid) {
          if (result == rinha::v1::ACK_RESULT_TAKEN && invalid == 0) ++taken;
        });
      }
    });
  }
  std::thread observer([&] {
    for (int i = 0; i < 50; ++i) (void)(*dispatcher)->Stats();
  });
  for (auto& t : submitters) t.join();
  observer.join();
  ASSERT_TRUE(testing::WaitUntil([&] { return sink_.settled().size() >= 2 * kPerThread; },
                                 absl::Seconds(60)));
  // Nothing more arrives: duplicates were dropped, not delayed.
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const RouterCoreStats s = (*dispatcher)->Stats();
        return s.queued == 0 && s.in_flight == 0;
      },
      absl::Seconds(10)));
  const auto settled = sink_.settled();
  std::set<std::string> ids;
  for (const auto& s : settled) {
    EXPECT_TRUE(ids.insert(s.correlation_id()).second) << "settled twice: " << s.correlation_id();
    EXPECT_EQ(s.amount_cents(), 1990);
  }
  EXPECT_EQ(settled.size(), 2u * kPerThread);
  EXPECT_EQ(sink_.missing_receipt(), 0);
  EXPECT_EQ(taken.load(), 3 * kPerThread / 10);  // every batch answered, resends included
  // The processors hold exactly what was settled, each payment at the processor named.
  int64_t at_default = 0;
  for (const auto& s : settled) at_default += s.processor() == rinha::v1::PROCESSOR_DEFAULT;
  EXPECT_EQ(servers_[0]->service().store().Summarize(std::nullopt, std::nullopt).count, at_default);
  EXPECT_EQ(servers_[1]->service().store().Summarize(std::nullopt, std::nullopt).count,
            2 * kPerThread - at_default);

  // Purge forgets them: the same ids are new payments again (a new run).
  EXPECT_EQ((*dispatcher)->Purge(), 2 * kPerThread);
  rinha::v1::PaymentBatch again;
  auto* p = again.add_payments();
  p->set_correlation_id(Id(100000));
  p->set_amount_cents(1990);
  (*dispatcher)->Submit(again, [](rinha::v1::AckResult, int) {});
  // A processor already holds it (not purged there): 422 or a fresh 200, settled once more.
  ASSERT_TRUE(testing::WaitUntil([&] { return sink_.settled().size() == 2 * kPerThread + 1; },
                                 absl::Seconds(10)));
  (*dispatcher)->Stop();
}

// The loop reads the injected clock: requestedAt is its wall reading (here a fake clock stopped
// in 2025, an hour behind its own start), whatever the machine's clock says.
TEST_F(DispatcherTest, RequestedAtComesFromTheInjectedClocksWallReading) {
  testing::FakeClock clock;
  clock.SetTime(clock.Now() - absl::Hours(1));
  auto dispatcher = Dispatcher::Start(config_, sink_, clock);
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status();
  rinha::v1::PaymentBatch batch;
  auto* p = batch.add_payments();
  p->set_correlation_id(Id(1));
  p->set_amount_cents(1990);
  (*dispatcher)->Submit(batch, [](rinha::v1::AckResult, int) {});
  ASSERT_TRUE(testing::WaitUntil([&] { return sink_.settled().size() == 1; }));
  EXPECT_EQ(sink_.settled()[0].requested_at_ms(), clock.NowMillis());
  (*dispatcher)->Stop();
}

// The answer to a batch, waited for.
struct Answer {
  rinha::v1::AckResult result = rinha::v1::ACK_RESULT_TAKEN;
  int invalid = -1;
};
Answer SubmitAndWait(Dispatcher& d, rinha::v1::PaymentBatch batch) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Answer> answer;
  d.Submit(std::move(batch), [&](rinha::v1::AckResult result, int invalid) {
    std::lock_guard<std::mutex> lock(mu);
    answer = Answer{result, invalid};
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return answer.has_value(); });
  return *answer;
}

rinha::v1::PaymentBatch Batch(int first, int n) {
  rinha::v1::PaymentBatch batch;
  for (int i = first; i < first + n; ++i) {
    auto* p = batch.add_payments();
    p->set_correlation_id(Id(i));
    p->set_amount_cents(1990);
  }
  return batch;
}

class JournaledDispatcherTest : public DispatcherTest {
 protected:
  void SetUp() override {
    DispatcherTest::SetUp();
    dir_ = testing::MakeTempDir("dispatcher_journal");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Journal> OpenJournal(std::vector<Journal::Record>* recovered) {
    Journal::Options o;
    o.dir = (dir_ / "journal").string();
    auto journal = Journal::Open(o, recovered);
    EXPECT_TRUE(journal.ok()) << journal.status();
    return journal.ok() ? *std::move(journal) : nullptr;
  }
  std::filesystem::path dir_;
};

TEST_F(JournaledDispatcherTest, ABatchIsTakenOnlyOnceItsNewPaymentsAreJournaled) {
  std::vector<Journal::Record> recovered;
  auto journal = OpenJournal(&recovered);
  auto dispatcher = Dispatcher::Start(config_, sink_, RealClock::Get(), journal.get());
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status();
  rinha::v1::PaymentBatch batch = Batch(0, 5);
  *batch.add_payments() = batch.payments(0);  // the same id twice in one batch
  Answer answer = SubmitAndWait(**dispatcher, batch);
  EXPECT_EQ(answer.result, rinha::v1::ACK_RESULT_TAKEN);
  EXPECT_EQ(answer.invalid, 0);
  // Journaled when answered (nothing releases them here: that is the ledger client's part), and
  // each POST before it left: 5 + 5 records.
  ASSERT_TRUE(testing::WaitUntil([&] { return sink_.settled().size() == 5; }));
  EXPECT_EQ(journal->stats().appended, 10);
  // A resend is answered TAKEN again and journals nothing new.
  answer = SubmitAndWait(**dispatcher, Batch(0, 5));
  EXPECT_EQ(answer.result, rinha::v1::ACK_RESULT_TAKEN);
  EXPECT_EQ(journal->stats().appended, 10);
  (*dispatcher)->Stop();
}

TEST_F(JournaledDispatcherTest, MalformedPaymentsAreCountedAndTheRestTaken) {
  std::vector<Journal::Record> recovered;
  auto journal = OpenJournal(&recovered);
  auto dispatcher = Dispatcher::Start(config_, sink_, RealClock::Get(), journal.get());
  ASSERT_TRUE(dispatcher.ok());
  rinha::v1::PaymentBatch batch = Batch(0, 2);
  batch.add_payments()->set_amount_cents(100);  // no id
  const Answer answer = SubmitAndWait(**dispatcher, batch);
  EXPECT_EQ(answer.result, rinha::v1::ACK_RESULT_TAKEN);
  EXPECT_EQ(answer.invalid, 1);
  ASSERT_TRUE(testing::WaitUntil([&] { return sink_.settled().size() == 2; }));
  EXPECT_EQ(journal->stats().appended, 4);  // two payments and their POSTs
  (*dispatcher)->Stop();
}

TEST_F(JournaledDispatcherTest, ABatchWithoutRoomIsRefusedWholeAndNothingOfItIsTaken) {
  config_.max_remembered_ids = 4;
  std::vector<Journal::Record> recovered;
  auto journal = OpenJournal(&recovered);
  auto dispatcher = Dispatcher::Start(config_, sink_, RealClock::Get(), journal.get());
  ASSERT_TRUE(dispatcher.ok());
  EXPECT_EQ(SubmitAndWait(**dispatcher, Batch(0, 3)).result, rinha::v1::ACK_RESULT_TAKEN);
  EXPECT_EQ(SubmitAndWait(**dispatcher, Batch(3, 2)).result, rinha::v1::ACK_RESULT_RETRY_LATER);
  EXPECT_EQ((*dispatcher)->refused_batches(), 1);
  ASSERT_TRUE(testing::WaitUntil([&] { return sink_.settled().size() == 3; }));
  EXPECT_EQ(journal->stats().appended, 6);  // three payments and their POSTs
  (*dispatcher)->Stop();
}

TEST_F(JournaledDispatcherTest, AStoppedDispatcherAnswersRetryLater) {
  auto dispatcher = Dispatcher::Start(config_, sink_, RealClock::Get());
  ASSERT_TRUE(dispatcher.ok());
  (*dispatcher)->Stop();
  EXPECT_EQ(SubmitAndWait(**dispatcher, Batch(0, 1)).result, rinha::v1::ACK_RESULT_RETRY_LATER);
}

// What an earlier run of an older version left (bare Payment records, no record of its POSTs):
// three journaled payments; the ledger holds one, the fallback holds another (paid, never
// recorded), the third is nowhere. The first is released, the second settled at the fallback
// without any POST, the third sent once the insert window has passed.
TEST_F(JournaledDispatcherTest, TakesOverAnEarlierRunsPaymentsAndPaysNothingTwice) {
  config_.retry.ambiguity_settle_ms = 300;
  {
    std::vector<Journal::Record> ignored;
    auto journal = OpenJournal(&ignored);
    for (int i = 0; i < 3; ++i) {
      rinha::v1::Payment p;
      p.set_correlation_id(Id(i));
      p.set_amount_cents(1990);
      ASSERT_TRUE(journal->Append(p.SerializeAsString()).ok());
    }
  }
  httplib::Client fallback("127.0.0.1", servers_[1]->port());
  auto stored =
      fallback.Post("/payments",
                    absl::StrCat(R"({"correlationId":")", Id(1),
                                 R"(","amount":19.90,"requestedAt":"2025-07-15T12:00:00.000Z"})"),
                    "application/json");
  ASSERT_TRUE(stored && stored->status == 200);

  Dispatcher::Recovery recovery;
  auto journal = OpenJournal(&recovery.journal);
  ASSERT_EQ(recovery.journal.size(), 3u);
  recovery.settled_ids.insert(Id(0));
  auto dispatcher =
      Dispatcher::Start(config_, sink_, RealClock::Get(), journal.get(), std::move(recovery));
  ASSERT_TRUE(dispatcher.ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return sink_.settled().size() == 2; }));
  std::map<std::string, rinha::v1::Settlement> by_id;
  for (const auto& s : sink_.settled()) by_id[s.correlation_id()] = s;
  ASSERT_EQ(by_id.count(Id(1)), 1u);
  EXPECT_EQ(by_id[Id(1)].processor(), rinha::v1::PROCESSOR_FALLBACK);
  EXPECT_EQ(by_id[Id(1)].requested_at_ms(),
            absl::ToUnixMillis(
                absl::FromCivil(absl::CivilSecond(2025, 7, 15, 12, 0, 0), absl::UTCTimeZone())));
  ASSERT_EQ(by_id.count(Id(2)), 1u);
  // Id(0)'s record released (the ledger had it); Id(1)'s and Id(2)'s stay until the ledger
  // acknowledges them (nothing does here), with the record of Id(2)'s POST.
  EXPECT_EQ(journal->stats().live, 3);
  EXPECT_EQ(journal->stats().appended, 1);
  // Each payment is held by exactly one processor, once.
  EXPECT_EQ(servers_[0]->service().store().Summarize(std::nullopt, std::nullopt).count +
                servers_[1]->service().store().Summarize(std::nullopt, std::nullopt).count,
            2);
  // The ledger's id is remembered: an edge resending it gets it ignored.
  EXPECT_EQ(SubmitAndWait(**dispatcher, Batch(0, 1)).result, rinha::v1::ACK_RESULT_TAKEN);
  EXPECT_EQ(journal->stats().appended, 1);
  (*dispatcher)->Stop();
}

// What this version leaves when it dies: each payment's acceptance and each POST's requestedAt.
// The default holds one (paid, never recorded, with what we sent), the other was never sent.
// The first is recorded with the journaled requestedAt, looked up at default only; the second
// is sent at once, without waiting out any insert window.
TEST_F(JournaledDispatcherTest, TakesOverWhatTheJournalSaysWasSentAndLooksNowhereElse) {
  config_.retry.ambiguity_settle_ms = 60'000;  // nothing here may wait for it
  const int64_t sent_at = 1'752'580'800'780;   // 2025-07-15T12:00:00.780Z
  {
    std::vector<Journal::Record> ignored;
    auto journal = OpenJournal(&ignored);
    for (int i = 0; i < 2; ++i) {
      rinha::v1::Payment p;
      p.set_correlation_id(Id(i));
      p.set_amount_cents(1990);
      ASSERT_TRUE(journal->Append(EncodeAcceptedRecord(p)).ok());
    }
    ASSERT_TRUE(journal->Append(EncodeDispatchedRecord(Id(0), Target::kDefault, sent_at)).ok());
  }
  httplib::Client default_processor("127.0.0.1", servers_[0]->port());
  auto stored = default_processor.Post(
      "/payments",
      absl::StrCat(R"({"correlationId":")", Id(0),
                   R"(","amount":19.90,"requestedAt":"2025-07-15T12:00:00.780Z"})"),
      "application/json");
  ASSERT_TRUE(stored && stored->status == 200);

  Dispatcher::Recovery recovery;
  auto journal = OpenJournal(&recovery.journal);
  ASSERT_EQ(recovery.journal.size(), 3u);
  auto dispatcher =
      Dispatcher::Start(config_, sink_, RealClock::Get(), journal.get(), std::move(recovery));
  ASSERT_TRUE(dispatcher.ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return sink_.settled().size() == 2; }));
  std::map<std::string, rinha::v1::Settlement> by_id;
  for (const auto& s : sink_.settled()) by_id[s.correlation_id()] = s;
  EXPECT_EQ(by_id[Id(0)].processor(), rinha::v1::PROCESSOR_DEFAULT);
  EXPECT_EQ(by_id[Id(0)].requested_at_ms(), sent_at);
  EXPECT_EQ(by_id[Id(1)].processor(), rinha::v1::PROCESSOR_DEFAULT);
  const RouterCoreStats stats = (*dispatcher)->Stats();
  EXPECT_EQ(stats.lookups_at[static_cast<int>(Target::kDefault)], 1);
  EXPECT_EQ(stats.lookups_at[static_cast<int>(Target::kFallback)], 0);
  EXPECT_EQ(servers_[0]->service().store().Summarize(std::nullopt, std::nullopt).count, 2);
  EXPECT_EQ(servers_[1]->service().store().Summarize(std::nullopt, std::nullopt).count, 0);
  (*dispatcher)->Stop();
}

}  // namespace
}  // namespace rinha::router
