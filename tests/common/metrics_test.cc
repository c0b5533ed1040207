// The metrics registry: exact exposition text for each type, escaping, cumulative histograms,
// exact sums under concurrent recording, callbacks, process metrics, setup mistakes that abort,
// and Prometheus's own parser (promtool) on a rendered registry.
#include "common/metrics.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace rinha::metrics {
namespace {

using ::testing::HasSubstr;

const HistogramBuckets kLatency{{0.001, 0.01, 0.1}, kMicrosPerSecond};

// The value of the sample line that starts with `series` ("name{labels}" or "name"), or NaN.
double SampleValue(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double value;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) return value;
    }
  }
  return std::nan("");
}

TEST(MetricsRegistryTest, CounterRendersHelpTypeAndIntegerValue) {
  Registry registry;
  Counter& counter = registry.AddCounter("rinha_payments_total", "Payments accepted.");
  counter.Increment();
  counter.Add(41);
  EXPECT_EQ(counter.value(), 42);
  EXPECT_EQ(registry.Render(),
            "# HELP rinha_payments_total Payments accepted.\n"
            "# TYPE rinha_payments_total counter\n"
            "rinha_payments_total 42\n");
}

TEST(MetricsRegistryTest, LabeledChildrenShareOneFamilyAndRenderSortedByLabelValues) {
  Registry registry;
  const std::string help = "HTTP requests answered.";
  Counter& accepted =
      registry.AddCounter("http_requests_total", help, {{"route", "/payments"}, {"status", "202"}});
  Counter& summary = registry.AddCounter("http_requests_total", help,
                                         {{"route", "/payments-summary"}, {"status", "200"}});
  Counter& rejected =
      registry.AddCounter("http_requests_total", help, {{"route", "/payments"}, {"status", "422"}});
  accepted.Add(3);
  summary.Add(1);
  rejected.Add(2);
  EXPECT_EQ(registry.Render(),
            "# HELP http_requests_total HTTP requests answered.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{route=\"/payments\",status=\"202\"} 3\n"
            "http_requests_total{route=\"/payments\",status=\"422\"} 2\n"
            "http_requests_total{route=\"/payments-summary\",status=\"200\"} 1\n");
}

TEST(MetricsRegistryTest, AddingTheSameChildAgainReturnsTheSameObject) {
  Registry registry;
  Counter& first = registry.AddCounter("a_total", "A.", {{"k", "v"}});
  Counter& second = registry.AddCounter("a_total", "A.", {{"k", "v"}});
  EXPECT_EQ(&first, &second);
  EXPECT_NE(&first, &registry.AddCounter("a_total", "A.", {{"k", "w"}}));
  Histogram& h = registry.AddHistogram("h_seconds", "H.", kLatency);
  EXPECT_EQ(&h, &registry.AddHistogram("h_seconds", "H.", kLatency));
}

TEST(MetricsRegistryTest, FamiliesRenderSortedByName) {
  Registry registry;
  registry.AddGauge("zeta", "Z.");
  registry.AddGauge("alpha", "A.");
  registry.AddCounter("mid_total", "M.");
  EXPECT_EQ(registry.Render(),
            "# HELP alpha A.\n# TYPE alpha gauge\nalpha 0\n"
            "# HELP mid_total M.\n# TYPE mid_total counter\nmid_total 0\n"
            "# HELP zeta Z.\n# TYPE zeta gauge\nzeta 0\n");
}

TEST(MetricsRegistryTest, GaugeSetsAddsAndRendersTheShortestExactDecimal) {
  Registry registry;
  Gauge& queue = registry.AddGauge("queue_payments", "Payments waiting.");
  Gauge& ratio = registry.AddGauge("fee_ratio", "Fee.", {{"processor", "default"}});
  queue.Set(10);
  queue.Increment();
  queue.Add(5);
  queue.Decrement();
  ratio.Set(0.1);
  EXPECT_EQ(queue.value(), 15);
  EXPECT_EQ(registry.Render(),
            "# HELP fee_ratio Fee.\n"
            "# TYPE fee_ratio gauge\n"
            "fee_ratio{processor=\"default\"} 0.1\n"
            "# HELP queue_payments Payments waiting.\n"
            "# TYPE queue_payments gauge\n"
            "queue_payments 15\n");
}

