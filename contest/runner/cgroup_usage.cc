#include "contest/runner/cgroup_usage.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace rinha::contest {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return std::nullopt;
  return text.str();
}

// A file holding one integer (cpuacct.usage, memory.failcnt, ...).
std::optional<int64_t> ReadInteger(const std::string& path) {
  std::optional<std::string> text = ReadFile(path);
  int64_t value = 0;
  if (!text.has_value() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &value)) {
    return std::nullopt;
  }
  return value;
}

// The value of `key` in a file of "key value" lines (cpu.stat, memory.oom_control).
std::optional<int64_t> ReadKeyed(const std::string& path, absl::string_view key) {
  std::optional<std::string> text = ReadFile(path);
  if (!text.has_value()) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> field =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    int64_t value = 0;
    if (field.first == key && absl::SimpleAtoi(absl::StripAsciiWhitespace(field.second), &value)) {
      return value;
    }
  }
  return std::nullopt;
}

std::string Integer(std::optional<int64_t> value) {
  return value.has_value() ? absl::StrCat(*value) : "null";
}

std::string Seconds(std::optional<int64_t> ns) {
  return ns.has_value() ? absl::StrFormat("%.3f", static_cast<double>(*ns) / 1e9) : "null";
}

}  // namespace

CgroupUsage ReadCgroupUsage(const CgroupDirs& dirs) {
  CgroupUsage usage;
  usage.cpu_ns = ReadInteger(dirs.cpuacct + "/cpuacct.usage");
  const std::string cpu_stat = dirs.cpu + "/cpu.stat";
  usage.nr_periods = ReadKeyed(cpu_stat, "nr_periods");
  usage.nr_throttled = ReadKeyed(cpu_stat, "nr_throttled");
  usage.throttled_ns = ReadKeyed(cpu_stat, "throttled_time");
  usage.memory_peak_bytes = ReadInteger(dirs.memory + "/memory.max_usage_in_bytes");
  usage.memory_failcnt = ReadInteger(dirs.memory + "/memory.failcnt");
  usage.oom_kills = ReadKeyed(dirs.memory + "/memory.oom_control", "oom_kill");
  return usage;
}

std::string ResourcesJson(const std::vector<ServiceUsage>& services) {
  std::string json = "{ \"services\": [\n";
  for (size_t i = 0; i < services.size(); ++i) {
    const ServiceUsage& s = services[i];
    const CgroupUsage& u = s.usage;
    absl::StrAppend(
        &json, i == 0 ? "" : ",\n", "  {\"name\": \"", s.name,
        "\", \"limited\": ", s.limits.has_value() ? "true" : "false",
        ", \"cpu_limit\": ", s.limits.has_value() ? FormatCpu(s.limits->cpu_millis) : "null",
        ", \"memory_limit_bytes\": ",
        s.limits.has_value() ? absl::StrCat(s.limits->memory_bytes) : "null",
        ", \"cpu_s\": ", Seconds(u.cpu_ns), ", \"nr_periods\": ", Integer(u.nr_periods),
        ", \"nr_throttled\": ", Integer(u.nr_throttled),
        ", \"throttled_s\": ", Seconds(u.throttled_ns),
        ", \"memory_peak_bytes\": ", Integer(u.memory_peak_bytes),
        ", \"memory_failcnt\": ", Integer(u.memory_failcnt),
        ", \"oom_kills\": ", Integer(u.oom_kills), "}");
  }
  absl::StrAppend(&json, "\n] }\n");
  return json;
}

std::vector<std::string> MemoryLimitHits(const std::vector<ServiceUsage>& services) {
  std::vector<std::string> hits;
  for (const ServiceUsage& s : services) {
    const int64_t failcnt = s.usage.memory_failcnt.value_or(0);
    const int64_t oom_kills = s.usage.oom_kills.value_or(0);
    if (!s.limits.has_value() || (failcnt == 0 && oom_kills == 0)) continue;
    hits.push_back(
        absl::StrFormat("%s: memory limit hit %d times, %d OOM kills", s.name, failcnt, oom_kills));
  }
  return hits;
}

}  // namespace rinha::contest
