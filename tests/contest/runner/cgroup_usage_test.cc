#include "contest/runner/cgroup_usage.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace rinha::contest {
namespace {

using ::testing::ElementsAre;

// A fake cgroup v1 tree: one directory per hierarchy, files written as the kernel shows them.
class CgroupUsageTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(root_); }

  CgroupDirs Dirs(const std::string& name) const {
    return {(root_ / "cpu" / name).string(), (root_ / "cpuacct" / name).string(),
            (root_ / "memory" / name).string()};
  }
  void Write(const std::string& dir, const std::string& file, const std::string& text) const {
    std::filesystem::create_directories(dir);
    std::ofstream(std::filesystem::path(dir) / file) << text;
  }
  // The files of a group that ran: 11.4 s CPU, 2 of 3000 periods throttled for 12 ms, 5 MiB peak.
  CgroupDirs RanGroup(const std::string& name) const {
    const CgroupDirs dirs = Dirs(name);
    Write(dirs.cpuacct, "cpuacct.usage", "11400123456\n");
    Write(dirs.cpu, "cpu.stat", "nr_periods 3000\nnr_throttled 2\nthrottled_time 12000000\n");
    Write(dirs.memory, "memory.max_usage_in_bytes", "5242880\n");
    Write(dirs.memory, "memory.failcnt", "0\n");
    Write(dirs.memory, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    return dirs;
  }

  const std::filesystem::path root_ = ::rinha::testing::MakeTempDir("cgroup_usage");
};

TEST_F(CgroupUsageTest, ReadsEveryCounterOfAGroup) {
  const CgroupUsage usage = ReadCgroupUsage(RanGroup("edge1"));
  EXPECT_EQ(usage.cpu_ns, 11400123456);
  EXPECT_EQ(usage.nr_periods, 3000);
  EXPECT_EQ(usage.nr_throttled, 2);
  EXPECT_EQ(usage.throttled_ns, 12000000);
  EXPECT_EQ(usage.memory_peak_bytes, 5242880);
  EXPECT_EQ(usage.memory_failcnt, 0);
  EXPECT_EQ(usage.oom_kills, 0);
}

TEST_F(CgroupUsageTest, CpuAndCpuacctMayBeOneDirectory) {
  CgroupDirs dirs = Dirs("router");
  dirs.cpuacct = dirs.cpu;
  Write(dirs.cpu, "cpuacct.usage", "2000000000\n");
  Write(dirs.cpu, "cpu.stat", "nr_periods 10\nnr_throttled 0\nthrottled_time 0\n");
  const CgroupUsage usage = ReadCgroupUsage(dirs);
  EXPECT_EQ(usage.cpu_ns, 2000000000);
  EXPECT_EQ(usage.nr_periods, 10);
}

TEST_F(CgroupUsageTest, MissingOrUnreadableFilesAreUnknownNotZero) {
  const CgroupDirs dirs = Dirs("ledger");
  Write(dirs.cpu, "cpu.stat", "nr_periods 7\n");  // an older kernel's shorter file
  Write(dirs.memory, "memory.failcnt", "not a number\n");
  const CgroupUsage usage = ReadCgroupUsage(dirs);
  EXPECT_EQ(usage.cpu_ns, std::nullopt);
  EXPECT_EQ(usage.nr_periods, 7);
  EXPECT_EQ(usage.nr_throttled, std::nullopt);
  EXPECT_EQ(usage.memory_failcnt, std::nullopt);
  EXPECT_EQ(usage.oom_kills, std::nullopt);
}

TEST_F(CgroupUsageTest, ResourcesJsonHasTheLimitsBesideTheCounters) {
  const std::vector<ServiceUsage> services = {
      {"edge1", ServiceLimits{"edge1", 350, 62914560}, ReadCgroupUsage(RanGroup("edge1"))},
      {"load", std::nullopt, ReadCgroupUsage(Dirs("load"))},
  };
  EXPECT_EQ(ResourcesJson(services),
            "{ \"services\": [\n"
            "  {\"name\": \"edge1\", \"limited\": true, \"cpu_limit\": 0.35, "
            "\"memory_limit_bytes\": 62914560, \"cpu_s\": 11.400, \"nr_periods\": 3000, "
            "\"nr_throttled\": 2, \"throttled_s\": 0.012, \"memory_peak_bytes\": 5242880, "
            "\"memory_failcnt\": 0, \"oom_kills\": 0},\n"
            "  {\"name\": \"load\", \"limited\": false, \"cpu_limit\": null, "
            "\"memory_limit_bytes\": null, \"cpu_s\": null, \"nr_periods\": null, "
            "\"nr_throttled\": null, \"throttled_s\": null, \"memory_peak_bytes\": null, "
            "\"memory_failcnt\": null, \"oom_kills\": null}\n"
            "] }\n");
}

TEST_F(CgroupUsageTest, OnlyLimitedServicesThatHitTheirMemoryLimitAreListed) {
  const CgroupDirs router = RanGroup("router");
  Write(router.memory, "memory.failcnt", "3\n");
  const CgroupDirs ledger = RanGroup("ledger");
  Write(ledger.memory, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  const CgroupDirs load = RanGroup("load");
  Write(load.memory, "memory.failcnt", "9\n");  // no limit of ours: not a failure
  const std::vector<ServiceUsage> services = {
      {"edge1", ServiceLimits{"edge1", 350, 62914560}, ReadCgroupUsage(RanGroup("edge1"))},
      {"router", ServiceLimits{"router", 400, 94371840}, ReadCgroupUsage(router)},
      {"ledger", ServiceLimits{"ledger", 150, 104857600}, ReadCgroupUsage(ledger)},
      {"load", std::nullopt, ReadCgroupUsage(load)},
  };
  EXPECT_THAT(MemoryLimitHits(services),
              ElementsAre("router: memory limit hit 3 times, 0 OOM kills",
                          "ledger: memory limit hit 0 times, 1 OOM kills"));
}

}  // namespace
}  // namespace rinha::contest
