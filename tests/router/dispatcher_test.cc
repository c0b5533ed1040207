// The dispatcher's threads (submitters, the event loop, Purge/Stats callers) against two
// in-process processor emulators on port 0; no gRPC, so it also runs in the TSan build.
#include "router/dispatcher.h"

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "processor/processor_server.h"
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
  void Settle(const rinha::v1::Settlement& s, int64_t received_us) override {
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
        (*dispatcher)->Submit(batch);
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
  // The processors hold exactly what was settled, each payment at the processor named.
  int64_t at_default = 0;
  for (const auto& s : settled) at_default += s.processor() == rinha::v1::PROCESSOR_DEFAULT;
  EXPECT_EQ(servers_[0]->service().store().Summarize(std::nullopt, std::nullopt).count,
            at_default);
  EXPECT_EQ(servers_[1]->service().store().Summarize(std::nullopt, std::nullopt).count,
            2 * kPerThread - at_default);

  // Purge forgets them: the same ids are new payments again (a new run).
  EXPECT_EQ((*dispatcher)->Purge(), 2 * kPerThread);
  rinha::v1::PaymentBatch again;
  auto* p = again.add_payments();
  p->set_correlation_id(Id(100000));
  p->set_amount_cents(1990);
  (*dispatcher)->Submit(again);
  // A processor already holds it (not purged there): 422 or a fresh 200, settled once more.
  ASSERT_TRUE(testing::WaitUntil([&] { return sink_.settled().size() == 2 * kPerThread + 1; },
                                 absl::Seconds(10)));
  (*dispatcher)->Stop();
}

}  // namespace
}  // namespace rinha::router
