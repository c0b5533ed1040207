// compose-limits FILE: prints "service cpus memory_bytes" per service of a compose file and
// checks the totals against the contest's budget (exit 1 with a message when a limit is
// missing, unparsable, or the totals are over 1.5 CPU / 350 MB). Services with `profiles:` are
// not started by a plain `docker compose up` and are left out.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "contest/runner/compose_limits.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("compose-limits FILE: per-service cpus and memory limits");
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: compose-limits FILE\n");
    return 2;
  }
  std::ifstream file(args[1]);
  if (!file) {
    std::fprintf(stderr, "compose-limits: cannot read %s\n", args[1]);
    return 1;
  }
  std::stringstream text;
  text << file.rdbuf();
  auto services = rinha::contest::ReadComposeLimits(text.str());
  if (!services.ok()) {
    std::fprintf(stderr, "compose-limits: %s: %s\n", args[1],
                 std::string(services.status().message()).c_str());
    return 1;
  }
  for (const auto& service : *services) {
    std::printf("%s %s %lld\n", service.name.c_str(),
                rinha::contest::FormatCpu(service.cpu_millis).c_str(),
                static_cast<long long>(service.memory_bytes));
  }
  const auto totals = rinha::contest::SumLimits(*services);
  std::fflush(stdout);
  if (auto status = rinha::contest::CheckBudget(totals); !status.ok()) {
    std::fprintf(stderr, "compose-limits: %s: %s\n", args[1],
                 std::string(status.message()).c_str());
    return 1;
  }
  std::fprintf(stderr,
               "compose-limits: total %s CPU, %lld bytes (%.2f MB): within 1.5 CPU / 350 MB\n",
               rinha::contest::FormatCpu(totals.cpu_millis).c_str(),
               static_cast<long long>(totals.memory_bytes),
               static_cast<double>(totals.memory_bytes) / (1 << 20));
  return 0;
}
