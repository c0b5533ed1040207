#include "contest/runner/compose_limits.h"

#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

TEST(ParseMemoryBytesTest, ComposeUnitsAreBinary) {
  EXPECT_EQ(*ParseMemoryBytes("30MB"), 30 << 20);
  EXPECT_EQ(*ParseMemoryBytes("512M"), 512 << 20);
  EXPECT_EQ(*ParseMemoryBytes("512m"), 512 << 20);
  EXPECT_EQ(*ParseMemoryBytes("1.5g"), int64_t{3} << 29);
  EXPECT_EQ(*ParseMemoryBytes("2GiB"), int64_t{2} << 30);
  EXPECT_EQ(*ParseMemoryBytes("100k"), 100 << 10);
  EXPECT_EQ(*ParseMemoryBytes("1048576"), 1 << 20);
  EXPECT_EQ(*ParseMemoryBytes("4096b"), 4096);
  EXPECT_EQ(*ParseMemoryBytes("64 MB"), 64 << 20);
}

TEST(ParseMemoryBytesTest, RejectsWhatComposeRejects) {
  for (const char* bad : {"", "MB", "30XB", "30MBB", "-1m", "1.2.3m", "0", "1bb", "m30"}) {
    EXPECT_FALSE(ParseMemoryBytes(bad).ok()) << bad;
  }
}

TEST(ParseCpuMillisTest, DecimalsToMillis) {
  EXPECT_EQ(*ParseCpuMillis("0.35"), 350);
  EXPECT_EQ(*ParseCpuMillis("1"), 1000);
  EXPECT_EQ(*ParseCpuMillis("1.5"), 1500);
  EXPECT_EQ(*ParseCpuMillis("0.125"), 125);
  for (const char* bad : {"", "0", "0.0001", "abc", "1,5", ".5", "-1"}) {
    EXPECT_FALSE(ParseCpuMillis(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatCpu(350), "0.35");
  EXPECT_EQ(FormatCpu(1500), "1.5");
  EXPECT_EQ(FormatCpu(1000), "1");
}

constexpr char kComposeWithAnchor[] = R"(
services:
  lb:
    image: haproxy
    deploy:
      resources:
        limits:
          cpus: "0.5"
          memory: "50MB"
  edge1: &edge
    image: app
    command: ["edge", "--listen=0.0.0.0:8080",
              "--router=unix:/run/rinha/router.sock"]
    deploy:
      resources:
        limits:
          cpus: '0.4'
          memory: 100m
  edge2:
    <<: *edge
volumes:
  sockets:
)";

TEST(ReadComposeLimitsTest, MergedServiceInheritsLimits) {
  auto services = ReadComposeLimits(kComposeWithAnchor);
  ASSERT_TRUE(services.ok()) << services.status();
  ASSERT_EQ(services->size(), 3u);
  EXPECT_EQ((*services)[0].name, "lb");
  EXPECT_EQ((*services)[0].cpu_millis, 500);
  EXPECT_EQ((*services)[0].memory_bytes, 50 << 20);
  EXPECT_EQ((*services)[2].name, "edge2");
  EXPECT_EQ((*services)[2].cpu_millis, 400);
  EXPECT_EQ((*services)[2].memory_bytes, 100 << 20);
  const Totals totals = SumLimits(*services);
  EXPECT_EQ(totals.cpu_millis, 1300);
  EXPECT_EQ(totals.memory_bytes, 250 << 20);
  EXPECT_TRUE(CheckBudget(totals).ok());
}

TEST(ReadComposeLimitsTest, MissingOrBadLimitsAreNamed) {
  auto services = ReadComposeLimits(R"(
services:
  a:
    deploy:
      resources:
        limits:
          cpus: "0.5"
  b:
    image: x
  c:
    deploy:
      resources:
        limits:
          cpus: "half"
          memory: 10MB
)");
  ASSERT_FALSE(services.ok());
  const std::string message(services.status().message());
  EXPECT_NE(message.find("a: deploy.resources.limits.memory is missing"), std::string::npos)
      << message;
  EXPECT_NE(message.find("b: deploy.resources.limits.cpus is missing"), std::string::npos);
  EXPECT_NE(message.find("c: cpus \"half\""), std::string::npos);
  EXPECT_FALSE(ReadComposeLimits("volumes:\n  x:\n").ok());
}

// `docker compose up` without --profile (the contest) starts no service that has profiles: such
// a service needs no limits and does not count against the budget, whatever it declares.
TEST(ReadComposeLimitsTest, ServicesWithProfilesAreOutsideTheBudget) {
  auto services = ReadComposeLimits(R"(
services:
  app:
    deploy: {resources: {limits: {cpus: "1.5", memory: 350MB}}}
  prometheus:
    profiles: ["monitoring"]
    image: prom
  grafana:
    profiles:
      - "monitoring"
    deploy:
      resources:
        limits:
          cpus: "2"
          memory: 1GB
)");
  ASSERT_TRUE(services.ok()) << services.status();
  ASSERT_EQ(services->size(), 1u);
  EXPECT_EQ((*services)[0].name, "app");
  EXPECT_TRUE(CheckBudget(SumLimits(*services)).ok());

  // Without the profile the same service is one of the contest's: its missing limits are named.
  auto unprofiled = ReadComposeLimits(R"(
services:
  app:
    deploy: {resources: {limits: {cpus: "1.5", memory: 350MB}}}
  prometheus:
    image: prom
)");
  ASSERT_FALSE(unprofiled.ok());
  EXPECT_NE(unprofiled.status().message().find("prometheus: deploy.resources.limits.cpus"),
            absl::string_view::npos)
      << unprofiled.status().message();
}

TEST(CheckBudgetTest, OverBudgetPrintsTotals) {
  auto services = ReadComposeLimits(R"(
services:
  a:
    deploy: {resources: {limits: {cpus: "1", memory: 200MB}}}
  b:
    deploy: {resources: {limits: {cpus: "0.6", memory: 151MB}}}
)");
  ASSERT_TRUE(services.ok()) << services.status();
  const auto status = CheckBudget(SumLimits(*services));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("1.6 CPU / 351.00 MB"), absl::string_view::npos)
      << status.message();
  EXPECT_TRUE(CheckBudget({1500, int64_t{350} << 20}).ok());
  EXPECT_FALSE(CheckBudget({1500, (int64_t{350} << 20) + 1}).ok());
}

