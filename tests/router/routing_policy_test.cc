#include "router/routing_policy.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rinha::router {
namespace {

// What the router sees in the steady state of each stage of the official timelines: the
// configured delay is the latency, "failing" is the failure flag.
struct Stage {
  std::string name;
  ProcessorSignals default_processor;
  ProcessorSignals fallback_processor;
  Route expected;
  Backlog backlog = {};
};

// A payment that has waited this long, with the load still coming.
Backlog Waited(int64_t ms) { return Backlog{.oldest_wait_ms = ms, .load_stopped = false}; }
Backlog Stopped() { return Backlog{.oldest_wait_ms = 0, .load_stopped = true}; }

ProcessorSignals Healthy(int64_t latency_ms, int fee_bp) {
  return ProcessorSignals{.failing = false,
                          .latency_ms = latency_ms,
                          .in_flight = 0,
                          .fee_bp = fee_bp,
                          .probe_ready = false};
}
ProcessorSignals Failing(int64_t latency_ms, int fee_bp) {
  return ProcessorSignals{.failing = true,
                          .latency_ms = latency_ms,
                          .in_flight = 0,
                          .fee_bp = fee_bp,
                          .probe_ready = false};
}

void ExpectStages(const std::vector<Stage>& stages) {
  const RoutingConfig config;
  for (const Stage& s : stages) {
    EXPECT_EQ(RouteName(ChooseRoute(s.default_processor, s.fallback_processor, s.backlog, config)),
              RouteName(s.expected))
        << s.name;
  }
}

TEST(RoutingPolicyTest, FollowsEveryStageOfTheFinalTimeline) {
  // Final fees: default 7 %, fallback 10 %.
  ExpectStages({
      {"1 s: both 0 ms", Healthy(0, 700), Healthy(0, 1000), Route::kDefault},
      {"30 s: default 1000 ms is slow but within capacity and cheaper", Healthy(1000, 700),
       Healthy(0, 1000), Route::kDefault},
      {"60 s: default 500 ms", Healthy(500, 700), Healthy(0, 1000), Route::kDefault},
      {"90 s: default failing 2000 ms, fallback 1000 ms: the payment waits for the default",
       Failing(2000, 700), Healthy(1000, 1000), Route::kHold},
      {"90 s: ... for at most default_wait_ms", Failing(2000, 700), Healthy(1000, 1000),
       Route::kFallback, Waited(RoutingConfig().default_wait_ms)},
      {"120 s: default failing 5000 ms, fallback 5 ms", Failing(5000, 700), Healthy(5, 1000),
       Route::kHold, Waited(30000)},
      {"120 s: the load stops while payments wait: they go to the fallback", Failing(5000, 700),
       Healthy(5, 1000), Route::kFallback, Stopped()},
      {"150 s: default back at 0 ms, fallback failing", Healthy(0, 700), Failing(5, 1000),
       Route::kDefault},
      {"180 s: default 100 ms, fallback 5 ms", Healthy(100, 700), Healthy(5, 1000),
       Route::kDefault},
      {"210 s: default 50 ms", Healthy(50, 700), Healthy(0, 1000), Route::kDefault},
      {"240 s: default 103 ms, fallback 10 ms", Healthy(103, 700), Healthy(10, 1000),
       Route::kDefault},
      {"270 s: default 2000 ms would leave payments in flight at the end", Healthy(2000, 700),
       Healthy(0, 1000), Route::kFallback},
  });
}

TEST(RoutingPolicyTest, FollowsEveryStageOfThePreviewTimeline) {
  // Preview fees: default 5 %, fallback 15 %.
  ExpectStages({
      {"1 s: both 0 ms", Healthy(0, 500), Healthy(0, 1500), Route::kDefault},
      {"10 s: default 100 ms", Healthy(100, 500), Healthy(0, 1500), Route::kDefault},
      {"20 s: default failing: wait for it", Failing(100, 500), Healthy(0, 1500), Route::kHold},
      {"20 s: default failing, waited long enough", Failing(100, 500), Healthy(0, 1500),
       Route::kFallback, Waited(RoutingConfig().default_wait_ms + 1)},
      {"30 s: both failing, no probe due", Failing(2000, 500), Failing(1000, 1500), Route::kHold},
      {"40 s: both 20 ms", Healthy(20, 500), Healthy(20, 1500), Route::kDefault},
      {"50 s: default 0 ms, fallback 5000 ms", Healthy(0, 500), Healthy(5000, 1500),
       Route::kDefault},
  });
}

TEST(RoutingPolicyTest, BothFailingSendsOnlyProbesCheapestFirst) {
  const RoutingConfig config;
  ProcessorSignals d = Failing(2000, 700);
  ProcessorSignals f = Failing(1000, 1000);
  d.probe_ready = true;
  f.probe_ready = true;
  EXPECT_EQ(ChooseRoute(d, f, {}, config), Route::kDefault);
  d.probe_ready = false;
  EXPECT_EQ(ChooseRoute(d, f, {}, config), Route::kFallback);
  f.probe_ready = false;
  EXPECT_EQ(ChooseRoute(d, f, {}, config), Route::kHold);
}

TEST(RoutingPolicyTest, AFullDefaultIsWaitedForWhileItsQueueWouldBeSentSoon) {
  const RoutingConfig config;
  ProcessorSignals d = Healthy(20, 700);
  d.in_flight = config.max_in_flight;
  // A backlog released at once (preview, 40 s: 5,600 payments, default back at 20 ms): at 700
  // in flight every 20 ms it is all sent in 160 ms. It stays with the default.
  EXPECT_EQ(ChooseRoute(d, Healthy(20, 1500), Backlog{.queued = 5600}, config), Route::kHold);
  // The same queue at 1000 ms would take 8 s: the fallback takes what does not fit.
  d.latency_ms = 1000;
  EXPECT_EQ(ChooseRoute(d, Healthy(0, 1000), Backlog{.queued = 5600}, config), Route::kFallback);
  EXPECT_EQ(ChooseRoute(d, Healthy(0, 1000), Backlog{.queued = 700}, config), Route::kHold);
  // Once the load has stopped, nothing waits for room.
  EXPECT_EQ(ChooseRoute(d, Healthy(0, 1000), Backlog{.load_stopped = true, .queued = 1}, config),
            Route::kFallback);
}

TEST(RoutingPolicyTest, HoldsWhenEveryUsableProcessorIsFull) {
  const RoutingConfig config;
  ProcessorSignals d = Healthy(0, 700);
  ProcessorSignals f = Healthy(0, 1000);
  d.in_flight = config.max_in_flight;
  f.in_flight = config.max_in_flight;
  EXPECT_EQ(ChooseRoute(d, f, {}, config), Route::kHold);
  // A failing fallback is no overflow target.
  EXPECT_EQ(ChooseRoute(d, Failing(0, 1000), {}, config), Route::kHold);
}

TEST(RoutingPolicyTest, SlowDefaultStillBeatsAFailingOrSlowerFallback) {
  const RoutingConfig config;
  EXPECT_EQ(ChooseRoute(Healthy(2000, 700), Failing(0, 1000), {}, config), Route::kDefault);
  EXPECT_EQ(ChooseRoute(Healthy(2000, 700), Healthy(5000, 1000), {}, config), Route::kDefault);
}

TEST(RoutingPolicyTest, ThresholdIsInclusiveAndConfigurable) {
  RoutingConfig config;
  config.default_max_latency_ms = 120;
  EXPECT_EQ(ChooseRoute(Healthy(120, 700), Healthy(0, 1000), {}, config), Route::kDefault);
  EXPECT_EQ(ChooseRoute(Healthy(121, 700), Healthy(0, 1000), {}, config), Route::kFallback);
}

TEST(RoutingPolicyTest, TheCheaperFeeDecidesNotTheName) {
  const RoutingConfig config;
  EXPECT_EQ(ChooseRoute(Healthy(0, 1000), Healthy(0, 700), {}, config), Route::kFallback);
}

TEST(RoutingPolicyTest, WaitsForTheCheaperOnlyWhileItFailsAndTheDearerWorks) {
  const RoutingConfig config;
  // Failing cheaper, working dearer: wait (young payment, load going).
  EXPECT_TRUE(WaitingForCheaper(Failing(0, 700), Healthy(0, 1000), Waited(0), config));
  // A slow or full cheaper one is not waited for.
  EXPECT_FALSE(WaitingForCheaper(Healthy(5000, 700), Healthy(0, 1000), Waited(0), config));
  ProcessorSignals full = Healthy(0, 700);
  full.in_flight = config.max_in_flight;
  EXPECT_FALSE(WaitingForCheaper(full, Healthy(0, 1000), Waited(0), config));
  EXPECT_EQ(ChooseRoute(full, Healthy(0, 1000), Waited(0), config), Route::kHold);  // room soon
  EXPECT_EQ(
      ChooseRoute(full, Healthy(0, 1000),
                  Backlog{.oldest_wait_ms = 0, .load_stopped = false, .queued = 1'000'000}, config),
      Route::kFallback);
  // Both failing is not "waiting for the cheaper": everything waits anyway.
  EXPECT_FALSE(WaitingForCheaper(Failing(0, 700), Failing(0, 1000), Waited(0), config));
  // The bound is exclusive: a payment that has waited exactly default_wait_ms goes.
  EXPECT_TRUE(WaitingForCheaper(Failing(0, 700), Healthy(0, 1000),
                                Waited(config.default_wait_ms - 1), config));
  EXPECT_FALSE(
      WaitingForCheaper(Failing(0, 700), Healthy(0, 1000), Waited(config.default_wait_ms), config));
  EXPECT_FALSE(WaitingForCheaper(Failing(0, 700), Healthy(0, 1000), Stopped(), config));
}

TEST(RoutingPolicyTest, WhileWaitingOnlyTheCheaperIsProbed) {
  const RoutingConfig config;
  ProcessorSignals d = Failing(2000, 700);
  d.probe_ready = true;
  EXPECT_EQ(ChooseRoute(d, Healthy(0, 1000), Waited(0), config), Route::kDefault);
  d.probe_ready = false;
  ProcessorSignals f = Healthy(0, 1000);
  f.probe_ready = true;  // a working processor is never "probed"
  EXPECT_EQ(ChooseRoute(d, f, Waited(0), config), Route::kHold);
}

TEST(RoutingPolicyTest, ZeroWaitIsTheOldPolicy) {
  RoutingConfig config;
  config.default_wait_ms = 0;
  EXPECT_EQ(ChooseRoute(Failing(2000, 700), Healthy(1000, 1000), Waited(0), config),
            Route::kFallback);
  EXPECT_FALSE(WaitingForCheaper(Failing(2000, 700), Healthy(1000, 1000), Waited(0), config));
}

TEST(RoutingPolicyTest, WaitsForTheCheaperByFeeNotByName) {
  const RoutingConfig config;
  // The fallback is the cheaper one here: it is waited for, the default takes over after.
  EXPECT_EQ(ChooseRoute(Healthy(0, 1000), Failing(0, 700), Waited(0), config), Route::kHold);
  EXPECT_EQ(ChooseRoute(Healthy(0, 1000), Failing(0, 700), Waited(config.default_wait_ms), config),
            Route::kDefault);
}

}  // namespace
}  // namespace rinha::router
