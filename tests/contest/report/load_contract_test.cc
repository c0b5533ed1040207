// The contract between the load generator and the report: what rinha_load writes (RunJson,
// FinalResultsJson) is what rinha_report reads, so a renamed or retyped field fails here rather
// than in a report drawn after a 5-minute run.
#include <string>

#include "contest/load/run_record.h"
#include "contest/load/score.h"
#include "contest/report/report.h"
#include "contest/report/run_data.h"
#include "contest/report/text_tables.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

contest::RunRecord SmallRun(bool with_router_stats) {
  contest::RunRecord run;
  run.test = "preview";
  run.timeline = "preview";
  run.duration_s = 3;
  run.max_vus = 3;
  run.amount_cents = 2005;
  run.started_at_ms = 1795636800000;
  run.stages = {{0, 1000, 0, false, 0, false}, {1000, 3000, 2000, true, 1000, false}};
  for (int t = 1; t <= 3; ++t) {
    run.series.push_back({t, t, t, t - (t == 3 ? 1 : 0), t == 3 ? 1 : 0, 0.5, 1.25, 2.5});
  }
  run.has_router_stats = with_router_stats;
  if (with_router_stats) {
    for (int t = 0; t <= 3; ++t) {
      run.router.push_back({t, 3 - t, 1, 2 * t, t, 0, t == 2 ? 4 : 0, t == 2 ? 45'600 : 0});
    }
  }
  run.audits.push_back({2, 1795636785000, 1795636800000, 4, 1, 4, 0, 1, true});
  run.p50_ms = 0.5;
  run.p99_ms = 2.55;
  run.requests = 6;
  run.ok = 5;
  run.failed = 1;
  run.inconsistencies = 1;
  run.default_totals = {4, 8020, 7, 2};
  run.fallback_totals = {1, 2005, 10, 2};
  run.score = contest::ComputeScore({run.default_totals, run.fallback_totals, run.p99_ms,
                                     run.inconsistencies, run.ok, run.failed, run.amount_cents});
  run.loadgen_cpu_s = 0.25;
  run.loadgen_max_rss_kb = 2048;
  return run;
}

TEST(LoadContractTest, ReportReadsWhatTheLoadGeneratorWrites) {
  const contest::RunRecord record = SmallRun(/*with_router_stats=*/true);

  absl::StatusOr<Json> run_json = ParseJson(contest::RunJson(record));
  ASSERT_TRUE(run_json.ok()) << run_json.status();
  absl::StatusOr<RunData> run = RunDataFromJson(*run_json);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->test, "preview");
  EXPECT_EQ(run->duration_s, 3);
  ASSERT_EQ(run->stages.size(), 2u);
  EXPECT_EQ(run->stages[1].from_s, 1);
  EXPECT_EQ(run->stages[1].to_s, 3);
  EXPECT_EQ(run->stages[1].default_delay_ms, 2000);
  EXPECT_TRUE(run->stages[1].default_failing);
  ASSERT_EQ(run->series.size(), 3u);
  EXPECT_EQ(run->series[2].failed, 1);
  EXPECT_EQ(run->series[2].p99_ms, 1.25);
  EXPECT_TRUE(run->series[2].settled_default.has_value());
  EXPECT_TRUE(run->series[2].router_queued.has_value());
  EXPECT_EQ(run->series[1].router_undecided, 4);
  EXPECT_EQ(run->series[1].router_oldest_undecided_ms, 45'600);
  EXPECT_EQ(run->series[2].router_undecided, 0);
  ASSERT_EQ(run->audits.size(), 1u);
  EXPECT_EQ(run->audits[0].inconsistencies, 1);
  EXPECT_EQ(run->summary.p99_ms, 2.55);
  // 5 ok x 20.05 x (1 - 0.07) x 1.20; the score 75.95742 is 67.89 % of it.
  EXPECT_EQ(run->summary.ceiling, 111.879);
  EXPECT_DOUBLE_EQ(run->summary.share_of_ceiling.value_or(-1), 75.95742 / 111.879);
  EXPECT_EQ(run->loadgen_max_rss_kb, 2048);

  absl::StatusOr<Json> results_json = ParseJson(contest::FinalResultsJson(record, 0));
  ASSERT_TRUE(results_json.ok()) << results_json.status();
  absl::StatusOr<Results> results = ResultsFromJson(*results_json);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(results->p99, "2.55ms");
  EXPECT_DOUBLE_EQ(results->bonus.value_or(-1), 0.17);
  EXPECT_DOUBLE_EQ(results->fine_fraction.value_or(-1), 0.35);
  EXPECT_EQ(results->inconsistencies, 1);
  EXPECT_EQ(results->default_processor.payments, 4);
  EXPECT_EQ(results->fallback_processor.payments, 1);
  EXPECT_EQ(results->requests_failed, 1);
  EXPECT_TRUE(results->score.has_value());

  ReportInput input{*run, *results, std::nullopt};
  const std::string html = RenderReport(input);
  EXPECT_THAT(html, HasSubstr("id=\"router\""));
  EXPECT_THAT(html, HasSubstr("default failing (2000 ms), fallback 1000 ms"));
  EXPECT_THAT(html, HasSubstr("<td>max 4, oldest 45.6 s</td>"));
  // And the runner's closing tables.
  EXPECT_EQ(UndecidedLines(*run), "undecided payments (> 30 s): max 4, oldest 45.6 s\n");
  EXPECT_THAT(html, HasSubstr("<td>67.89 % of 111.88</td>"));
}

// The runner prints these lines at the end of a run; they repeat final-results.json and
// run.json's ceiling as written.
TEST(LoadContractTest, ScoreLinesRepeatWhatTheLoadGeneratorWrites) {
  absl::StatusOr<Json> json = ParseJson(contest::FinalResultsJson(SmallRun(false), 0));
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<Results> results = ResultsFromJson(*json);
  ASSERT_TRUE(results.ok()) << results.status();
  absl::StatusOr<Json> run_json = ParseJson(contest::RunJson(SmallRun(false)));
  ASSERT_TRUE(run_json.ok()) << run_json.status();
  absl::StatusOr<RunData> run = RunDataFromJson(*run_json);
  ASSERT_TRUE(run.ok()) << run.status();
  const std::string lines = ScoreLines(*results, run->summary);
  EXPECT_THAT(lines, HasSubstr("\nshare of ceiling 67.89 % of 111.879\n"));
  EXPECT_THAT(lines, HasSubstr("\np99              2.55ms (bonus 17%)\n"));
  EXPECT_THAT(lines, HasSubstr("\ninconsistencies  1 (fine 0.35)\n"));
  EXPECT_THAT(lines, HasSubstr("\nlag              0 of 5\n"));
  EXPECT_THAT(lines, HasSubstr("\nPOSTs ok/failed  5 / 1\n"));
  EXPECT_THAT(lines, HasSubstr("\ndefault          4 payments\nfallback         1 payments\n"));
}

TEST(LoadContractTest, WithoutRouterStatsTheRouterChartsAreOmitted) {
  absl::StatusOr<Json> run_json = ParseJson(contest::RunJson(SmallRun(false)));
  ASSERT_TRUE(run_json.ok()) << run_json.status();
  absl::StatusOr<RunData> run = RunDataFromJson(*run_json);
  ASSERT_TRUE(run.ok()) << run.status();
  ReportInput input;
  input.run = *run;
  const std::string html = RenderReport(input);
  EXPECT_THAT(html, Not(HasSubstr("id=\"router\"")));
  EXPECT_THAT(html, HasSubstr("no router_queued/router_in_flight series"));
}

}  // namespace
}  // namespace rinha::report