TEST(RepositoryComposeTest, FitsTheBudgetWithEveryServiceLimited) {
  std::ifstream file(RINHA_COMPOSE_FILE);
  ASSERT_TRUE(file) << RINHA_COMPOSE_FILE;
  std::stringstream text;
  text << file.rdbuf();
  auto services = ReadComposeLimits(text.str());
  ASSERT_TRUE(services.ok()) << services.status();
  std::map<std::string, ServiceLimits> by_name;
  for (const auto& service : *services) by_name[service.name] = service;
  for (const char* name : {"lb", "edge1", "edge2", "router", "ledger"}) {
    EXPECT_TRUE(by_name.contains(name)) << name;
  }
  EXPECT_FALSE(by_name.contains("prometheus")) << "the monitoring profile is outside the budget";
  EXPECT_EQ(by_name.size(), 5u);
  EXPECT_EQ(by_name["edge1"].cpu_millis, by_name["edge2"].cpu_millis);
  EXPECT_EQ(by_name["edge1"].memory_bytes, by_name["edge2"].memory_bytes);
  const Totals totals = SumLimits(*services);
  EXPECT_LE(totals.cpu_millis, 1500);
  EXPECT_LE(totals.memory_bytes, int64_t{350} << 20);
  EXPECT_TRUE(CheckBudget(totals).ok());
}

}  // namespace
}  // namespace rinha::contest
