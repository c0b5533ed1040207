// What each service's cgroup v1 groups counted over a contest run (CPU time, throttling, peak
// memory, memory-limit hits), read from the group directories, and resources.json, the runner's
// record of it that rinha-report reads (contest/report/run_data.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "contest/runner/compose_limits.h"

namespace rinha::contest {

// One service's group in each hierarchy the runner uses (cpu and cpuacct may be one mount, and
// then one directory).
struct CgroupDirs {
  std::string cpu;
  std::string cpuacct;
  std::string memory;
};

// A service's counters; a value is absent when its file is missing or unreadable (a kernel
// without that file, a group already gone).
struct CgroupUsage {
  std::optional<int64_t> cpu_ns;             // cpuacct.usage
  std::optional<int64_t> nr_periods;         // cpu.stat
  std::optional<int64_t> nr_throttled;       // cpu.stat
  std::optional<int64_t> throttled_ns;       // cpu.stat throttled_time
  std::optional<int64_t> memory_peak_bytes;  // memory.max_usage_in_bytes
  std::optional<int64_t> memory_failcnt;     // memory.failcnt
  std::optional<int64_t> oom_kills;          // memory.oom_control oom_kill
};

CgroupUsage ReadCgroupUsage(const CgroupDirs& dirs);

struct ServiceUsage {
  std::string name;
  std::optional<ServiceLimits> limits;  // compose.yaml's; absent for what runs beside the stack
  CgroupUsage usage;
};

// {"services": [...]}, one line per service in the given order: name, limited, cpu_limit,
// memory_limit_bytes, cpu_s, nr_periods, nr_throttled, throttled_s, memory_peak_bytes,
// memory_failcnt, oom_kills (null where unknown). CPU and throttled time in seconds.
std::string ResourcesJson(const std::vector<ServiceUsage>& services);

// "router: memory limit hit 3 times, 0 OOM kills" for each limited service whose group refused
// memory at least once: such a run does not count.
std::vector<std::string> MemoryLimitHits(const std::vector<ServiceUsage>& services);

}  // namespace rinha::contest
