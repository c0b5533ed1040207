#include "contest/report/run_data.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::report {
namespace {

using ::testing::HasSubstr;

const std::string kTestData = REPORT_TESTDATA_DIR;

absl::StatusOr<RunData> RunFromText(absl::string_view text) {
  absl::StatusOr<Json> json = ParseJson(text);
  if (!json.ok()) return json.status();
  return RunDataFromJson(*json);
}

TEST(RunDataTest, ReadsTheFixtureRun) {
  absl::StatusOr<Json> json = ReadJsonFile(kTestData + "/run.json");
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<RunData> run = RunDataFromJson(*json);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->test, "preview");
  EXPECT_EQ(run->timeline, "preview");
  EXPECT_EQ(run->duration_s, 60);
  EXPECT_EQ(run->max_vus, 50);
  EXPECT_EQ(run->started_at_ms, 1795636800000);
  ASSERT_EQ(run->stages.size(), 6u);
  EXPECT_EQ(run->stages[3].from_s, 30);
  EXPECT_EQ(run->stages[3].default_delay_ms, 2000);
  EXPECT_TRUE(run->stages[3].default_failing);
  EXPECT_TRUE(run->stages[3].fallback_failing);
  ASSERT_EQ(run->series.size(), 60u);
  EXPECT_EQ(run->series[0].t_s, 1);
  EXPECT_TRUE(run->series[0].p99_ms.has_value());
  EXPECT_TRUE(run->series[0].router_queued.has_value());
  EXPECT_TRUE(run->series[59].settled_default.has_value());
  EXPECT_EQ(run->series[0].router_undecided, 0);
  EXPECT_EQ(run->series[45].router_undecided, 2);
  EXPECT_EQ(run->series[45].router_oldest_undecided_ms, 31500);
  ASSERT_EQ(run->audits.size(), 6u);
  EXPECT_EQ(run->audits[3].t_s, 40);
  EXPECT_EQ(run->audits[3].inconsistencies, 1);
  EXPECT_FALSE(run->audits[3].ok);
  EXPECT_EQ(run->summary.p99_ms, 2.31);
  EXPECT_EQ(run->summary.ceiling, 34664.208);
  EXPECT_EQ(run->summary.share_of_ceiling, 0.673306599129569);
  EXPECT_EQ(run->loadgen_max_rss_kb, 24576);
}

TEST(RunDataTest, ReadsTheFixtureResultsAndResources) {
  absl::StatusOr<Json> json = ReadJsonFile(kTestData + "/final-results.json");
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<Results> results = ResultsFromJson(*json);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(results->p99, "2.31ms");
  EXPECT_EQ(results->bonus, 0.17);
  EXPECT_EQ(results->fine_fraction, 0.35);
  EXPECT_EQ(results->inconsistencies, 1);
  EXPECT_EQ(results->requests_failed, 2);
  EXPECT_EQ(results->default_processor.payments, 1315);
  EXPECT_EQ(results->fallback_processor.payments, 213);
  EXPECT_TRUE(results->score.has_value());

  json = ReadJsonFile(kTestData + "/resources.json");
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<std::vector<ServiceResources>> services = ResourcesFromJson(*json);
  ASSERT_TRUE(services.ok()) << services.status();
  ASSERT_EQ(services->size(), 6u);
  EXPECT_FALSE((*services)[5].limited);
  EXPECT_EQ((*services)[3].name, "router");
  EXPECT_EQ((*services)[3].cpu_limit, 0.4);
  EXPECT_EQ((*services)[3].nr_throttled, 3);
  EXPECT_TRUE((*services)[3].limited);  // absent means limited

  json = ParseJson(R"({"services": [{"name": "load", "limited": false, "cpu_limit": null}]})");
  ASSERT_TRUE(json.ok());
  services = ResourcesFromJson(*json);
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_FALSE((*services)[0].limited);
  EXPECT_FALSE((*services)[0].cpu_limit.has_value());
}

TEST(RunDataTest, PreviewResultsNameInconsistenciesDifferently) {
  absl::StatusOr<Json> json =
      ParseJson(R"({"multa": {"porcentagem": 0, "composicao": {"total_inconsistencias": 3}}})");
  ASSERT_TRUE(json.ok());
  absl::StatusOr<Results> results = ResultsFromJson(*json);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(results->inconsistencies, 3);
  EXPECT_FALSE(results->net.has_value());
}

TEST(RunDataTest, BonusAndFineReadAsNumbersOrPercentText) {
  for (const char* text : {R"({"p99": {"bonus": 0.17}, "multa": {"porcentagem": 0.35}})",
                           R"({"p99": {"bonus": "17%"}, "multa": {"porcentagem": "35%"}})"}) {
    absl::StatusOr<Json> json = ParseJson(text);
    ASSERT_TRUE(json.ok());
    absl::StatusOr<Results> results = ResultsFromJson(*json);
    ASSERT_TRUE(results.ok()) << results.status();
    EXPECT_DOUBLE_EQ(results->bonus.value_or(-1), 0.17) << text;
    EXPECT_DOUBLE_EQ(results->fine_fraction.value_or(-1), 0.35) << text;
  }
  for (const char* text : {R"({"p99": {"bonus": "17"}})", R"({"p99": {"bonus": "x%"}})",
                           R"({"p99": {"bonus": true}})"}) {
    absl::StatusOr<Json> json = ParseJson(text);
    ASSERT_TRUE(json.ok());
    EXPECT_THAT(ResultsFromJson(*json).status().message(), HasSubstr("p99.bonus: expected"))
        << text;
  }
}

