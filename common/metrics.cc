#include "common/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace rinha::metrics {
namespace {

// Registration is code, not input: a mistake there is a bug to see at start-up.
[[noreturn]] void Fail(std::string_view name, std::string_view problem) {
  std::fprintf(stderr, "metrics: %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(problem.size()), problem.data());
  std::abort();
}

bool IsMetricName(std::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':') return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) return false;
  if (name.substr(0, 2) == "__") return false;  // reserved for Prometheus itself
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::vector<int64_t> BoundsInUnits(const HistogramBuckets& buckets) {
  std::vector<int64_t> units;
  units.reserve(buckets.bounds.size());
  for (double bound : buckets.bounds) {
    units.push_back(std::llround(bound * static_cast<double>(buckets.units_per_base)));
  }
  return units;
}

void CheckBuckets(std::string_view name, const HistogramBuckets& buckets) {
  if (buckets.units_per_base < 1) Fail(name, "units_per_base must be >= 1");
  constexpr double kMaxBound = 9e15;  // far inside int64 once in units, and exact in a double
  for (double bound : buckets.bounds) {
    if (!std::isfinite(bound) ||
        std::abs(bound * static_cast<double>(buckets.units_per_base)) > kMaxBound) {
      Fail(name, "bucket bounds must be finite and fit int64 in units");
    }
  }
  const std::vector<int64_t> units = BoundsInUnits(buckets);
  for (size_t i = 1; i < units.size(); ++i) {
    if (units[i] <= units[i - 1]) Fail(name, "bucket bounds must ascend strictly in units");
  }
}

// The shortest text that reads back as the same double, spelled as Go's
// strconv.FormatFloat(v, 'g', -1, 64) spells it (what client_golang writes, so that bucket bounds
// match other exporters' le="0.0005"): exponent form below 1e-4 and from 1e6 on. Prometheus's
// spellings of the special values.
void AppendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[64];
  char* const end = buffer + sizeof(buffer);
  std::to_chars_result result = std::to_chars(buffer, end, v, std::chars_format::scientific);
  const std::string_view scientific(buffer, static_cast<size_t>(result.ptr - buffer));
  const size_t e = scientific.find('e');
  int exponent = 0;
  std::from_chars(scientific.data() + e + 2, result.ptr, exponent);  // after "e+" or "e-"
  if (scientific[e + 1] == '-') exponent = -exponent;
  if (v != 0 && (exponent < -4 || exponent >= 6)) {
    out.append(scientific);
    return;
  }
  result = std::to_chars(buffer, end, v, std::chars_format::fixed);
  out.append(buffer, result.ptr);
}

// HELP text escapes backslash and newline; label values also the double quote.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// name{labels} value. `labels` is the rendered label list without braces (may be empty).
void AppendSample(std::string& out, std::string_view name, std::string_view suffix,
                  std::string_view labels, std::string_view value) {
  out.append(name).append(suffix);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(value).append("\n");
}

std::string DoubleText(double v) {
  std::string text;
  AppendDouble(text, v);
  return text;
}

}  // namespace

Histogram::Histogram(const HistogramBuckets& buckets)
    : bounds_(BoundsInUnits(buckets)),
      counts_(std::make_unique<std::atomic<int64_t>[]>(bounds_.size() + 1)) {}

int64_t Histogram::count() const {
  int64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) total += bucket_count(i);
  return total;
}

// Exactly one of the four is set.
struct Registry::Child {
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
  std::function<double()> read;
};

