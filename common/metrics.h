// Prometheus metrics of one process: counters, gauges and fixed-bucket histograms registered at
// setup and rendered in the text exposition format 0.0.4. Recording is a relaxed atomic add (two
// for a histogram) on a child the caller holds; nothing is looked up, locked or allocated.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace rinha::metrics {

// The Content-Type of Registry::Render()'s text (for a /metrics served by any HTTP server).
inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Label names and values of one child, e.g. {{"route", "/payments"}, {"status", "202"}}. Every
// child of a family has the same names in the same order; keep the value sets small and fixed.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonic integer count. Any thread.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Increment() { Add(1); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }  // n >= 0
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A value that goes up and down (in base units: bytes, seconds, a count). Any thread.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void Increment() { Add(1); }
  void Decrement() { Add(-1); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Bucket upper bounds in base units (ascending, finite; "+Inf" is implicit) and how many integer
// units one base unit holds: observations are integers in that unit, so that Observe is integer
// atomic adds. For a latency in seconds observed in microseconds (SteadyMicros() differences):
// {{0.001, 0.005, 0.025, 0.1, 0.5, 2.5}, kMicrosPerSecond}.
struct HistogramBuckets {
  std::vector<double> bounds;
  int64_t units_per_base = 1;
};
inline constexpr int64_t kMicrosPerSecond = 1'000'000;

// Observations counted per bucket, plus their sum. Any thread. A Render racing Observe may show
// an observation in its bucket before it is in the sum; the count is always the buckets' total.
class Histogram {
 public:
  explicit Histogram(const HistogramBuckets& buckets);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // `value` in the unit of HistogramBuckets::units_per_base (e.g. microseconds).
  void Observe(int64_t value) {
    size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  // Observations in bucket i alone (not cumulative); i == bounds.size() is the +Inf bucket.
  int64_t bucket_count(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  int64_t count() const;
  int64_t sum() const { return sum_.load(std::memory_order_relaxed); }  // in units

 private:
  const std::vector<int64_t> bounds_;                     // in units
  const std::unique_ptr<std::atomic<int64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<int64_t> sum_{0};
};

// The metrics of one process, by family name. Setup (Add*) and Render are thread-safe with each
// other and with recording; the references returned live as long as the registry. Names and
// labels are the program's constants: an invalid name, a family re-added with another type, help,
// label names or buckets, or a callback child added twice aborts the process at setup.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The child of family `name` with `labels`, created on first use (later calls with the same
  // arguments return the same child: lazy creation is fine, but do it outside the hot path).
  // Counter names end in "_total".
  Counter& AddCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& AddGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& AddHistogram(std::string_view name, std::string_view help,
                          const HistogramBuckets& buckets, const Labels& labels = {});

  // Children whose value is read by `read` at every Render, for values another component owns
  // (queue sizes, /proc). `read` runs on the rendering thread under the registry's lock: it must
  // be quick, thread-safe and must not call the registry.
  void AddCallbackGauge(std::string_view name, std::string_view help, const Labels& labels,
                        std::function<double()> read);
  void AddCallbackCounter(std::string_view name, std::string_view help, const Labels& labels,
                          std::function<double()> read);

  // Every family, sorted by name (children by label values), in the text exposition format
  // 0.0.4 (kContentType).
  std::string Render() const;

 private:
  struct Child;
  struct Family;
  enum class Type { kCounter, kGauge, kHistogram };

  // Finds or creates the family and the child slot for `labels`.
  Child& ChildFor(std::string_view name, std::string_view help, Type type, const Labels& labels,
                  const HistogramBuckets* buckets) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan (see FakeClock).
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_ ABSL_GUARDED_BY(mu_);
};

// Registers the conventional process metrics, read from /proc/self at every Render:
// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_start_time_seconds, process_open_fds, process_max_fds.
void AddProcessMetrics(Registry& registry);

}  // namespace rinha::metrics
