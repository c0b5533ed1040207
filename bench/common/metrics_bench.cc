// What recording a metric costs on the request path (Counter::Increment, Gauge::Add,
// Histogram::Observe), alone and from two threads on the same child, and what one scrape
// (Registry::Render of a service-sized registry) costs. Run with repetitions for medians:
//   metrics_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "benchmark/benchmark.h"
#include "common/metrics.h"

namespace rinha::metrics {
namespace {

const HistogramBuckets kLatency{
    {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}, kMicrosPerSecond};

// Latencies in microseconds, log-uniform between 100 us and 3 s, so that buckets vary as they do
// under load (a constant value would let the branch predictor learn the bucket).
std::array<int64_t, 1024> Latencies() {
  std::array<int64_t, 1024> latencies{};
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> exponent(2, 6.5);
  for (int64_t& micros : latencies) micros = static_cast<int64_t>(std::pow(10, exponent(random)));
  return latencies;
}

// Shared by every thread of a benchmark: the contended case is one child written by all.
Registry& SharedRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

void BM_CounterIncrement(benchmark::State& state) {
  Counter& counter = SharedRegistry().AddCounter("bench_events_total", "Events.");
  for (auto _ : state) counter.Increment();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrement)->Threads(1)->Threads(2)->UseRealTime();

// Each thread its own child (label thread=N): what two request threads with separate series pay.
void BM_CounterIncrementOwnChild(benchmark::State& state) {
  Counter& counter = SharedRegistry().AddCounter(
      "bench_own_total", "Events.", {{"thread", std::to_string(state.thread_index())}});
  for (auto _ : state) counter.Increment();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrementOwnChild)->Threads(2)->UseRealTime();

void BM_GaugeAdd(benchmark::State& state) {
  Gauge& gauge = SharedRegistry().AddGauge("bench_level", "Level.");
  for (auto _ : state) gauge.Add(1);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GaugeAdd)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramObserve(benchmark::State& state) {
  Histogram& histogram =
      SharedRegistry().AddHistogram("bench_latency_seconds", "Latency.", kLatency);
  const std::array<int64_t, 1024> latencies = Latencies();
  size_t i = 0;
  for (auto _ : state) histogram.Observe(latencies[i++ & 1023]);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

// One scrape of a registry the size a service has: 12 counters by route and status, 4 gauges, 2
// labelled histograms of 13 buckets; with the process metrics (/proc reads) when the argument is
// 1.
void BM_Render(benchmark::State& state) {
  Registry registry;
  if (state.range(0) == 1) AddProcessMetrics(registry);
  for (const char* route : {"/payments", "/payments-summary", "/purge-payments"}) {
    for (const char* status : {"200", "202", "400", "500"}) {
      registry
          .AddCounter("bench_http_requests_total", "Requests.",
                      {{"route", route}, {"status", status}})
          .Add(12345);
    }
  }
  for (const char* name : {"bench_queue_a", "bench_queue_b", "bench_queue_c", "bench_queue_d"}) {
    registry.AddGauge(name, "Queue.").Set(17);
  }
  for (const char* processor : {"default", "fallback"}) {
    Histogram& h = registry.AddHistogram("bench_processor_seconds", "Latency.", kLatency,
                                         {{"processor", processor}});
    for (int64_t micros : Latencies()) h.Observe(micros);
  }
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = registry.Render();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Render)->Arg(0)->Arg(1);

}  // namespace
}  // namespace rinha::metrics