// As client_golang writes them (Go's strconv.FormatFloat(v, 'g', -1, 64)), so that le labels
// match other exporters'.
TEST(MetricsRegistryTest, DoublesAreSpelledAsGoClientsSpellThem) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"},
      {1, "1"},
      {-1, "-1"},
      {0.1, "0.1"},
      {0.0005, "0.0005"},
      {0.00005, "5e-05"},
      {-2.5e-7, "-2.5e-07"},
      {100, "100"},
      {123456.5, "123456.5"},
      {999999, "999999"},
      {1e6, "1e+06"},
      {3526656, "3.526656e+06"},
      {1752582896.123, "1.752582896123e+09"},
      {1e21, "1e+21"},
      {INFINITY, "+Inf"},
      {-INFINITY, "-Inf"},
      {NAN, "NaN"},
  };
  for (const auto& [value, text] : cases) {
    Registry registry;
    registry.AddGauge("g", "G.").Set(value);
    EXPECT_EQ(registry.Render(), "# HELP g G.\n# TYPE g gauge\ng " + text + "\n") << text;
  }
}

TEST(MetricsRegistryTest, IntegerCountsStayExactBeyondDoublePrecision) {
  Registry registry;
  registry.AddCounter("big_total", "B.").Add(9'007'199'254'740'993);  // 2^53 + 1
  EXPECT_THAT(registry.Render(), HasSubstr("\nbig_total 9007199254740993\n"));
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeWithSumInBaseUnitsAndCount) {
  Registry registry;
  Histogram& latency =
      registry.AddHistogram("request_duration_seconds", "Time to answer.", kLatency);
  latency.Observe(500);        // 0.5 ms: le 0.001
  latency.Observe(1'000);      // exactly on a bound: le 0.001 (bounds are inclusive)
  latency.Observe(1'001);      // le 0.01
  latency.Observe(100'000);    // le 0.1
  latency.Observe(2'500'000);  // 2.5 s: only +Inf
  EXPECT_EQ(latency.count(), 5);
  EXPECT_EQ(latency.sum(), 2'602'501);
  EXPECT_EQ(latency.bucket_count(0), 2);
  EXPECT_EQ(latency.bucket_count(3), 1);
  EXPECT_EQ(registry.Render(),
            "# HELP request_duration_seconds Time to answer.\n"
            "# TYPE request_duration_seconds histogram\n"
            "request_duration_seconds_bucket{le=\"0.001\"} 2\n"
            "request_duration_seconds_bucket{le=\"0.01\"} 3\n"
            "request_duration_seconds_bucket{le=\"0.1\"} 4\n"
            "request_duration_seconds_bucket{le=\"+Inf\"} 5\n"
            "request_duration_seconds_sum 2.602501\n"
            "request_duration_seconds_count 5\n");
}

TEST(MetricsRegistryTest, HistogramChildPutsLeAfterItsOwnLabels) {
  Registry registry;
  Histogram& h = registry.AddHistogram("batch_payments", "Payments per batch.",
                                       HistogramBuckets{{1, 10}, 1}, {{"stream", "settle"}});
  h.Observe(7);
  EXPECT_EQ(registry.Render(),
            "# HELP batch_payments Payments per batch.\n"
            "# TYPE batch_payments histogram\n"
            "batch_payments_bucket{stream=\"settle\",le=\"1\"} 0\n"
            "batch_payments_bucket{stream=\"settle\",le=\"10\"} 1\n"
            "batch_payments_bucket{stream=\"settle\",le=\"+Inf\"} 1\n"
            "batch_payments_sum{stream=\"settle\"} 7\n"
            "batch_payments_count{stream=\"settle\"} 1\n");
}

TEST(MetricsRegistryTest, EmptyHistogramRendersZeroes) {
  Registry registry;
  registry.AddHistogram("idle_seconds", "I.", HistogramBuckets{{}, kMicrosPerSecond});
  EXPECT_EQ(registry.Render(),
            "# HELP idle_seconds I.\n"
            "# TYPE idle_seconds histogram\n"
            "idle_seconds_bucket{le=\"+Inf\"} 0\n"
            "idle_seconds_sum 0\n"
            "idle_seconds_count 0\n");
}

TEST(MetricsRegistryTest, LabelValuesEscapeBackslashQuoteAndNewlineAndHelpBackslashNewline) {
  Registry registry;
  registry.AddCounter("odd_total", "Back\\slash, \"quotes\"\nand a newline.",
                      {{"path", "C:\\dir \"x\"\nend"}});
  EXPECT_EQ(registry.Render(),
            "# HELP odd_total Back\\\\slash, \"quotes\"\\nand a newline.\n"
            "# TYPE odd_total counter\n"
            "odd_total{path=\"C:\\\\dir \\\"x\\\"\\nend\"} 0\n");
}

TEST(MetricsRegistryTest, CallbackGaugeAndCounterAreReadAtEveryRender) {
  Registry registry;
  int queued = 3;
  double seconds = 0.25;
  registry.AddCallbackGauge("journal_pending", "Records not yet acknowledged.",
                            {{"journal", "edge"}}, [&queued] { return queued; });
  registry.AddCallbackCounter("busy_seconds_total", "Time busy.", {},
                              [&seconds] { return seconds; });
  EXPECT_EQ(registry.Render(),
            "# HELP busy_seconds_total Time busy.\n"
            "# TYPE busy_seconds_total counter\n"
            "busy_seconds_total 0.25\n"
            "# HELP journal_pending Records not yet acknowledged.\n"
            "# TYPE journal_pending gauge\n"
            "journal_pending{journal=\"edge\"} 3\n");
  queued = 7;
  seconds = 1.5;
  const std::string text = registry.Render();
  EXPECT_EQ(SampleValue(text, "journal_pending{journal=\"edge\"}"), 7);
  EXPECT_EQ(SampleValue(text, "busy_seconds_total"), 1.5);
}

TEST(MetricsRegistryTest, ConcurrentRecordingFromSeveralThreadsSumsExactly) {
  Registry registry;
  Counter& counter = registry.AddCounter("events_total", "E.");
  Gauge& gauge = registry.AddGauge("level", "L.");
  Histogram& histogram = registry.AddHistogram("wait_seconds", "W.", kLatency);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100'000;
  std::vector<std::thread> threads;
  std::atomic<bool> rendering{true};
  std::thread renderer([&] {  // a scrape racing the writers must not disturb them
    while (rendering.load()) registry.Render();
  });
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.Increment();
        gauge.Add(2);
        histogram.Observe(i % 2 == 0 ? 500 : 50'000);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  rendering.store(false);
  renderer.join();
  EXPECT_EQ(counter.value(), kThreads * kPerThread);
  EXPECT_EQ(gauge.value(), 2.0 * kThreads * kPerThread);
  EXPECT_EQ(histogram.count(), kThreads * kPerThread);
  EXPECT_EQ(histogram.sum(), int64_t{kThreads} * kPerThread / 2 * (500 + 50'000));
  const std::string text = registry.Render();
  EXPECT_EQ(SampleValue(text, "wait_seconds_bucket{le=\"0.001\"}"), kThreads * kPerThread / 2);
  EXPECT_EQ(SampleValue(text, "wait_seconds_bucket{le=\"0.1\"}"), kThreads * kPerThread);
  EXPECT_EQ(SampleValue(text, "events_total"), kThreads * kPerThread);
}

TEST(MetricsRegistryTest, ProcessMetricsArePresentAndPlausible) {
  Registry registry;
  AddProcessMetrics(registry);
  volatile double spin = 0;  // some CPU time to report
  for (int i = 0; i < 5'000'000; ++i) spin = spin + i;
  const std::string text = registry.Render();
  for (const char* type :
       {"# TYPE process_cpu_seconds_total counter", "# TYPE process_resident_memory_bytes gauge",
        "# TYPE process_virtual_memory_bytes gauge", "# TYPE process_start_time_seconds gauge",
        "# TYPE process_open_fds gauge", "# TYPE process_max_fds gauge"}) {
    EXPECT_THAT(text, HasSubstr(type));
  }
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  EXPECT_GE(SampleValue(text, "process_cpu_seconds_total"), 0.0);
  EXPECT_LT(SampleValue(text, "process_cpu_seconds_total"), 3600.0);
  EXPECT_GT(SampleValue(text, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(SampleValue(text, "process_virtual_memory_bytes"),
            SampleValue(text, "process_resident_memory_bytes"));
  EXPECT_GT(SampleValue(text, "process_start_time_seconds"), now - 3600);
  EXPECT_LE(SampleValue(text, "process_start_time_seconds"), now + 1);
  const double open = SampleValue(text, "process_open_fds");
  EXPECT_GE(open, 3);  // stdin, stdout, stderr
  EXPECT_GE(SampleValue(text, "process_max_fds"), open);

  // One more open file shows at the next scrape.
  FILE* file = std::fopen("/proc/self/stat", "re");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(SampleValue(registry.Render(), "process_open_fds"), open + 1);
  std::fclose(file);
}

// Every type, labels, escaping and the process metrics, as Prometheus's own parser and linter
// read them. Skipped where promtool is not installed (Debian: apt-get install prometheus).
TEST(MetricsRegistryTest, PromtoolAcceptsTheRenderedText) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed";
  }
  Registry registry;
  AddProcessMetrics(registry);
  registry
      .AddCounter("rinha_http_requests_total", "HTTP requests answered.",
                  {{"route", "/payments"}, {"status", "202"}})
      .Add(5);
  registry.AddCounter("rinha_http_requests_total", "HTTP requests answered.",
                      {{"route", "odd \"path\"\\\n"}, {"status", "404"}});
  registry.AddGauge("rinha_queue_payments", "Payments \\ waiting\nto be sent.").Set(12);
  registry.AddCallbackGauge("rinha_processor_failing", "1 while failing.",
                            {{"processor", "default"}}, [] { return 0; });
  Histogram& latency = registry.AddHistogram(
      "rinha_request_duration_seconds", "Time to answer.",
      HistogramBuckets{{0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10}, kMicrosPerSecond},
      {{"route", "/payments"}});
  for (int64_t micros : {120, 900, 4'000, 3'000'000}) latency.Observe(micros);

  const std::filesystem::path dir = testing::MakeTempDir("metrics_promtool");
  const std::filesystem::path input = dir / "metrics.txt";
  std::ofstream(input) << registry.Render();
  const std::string command =
      absl::StrCat("promtool check metrics < ", input.string(), " 2>&1; echo \"exit=$?\"");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  pclose(pipe);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(output, "exit=0\n") << registry.Render();
}

// Setup mistakes abort at start-up with the family's name and the problem.
TEST(MetricsRegistryDeathTest, InvalidNamesAbort) {
  Registry registry;
  EXPECT_DEATH(registry.AddGauge("1st", "H."), "1st: invalid metric name");
  EXPECT_DEATH(registry.AddGauge("has-dash", "H."), "invalid metric name");
  EXPECT_DEATH(registry.AddGauge("g", "H.", {{"bad-label", "v"}}), "invalid label name");
  EXPECT_DEATH(registry.AddGauge("g", "H.", {{"__reserved", "v"}}), "invalid label name");
  EXPECT_DEATH(registry.AddGauge("g", "H.", {{"a", "1"}, {"a", "2"}}), "given twice");
  EXPECT_DEATH(registry.AddHistogram("h_seconds", "H.", kLatency, {{"le", "1"}}),
               "le is the histogram's own label");
}

TEST(MetricsRegistryDeathTest, CounterNamesAndOnlyCounterNamesEndInTotal) {
  Registry registry;
  EXPECT_DEATH(registry.AddCounter("requests", "H."), "counter names end in _total");
  EXPECT_DEATH(registry.AddGauge("queue_total", "H."), "only counter names end in _total");
}

TEST(MetricsRegistryDeathTest, AFamilyAddedAgainDifferentlyAborts) {
  Registry registry;
  registry.AddCounter("x_total", "X.", {{"a", "1"}});
  EXPECT_DEATH(registry.AddCounter("x_total", "Other help.", {{"a", "1"}}), "another help");
  EXPECT_DEATH(registry.AddCounter("x_total", "X.", {{"b", "1"}}), "other label names");
  EXPECT_DEATH(registry.AddCounter("x_total", "X."), "other label names");
  registry.AddGauge("g", "G.");
  EXPECT_DEATH(registry.AddHistogram("g", "G.", kLatency), "another type");
  registry.AddHistogram("h_seconds", "H.", kLatency);
  EXPECT_DEATH(registry.AddHistogram("h_seconds", "H.", HistogramBuckets{{0.5}, kMicrosPerSecond}),
               "other buckets");
  registry.AddCallbackGauge("c", "C.", {}, [] { return 1.0; });
  EXPECT_DEATH(registry.AddCallbackGauge("c", "C.", {}, [] { return 2.0; }), "added already");
  EXPECT_DEATH(registry.AddGauge("c", "C."), "callback child");
}

TEST(MetricsRegistryDeathTest, BucketsMustAscendStrictlyInUnits) {
  Registry registry;
  EXPECT_DEATH(registry.AddHistogram("a_seconds", "H.", HistogramBuckets{{0.1, 0.1}, 1000}),
               "ascend strictly");
  // 1.0001 and 1.0002 are the same whole number of units.
  EXPECT_DEATH(registry.AddHistogram("b_seconds", "H.", HistogramBuckets{{1.0001, 1.0002}, 1}),
               "ascend strictly");
  EXPECT_DEATH(registry.AddHistogram("c_seconds", "H.", HistogramBuckets{{INFINITY}, 1}), "finite");
  EXPECT_DEATH(registry.AddHistogram("d_seconds", "H.", HistogramBuckets{{1}, 0}),
               "units_per_base");
}

}  // namespace
}  // namespace rinha::metrics
