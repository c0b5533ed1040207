// The contract between the runner and the report: the resources.json cgroup-resources writes
// (contest/runner/cgroup_usage.h) is what rinha-report reads, nulls included.
#include <string>
#include <vector>

#include "contest/report/run_data.h"
#include "contest/runner/cgroup_usage.h"
#include "gtest/gtest.h"

namespace rinha::report {
namespace {

TEST(ResourcesContractTest, ReportReadsWhatTheRunnerWrites) {
  contest::CgroupUsage used;
  used.cpu_ns = 18'512'000'000;
  used.nr_periods = 3000;
  used.nr_throttled = 3;
  used.throttled_ns = 12'000'000;
  used.memory_peak_bytes = 9 << 20;
  used.memory_failcnt = 0;
  used.oom_kills = 0;
  const std::vector<contest::ServiceUsage> services = {
      {"router", contest::ServiceLimits{"router", 400, 90 << 20}, used},
      {"load", std::nullopt, contest::CgroupUsage{}},
  };

  absl::StatusOr<Json> json = ParseJson(contest::ResourcesJson(services));
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<std::vector<ServiceResources>> read = ResourcesFromJson(*json);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);

  const ServiceResources& router = (*read)[0];
  EXPECT_EQ(router.name, "router");
  EXPECT_TRUE(router.limited);
  EXPECT_EQ(router.cpu_limit, 0.4);
  EXPECT_EQ(router.memory_limit_bytes, 90 << 20);
  EXPECT_EQ(router.cpu_s, 18.512);
  EXPECT_EQ(router.nr_periods, 3000);
  EXPECT_EQ(router.nr_throttled, 3);
  EXPECT_EQ(router.throttled_s, 0.012);
  EXPECT_EQ(router.memory_peak_bytes, 9 << 20);
  EXPECT_EQ(router.memory_failcnt, 0);
  EXPECT_EQ(router.oom_kills, 0);

  const ServiceResources& load = (*read)[1];
  EXPECT_EQ(load.name, "load");
  EXPECT_FALSE(load.limited);
  EXPECT_FALSE(load.cpu_limit.has_value());
  EXPECT_FALSE(load.cpu_s.has_value());
  EXPECT_FALSE(load.memory_peak_bytes.has_value());
}

}  // namespace
}  // namespace rinha::report