TEST(RunDataTest, MissingRouterSeriesAndNullLatenciesAreAbsent) {
  absl::StatusOr<RunData> run =
      RunFromText(R"({"series": [{"t_s": 1, "vus": 1, "ok": 0, "p50_ms": null, "p99_ms": null}]})");
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->series.size(), 1u);
  EXPECT_FALSE(run->series[0].p50_ms.has_value());
  EXPECT_FALSE(run->series[0].router_queued.has_value());
  EXPECT_FALSE(run->series[0].settled_default.has_value());
  EXPECT_TRUE(run->stages.empty());
  EXPECT_TRUE(run->audits.empty());
}

TEST(RunDataTest, ErrorsNameTheField) {
  EXPECT_THAT(RunFromText(R"({"stages": []})").status().message(), HasSubstr("series: missing"));
  EXPECT_THAT(RunFromText(R"({"series": {}})").status().message(),
              HasSubstr("series: expected an array"));
  EXPECT_THAT(
      RunFromText(R"({"series": [{"t_s": 1}, {"t_s": 2, "p99_ms": "3"}]})").status().message(),
      HasSubstr("series[1].p99_ms: expected a number"));
  EXPECT_THAT(RunFromText(R"({"series": [{"vus": 3}]})").status().message(),
              HasSubstr("series[0].t_s: missing"));
  EXPECT_THAT(RunFromText(R"({"series": [], "stages": [{"from_s": 0}]})").status().message(),
              HasSubstr("stages[0].to_s: missing"));
  EXPECT_THAT(
      RunFromText(R"({"series": [], "stages": [{"from_s": 0, "to_s": 1, "default_failing": 1}]})")
          .status()
          .message(),
      HasSubstr("stages[0].default_failing: expected true or false"));
  EXPECT_THAT(RunFromText(R"({"series": [], "max_vus": 1.5})").status().message(),
              HasSubstr("max_vus: expected an integer"));
  EXPECT_THAT(RunFromText(R"({"series": [], "summary": []})").status().message(),
              HasSubstr("summary: expected an object"));
  EXPECT_THAT(RunFromText(R"({"series": [], "summary": {"p99_ms": true}})").status().message(),
              HasSubstr("summary.p99_ms: expected a number"));
  EXPECT_THAT(RunFromText(R"([])").status().message(), HasSubstr("top level: expected an object"));
  EXPECT_THAT(RunFromText(R"({"series": [3]})").status().message(),
              HasSubstr("series[0]: expected an object"));

  absl::StatusOr<Json> json =
      ParseJson(R"({"pagamentos_realizados_default": {"total_bruto": "1"}})");
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(ResultsFromJson(*json).status().message(),
              HasSubstr("pagamentos_realizados_default.total_bruto: expected a number"));
  json = ParseJson(R"({"services": [{"cpu_limit": 0.5}]})");
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(ResourcesFromJson(*json).status().message(), HasSubstr("services[0].name: missing"));
}

absl::StatusOr<Probe> ProbeFromText(absl::string_view text) {
  absl::StatusOr<Json> json = ParseJson(text);
  if (!json.ok()) return json.status();
  return ProbeFromJson(*json);
}

TEST(RunDataTest, ReadsTheFixtureProbeAndPlacesItOnTheRun) {
  absl::StatusOr<Json> json = ReadJsonFile(kTestData + "/probe.json");
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<Probe> probe = ProbeFromJson(*json);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->period_us, 1000);
  EXPECT_EQ(probe->summary.p99_ms, 0.214);
  EXPECT_EQ(probe->summary.p999_ms, 1.87);
  EXPECT_EQ(probe->summary.max_ms, 9.5);
  EXPECT_EQ(probe->summary.seconds, 64);
  EXPECT_EQ(probe->summary.seconds_with_stall_over_5ms, 4);
  ASSERT_EQ(probe->seconds.size(), 64u);
  EXPECT_EQ(probe->seconds[0].t_ms, 1795636798000);
  EXPECT_EQ(probe->seconds[0].late_over_5ms, 1);

  json = ReadJsonFile(kTestData + "/run.json");
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<RunData> run = RunDataFromJson(*json);
  ASSERT_TRUE(run.ok()) << run.status();
  absl::StatusOr<Probe> placed = PlaceProbeOnRun(*probe, *run);
  ASSERT_TRUE(placed.ok()) << placed.status();
  // The probe ran from 2 s before the load to 2 s after its 60 s: those four seconds are dropped,
  // with the stall before the start.
  ASSERT_EQ(placed->seconds.size(), 60u);
  EXPECT_EQ(placed->seconds.front().t_s, 1);
  EXPECT_EQ(placed->seconds.front().t_ms, *run->started_at_ms);
  EXPECT_EQ(placed->seconds.back().t_s, 60);
  // The fixture's slow load seconds (p99 over 7 ms at t = 21, 31, 41) are its stalled seconds.
  std::vector<double> stalled;
  for (const ProbeSecond& second : placed->seconds) {
    if (second.late_over_5ms > 0) stalled.push_back(second.t_s);
  }
  EXPECT_THAT(stalled, ::testing::ElementsAre(21, 31, 41));
  EXPECT_GT(run->series[20].p99_ms.value_or(0), 7);
  EXPECT_EQ(placed->summary.seconds, 64);  // the summary stays the probe's own
}

