// cgroup-resources: writes resources.json from the runner's cgroup v1 groups (one per service,
// named after it, under a parent group in each hierarchy) with compose.yaml's limits beside the
// counters. Exit 1 when a file cannot be read or written, 3 when a limited service hit its
// memory limit (listed on stderr; resources.json is written all the same).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "contest/runner/cgroup_usage.h"
#include "contest/runner/compose_limits.h"

ABSL_FLAG(std::string, compose, "compose.yaml", "the compose file whose limits the groups have");
ABSL_FLAG(std::string, cpu, "", "the parent group in the cpu hierarchy");
ABSL_FLAG(std::string, cpuacct, "", "the parent group in the cpuacct hierarchy");
ABSL_FLAG(std::string, memory, "", "the parent group in the memory hierarchy");
ABSL_FLAG(std::vector<std::string>, services, {}, "the services' groups, in the file's order");
ABSL_FLAG(std::string, out, "", "resources.json to write");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "cgroup-resources --cpu=DIR --cpuacct=DIR --memory=DIR --services=lb,edge1,... "
      "[--compose=compose.yaml] --out=resources.json");
  absl::ParseCommandLine(argc, argv);
  const std::string compose = absl::GetFlag(FLAGS_compose);
  const std::string out_path = absl::GetFlag(FLAGS_out);
  const rinha::contest::CgroupDirs parents{absl::GetFlag(FLAGS_cpu), absl::GetFlag(FLAGS_cpuacct),
                                           absl::GetFlag(FLAGS_memory)};
  if (parents.cpu.empty() || parents.cpuacct.empty() || parents.memory.empty() ||
      out_path.empty()) {
    std::fprintf(stderr, "cgroup-resources: --cpu, --cpuacct, --memory and --out are required\n");
    return 2;
  }
  std::ifstream file(compose);
  if (!file) {
    std::fprintf(stderr, "cgroup-resources: cannot read %s\n", compose.c_str());
    return 1;
  }
  std::stringstream yaml;
  yaml << file.rdbuf();
  auto limits = rinha::contest::ReadComposeLimits(yaml.str());
  if (!limits.ok()) {
    std::fprintf(stderr, "cgroup-resources: %s: %s\n", compose.c_str(),
                 std::string(limits.status().message()).c_str());
    return 1;
  }

  std::vector<rinha::contest::ServiceUsage> services;
  for (const std::string& name : absl::GetFlag(FLAGS_services)) {
    rinha::contest::ServiceUsage service{name, std::nullopt, {}};
    for (const auto& limit : *limits) {
      if (limit.name == name) service.limits = limit;
    }
    service.usage = rinha::contest::ReadCgroupUsage(
        {parents.cpu + "/" + name, parents.cpuacct + "/" + name, parents.memory + "/" + name});
    services.push_back(std::move(service));
  }
  std::ofstream out(out_path, std::ios::trunc);
  out << rinha::contest::ResourcesJson(services);
  out.close();
  if (!out) {
    std::fprintf(stderr, "cgroup-resources: cannot write %s\n", out_path.c_str());
    return 1;
  }
  const std::vector<std::string> hits = rinha::contest::MemoryLimitHits(services);
  for (const std::string& hit : hits) std::fprintf(stderr, "%s\n", hit.c_str());
  return hits.empty() ? 0 : 3;
}