struct Registry::Family {
  Type type = Type::kCounter;
  std::string help;
  std::vector<std::string> label_names;
  HistogramBuckets buckets;                            // histograms only
  std::map<std::vector<std::string>, Child> children;  // by label values
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Child& Registry::ChildFor(std::string_view name, std::string_view help, Type type,
                                    const Labels& labels, const HistogramBuckets* buckets) {
  if (!IsMetricName(name)) Fail(name, "invalid metric name");
  const bool total = name.ends_with("_total");
  if (type == Type::kCounter && !total) Fail(name, "counter names end in _total");
  if (type != Type::kCounter && total) Fail(name, "only counter names end in _total");
  std::vector<std::string> label_names;
  std::vector<std::string> label_values;
  for (const auto& [label, value] : labels) {
    if (!IsLabelName(label)) Fail(name, absl::StrCat("invalid label name ", label));
    if (type == Type::kHistogram && label == "le") Fail(name, "le is the histogram's own label");
    for (const std::string& seen : label_names) {
      if (seen == label) Fail(name, absl::StrCat("label ", label, " given twice"));
    }
    label_names.push_back(label);
    label_values.push_back(value);
  }
  if (buckets != nullptr) CheckBuckets(name, *buckets);

  auto it = families_.find(name);
  if (it == families_.end()) {
    auto family = std::make_unique<Family>();
    family->type = type;
    family->help = std::string(help);
    family->label_names = label_names;
    if (buckets != nullptr) family->buckets = *buckets;
    it = families_.emplace(std::string(name), std::move(family)).first;
  }
  Family& family = *it->second;
  if (family.type != type) Fail(name, "added again with another type");
  if (family.help != help) Fail(name, "added again with another help text");
  if (family.label_names != label_names) Fail(name, "added again with other label names");
  if (buckets != nullptr && (family.buckets.bounds != buckets->bounds ||
                             family.buckets.units_per_base != buckets->units_per_base)) {
    Fail(name, "added again with other buckets");
  }
  return family.children[label_values];
}

Counter& Registry::AddCounter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Child& child = ChildFor(name, help, Type::kCounter, labels, nullptr);
  if (child.read) Fail(name, "these labels are a callback child");
  if (!child.counter) child.counter = std::make_unique<Counter>();
  return *child.counter;
}

Gauge& Registry::AddGauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Child& child = ChildFor(name, help, Type::kGauge, labels, nullptr);
  if (child.read) Fail(name, "these labels are a callback child");
  if (!child.gauge) child.gauge = std::make_unique<Gauge>();
  return *child.gauge;
}

Histogram& Registry::AddHistogram(std::string_view name, std::string_view help,
                                  const HistogramBuckets& buckets, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Child& child = ChildFor(name, help, Type::kHistogram, labels, &buckets);
  if (!child.histogram) child.histogram = std::make_unique<Histogram>(buckets);
  return *child.histogram;
}

void Registry::AddCallbackGauge(std::string_view name, std::string_view help, const Labels& labels,
                                std::function<double()> read) {
  std::lock_guard<std::mutex> lock(mu_);
  Child& child = ChildFor(name, help, Type::kGauge, labels, nullptr);
  if (child.read || child.gauge) Fail(name, "these labels were added already");
  child.read = std::move(read);
}

void Registry::AddCallbackCounter(std::string_view name, std::string_view help,
                                  const Labels& labels, std::function<double()> read) {
  std::lock_guard<std::mutex> lock(mu_);
  Child& child = ChildFor(name, help, Type::kCounter, labels, nullptr);
  if (child.read || child.counter) Fail(name, "these labels were added already");
  child.read = std::move(read);
}

