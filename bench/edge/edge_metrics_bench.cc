// What the edge's metrics add to one request, as edge_server.cc does it but without the HTTP
// around it: the handler's stamp (a clock reading into a thread-local), then the logger's
// accounting through a std::function (the stamp taken back, a clock reading, one counter
// increment and one histogram observation on children created at setup). Two threads share the
// children, as the edge's HTTP threads do. Run with repetitions for medians:
//   edge_metrics_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdint>
#include <functional>
#include <utility>

#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "edge/edge_metrics.h"

namespace rinha::edge {
namespace {

struct Stamp {
  int64_t start_us = -1;
  EdgeMetrics::Route route = EdgeMetrics::Route::kOther;
};
constinit thread_local Stamp t_stamp;

metrics::Registry& SharedRegistry() {
  static auto* registry = new metrics::Registry();
  return *registry;
}
EdgeMetrics& Shared() {
  static auto* edge = new EdgeMetrics(SharedRegistry());
  return *edge;
}

void BM_RequestAccounting(benchmark::State& state) {
  EdgeMetrics* metrics = &Shared();
  const std::function<void(int)> logger = [metrics](int status) {
    const Stamp stamp = std::exchange(t_stamp, Stamp());
    metrics->OnAnswered(stamp.route, status, SteadyMicros() - stamp.start_us);
  };
  for (auto _ : state) {
    t_stamp = {SteadyMicros(), EdgeMetrics::Route::kPayments};  // the handler's first statement
    logger(202);                                                // once the answer is written
  }
}
BENCHMARK(BM_RequestAccounting)->Threads(1)->Threads(2)->UseRealTime();

// The floor: the two clock readings alone.
void BM_TwoClockReadings(benchmark::State& state) {
  for (auto _ : state) {
    const int64_t start = SteadyMicros();
    benchmark::DoNotOptimize(SteadyMicros() - start);
  }
}
BENCHMARK(BM_TwoClockReadings);

}  // namespace
}  // namespace rinha::edge