TEST(RunDataTest, ProbeSecondsOffTheRunsSecondGridGetFractionalTimes) {
  RunData run;
  run.started_at_ms = 1'000'400;
  run.duration_s = 2;
  absl::StatusOr<Probe> probe = ProbeFromText(
      R"({"seconds": [{"t_ms": 999000}, {"t_ms": 1000000}, {"t_ms": 1001000},
                      {"t_ms": 1002000, "max_late_ms": null}]})");
  ASSERT_TRUE(probe.ok()) << probe.status();
  probe = PlaceProbeOnRun(*probe, run);
  ASSERT_TRUE(probe.ok()) << probe.status();
  // [999.0, 1000.0) s ends before the start; [1002.0, 1003.0) s ends after the run's 2 s.
  ASSERT_EQ(probe->seconds.size(), 2u);
  EXPECT_DOUBLE_EQ(probe->seconds[0].t_s, 0.6);
  EXPECT_DOUBLE_EQ(probe->seconds[1].t_s, 1.6);
}

TEST(RunDataTest, ASlowLoadSecondCountsInAStallWhenTheSecondsOverlap) {
  RunData run;
  run.started_at_ms = 1'000'400;  // load second t covers [999.4 + t, 1000.4 + t) s
  run.duration_s = 5;
  for (int t = 1; t <= 5; ++t) {
    Second second;
    second.t_s = t;
    second.p99_ms = t == 2 ? kSlowLoadSecondMs : 8.0;  // exactly the threshold is not slow
    run.series.push_back(second);
  }
  run.series[4].p99_ms.reset();  // a second without a successful request
  absl::StatusOr<Probe> probe = ProbeFromText(
      R"({"seconds": [{"t_ms": 1001000, "late_over_5ms": 1}, {"t_ms": 1002000},
                      {"t_ms": 1003000, "late_over_5ms": 0}, {"t_ms": 1004000}]})");
  ASSERT_TRUE(probe.ok()) << probe.status();
  probe = PlaceProbeOnRun(*probe, run);
  ASSERT_TRUE(probe.ok()) << probe.status();
  // Slow: t = 1, 3, 4. The stall [1001, 1002) s overlaps load seconds 1 [1000.4, 1001.4) and
  // 2 [1001.4, 1002.4), so only t = 1 is a slow second in a stall.
  const SlowSeconds slow = CountSlowSecondsInStalls(*probe, run);
  EXPECT_EQ(slow.slow, 3);
  EXPECT_EQ(slow.in_stall, 1);
}

TEST(RunDataTest, ProbeErrorsNameTheField) {
  EXPECT_THAT(ProbeFromText(R"({"summary": {}})").status().message(),
              HasSubstr("seconds: missing"));
  EXPECT_THAT(ProbeFromText(R"({"seconds": [{"t_ms": 1000}, {"samples": 3}]})").status().message(),
              HasSubstr("seconds[1].t_ms: missing"));
  EXPECT_THAT(ProbeFromText(R"({"seconds": [{"t_ms": 1000.5}]})").status().message(),
              HasSubstr("seconds[0].t_ms: expected an integer"));
  EXPECT_THAT(
      ProbeFromText(R"({"seconds": [{"t_ms": 1000, "max_late_ms": "2"}]})").status().message(),
      HasSubstr("seconds[0].max_late_ms: expected a number"));
  EXPECT_THAT(ProbeFromText(R"({"seconds": [], "summary": {"p99_ms": []}})").status().message(),
              HasSubstr("summary.p99_ms: expected a number"));

  absl::StatusOr<Probe> probe = ProbeFromText(R"({"seconds": []})");
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_THAT(PlaceProbeOnRun(*probe, RunData{}).status().message(),
              HasSubstr("run.json has no started_at_ms"));
}

TEST(RunDataTest, ReadJsonFileNamesThePath) {
  EXPECT_THAT(ReadJsonFile("/nonexistent/run.json").status().message(),
              HasSubstr("/nonexistent/run.json"));
}

}  // namespace
}  // namespace rinha::report
