// Per-service CPU and memory limits (deploy.resources.limits) read from a compose file, and the
// contest's budget check. The native runner takes its cgroup limits from here, so compose.yaml
// stays the one source of truth.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rinha::contest {

struct ServiceLimits {
  std::string name;
  int64_t cpu_millis = 0;  // cpus "0.35" -> 350
  int64_t memory_bytes = 0;
};

// The contest's limit over all services: 1.5 CPU and 350 MB (compose's MB, i.e. MiB).
struct Budget {
  int64_t cpu_millis = 1500;
  int64_t memory_bytes = int64_t{350} << 20;
};

// cpus as compose writes it ("0.4", "1", "1.25"): positive, at most 3 decimals.
absl::StatusOr<int64_t> ParseCpuMillis(absl::string_view text);

// A memory size as compose reads it: a number (decimals allowed) with an optional unit
// b, k, m, g, t (optionally followed by "b" or "ib", any case). Units are binary: "30MB" is
// 30 MiB, "1.5g" 1.5 GiB; no unit means bytes.
absl::StatusOr<int64_t> ParseMemoryBytes(absl::string_view text);

// Every service of the compose document with both limits, in file order. An error lists every
// service whose cpus or memory limit is missing or unparsable. Services with `profiles:` (e.g.
// the optional Prometheus) are left out: `docker compose up` without `--profile`, as the contest
// runs it, does not start them, so they are outside the budget and need no limits.
absl::StatusOr<std::vector<ServiceLimits>> ReadComposeLimits(absl::string_view yaml);

struct Totals {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
};
Totals SumLimits(const std::vector<ServiceLimits>& services);

// OK when the totals fit the budget; otherwise an error that prints both.
absl::Status CheckBudget(const Totals& totals, const Budget& budget = {});

// 350 -> "0.35", 1500 -> "1.5", 1000 -> "1".
std::string FormatCpu(int64_t cpu_millis);

}  // namespace rinha::contest