std::string Registry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  std::string labels;
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ");
    AppendEscaped(out, family->help, /*quote=*/false);
    const char* type = family->type == Type::kCounter ? "counter"
                       : family->type == Type::kGauge ? "gauge"
                                                      : "histogram";
    absl::StrAppend(&out, "\n# TYPE ", name, " ", type, "\n");
    for (const auto& [values, child] : family->children) {
      labels.clear();
      for (size_t i = 0; i < values.size(); ++i) {
        absl::StrAppend(&labels, i == 0 ? "" : ",", family->label_names[i], "=\"");
        AppendEscaped(labels, values[i], /*quote=*/true);
        labels += '"';
      }
      if (child.read) {
        AppendSample(out, name, "", labels, DoubleText(child.read()));
      } else if (child.counter) {
        AppendSample(out, name, "", labels, absl::StrCat(child.counter->value()));
      } else if (child.gauge) {
        AppendSample(out, name, "", labels, DoubleText(child.gauge->value()));
      } else if (child.histogram) {
        const Histogram& h = *child.histogram;
        const std::vector<double>& bounds = family->buckets.bounds;
        const std::string separator = labels.empty() ? "" : ",";
        int64_t cumulative = 0;
        for (size_t i = 0; i <= bounds.size(); ++i) {
          cumulative += h.bucket_count(i);
          const std::string le = i < bounds.size() ? DoubleText(bounds[i]) : "+Inf";
          AppendSample(out, name, "_bucket", absl::StrCat(labels, separator, "le=\"", le, "\""),
                       absl::StrCat(cumulative));
        }
        const double sum =
            static_cast<double>(h.sum()) / static_cast<double>(family->buckets.units_per_base);
        AppendSample(out, name, "_sum", labels, DoubleText(sum));
        AppendSample(out, name, "_count", labels, absl::StrCat(cumulative));
      }
    }
  }
  return out;
}

namespace {

std::string ReadProcFile(const char* path) {
  std::string text;
  FILE* file = std::fopen(path, "re");
  if (file == nullptr) return text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
  std::fclose(file);
  return text;
}

std::string ReadStat() { return ReadProcFile("/proc/self/stat"); }

// The number `text` starts with (after spaces), or NaN.
double ParseDouble(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  double value;
  const std::from_chars_result result =
      std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc() ? value : std::numeric_limits<double>::quiet_NaN();
}

// Field `field` (1-based, as proc(5) numbers them) of /proc/self/stat's text, or NaN. The
// command name (field 2) may hold spaces and parentheses, so fields are counted after its last
// ')'.
double StatField(std::string_view stat, int field) {
  size_t pos = stat.rfind(')');
  if (pos == std::string_view::npos || field < 3) return std::numeric_limits<double>::quiet_NaN();
  for (int f = 2; f < field && pos != std::string_view::npos; ++f) pos = stat.find(' ', pos + 1);
  if (pos == std::string_view::npos) return std::numeric_limits<double>::quiet_NaN();
  return ParseDouble(stat.substr(pos + 1));
}

// Seconds since the epoch at boot ("btime" of /proc/stat), or NaN.
double BootTime() {
  const std::string stat = ReadProcFile("/proc/stat");
  const size_t line = stat.find("\nbtime ");
  if (line == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  return ParseDouble(std::string_view(stat).substr(line + 7));
}

double OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::numeric_limits<double>::quiet_NaN();
  int count = 0;
  const std::string own = std::to_string(dirfd(dir));
  while (const dirent* entry = readdir(dir)) {
    const std::string_view entry_name = entry->d_name;
    if (entry_name != "." && entry_name != ".." && entry_name != own) ++count;
  }
  closedir(dir);
  return count;
}

}  // namespace

void AddProcessMetrics(Registry& registry) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double start_time = BootTime() + StatField(ReadStat(), 22) / ticks;  // constant
  registry.AddCallbackCounter("process_cpu_seconds_total",
                              "Total user and system CPU time spent in seconds.", {}, [ticks] {
                                const std::string stat = ReadStat();
                                return (StatField(stat, 14) + StatField(stat, 15)) / ticks;
                              });
  registry.AddCallbackGauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
                            [page_size] { return StatField(ReadStat(), 24) * page_size; });
  registry.AddCallbackGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
                            [] { return StatField(ReadStat(), 23); });
  registry.AddCallbackGauge("process_start_time_seconds",
                            "Start time of the process since unix epoch in seconds.", {},
                            [start_time] { return start_time; });
  registry.AddCallbackGauge("process_open_fds", "Number of open file descriptors.", {}, OpenFds);
  registry.AddCallbackGauge("process_max_fds", "Maximum number of open file descriptors.", {}, [] {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::numeric_limits<double>::quiet_NaN();
    return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                           : static_cast<double>(limit.rlim_cur);
  });
}

}  // namespace rinha::metrics
