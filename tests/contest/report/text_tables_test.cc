#include "contest/report/text_tables.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::report {
namespace {

const std::string kTestData = REPORT_TESTDATA_DIR;

template <typename T>
T Read(const std::string& file, absl::StatusOr<T> (*from_json)(const Json&)) {
  absl::StatusOr<T> value = ReadFileAs(kTestData + "/" + file, from_json);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *std::move(value) : T{};
}

// The fixture's expected lines are what scripts/contest.sh printed from the same files with jq
// before the tables moved here.
TEST(TextTablesTest, ScoreLinesOfTheFixture) {
  // run.json's ceiling: the fixture's 1,528 POSTs of 19.90 at the preview's 5 %, bonus 20 %.
  EXPECT_EQ(ScoreLines(Read("final-results.json", ResultsFromJson),
                       Read("run.json", RunDataFromJson).summary),
            "score            23339.64 (total_liquido 23339.64)\n"
            "share of ceiling 67.33 % of 34664.208\n"
            "gross - fees     30407.2 - 1944.23\n"
            "p99              2.31ms (bonus 0.17)\n"
            "inconsistencies  1 (fine 0.35)\n"
            "lag              0 of 1528\n"
            "POSTs ok/failed  1528 / 2\n"
            "default          1315 payments\n"
            "fallback         213 payments\n");
}

TEST(TextTablesTest, ScoreLinesSayWhatTheFileLacks) {
  Results results;
  results.score = 1938290.45;
  results.bonus = 0.17;  // read from "17%" as well
  EXPECT_EQ(ScoreLines(results, RunSummary{}),
            "score            1938290.45 (total_liquido n/a)\n"
            "share of ceiling n/a of n/a\n"
            "gross - fees     n/a - n/a\n"
            "p99              n/a (bonus 0.17)\n"
            "inconsistencies  n/a (fine n/a)\n"
            "lag              n/a of n/a\n"
            "POSTs ok/failed  n/a / n/a\n"
            "default          n/a payments\n"
            "fallback         n/a payments\n");
}

TEST(TextTablesTest, ScoreLinesRepeatABonusAndFineWrittenAsText) {
  absl::StatusOr<Json> json = ParseJson(
      R"({"score": 10, "p99": {"valor": "2.55ms", "bonus": "16%"},
          "multa": {"porcentagem": "35%", "composicao": {"num_inconsistencias": 2}}})");
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<Results> results = ResultsFromJson(*json);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(ScoreLines(*results, RunSummary{}),
              ::testing::AllOf(::testing::HasSubstr("p99              2.55ms (bonus 16%)\n"),
                               ::testing::HasSubstr("inconsistencies  2 (fine 35%)\n")));
}

TEST(TextTablesTest, ShareOfCeilingHasTwoDecimalsAndNoneWithoutASuccessfulPost) {
  RunSummary summary;
  summary.ceiling = 2028254.391;
  summary.share_of_ceiling = 0.99457;  // one place would show the 99.5 % goal as met
  EXPECT_THAT(ScoreLines(Results{}, summary),
              ::testing::HasSubstr("\nshare of ceiling 99.46 % of 2028254.391\n"));
  summary.ceiling = 0;
  summary.share_of_ceiling.reset();  // run.json's null
  EXPECT_THAT(ScoreLines(Results{}, summary),
              ::testing::HasSubstr("\nshare of ceiling n/a of 0\n"));
}

TEST(TextTablesTest, ResourcesTableOfTheFixture) {
  EXPECT_EQ(
      ResourcesLines(Read("resources.json", ResourcesFromJson)),
      "service              cpus limit_MB    cpu_s throttled      thr_s   peak_MB failcnt  oom\n"
      "lb                    0.2       30      3.6     0/600          0        12       0    0\n"
      "edge1                0.35       60      6.3     0/600          0        24       0    0\n"
      "edge2                0.35       60      6.3     0/600          0        24       0    0\n"
      "router                0.4       90      7.2     3/600      0.012        36       0    0\n"
      "ledger                0.2      100      3.6     0/600          0        40       0    0\n"
      "processor-default       -        -      4.1       0/0          0      57.6       0    0\n");
}

TEST(TextTablesTest, ResourcesTableShowsUnknownCountersAsDashes) {
  ServiceResources load;
  load.name = "load";
  load.limited = false;
  load.cpu_s = 6.625;
  load.memory_peak_bytes = 20.04 * 1024 * 1024;
  EXPECT_THAT(ResourcesLines({load}),
              ::testing::EndsWith(
                  "\nload                    -        -    6.625       -/-          -        20"
                  "       -    -\n"));
}

TEST(TextTablesTest, UndecidedLineOfTheFixture) {
  EXPECT_EQ(UndecidedLines(Read("run.json", RunDataFromJson)),
            "undecided payments (> 30 s): max 2, oldest 33.5 s\n");
}

TEST(TextTablesTest, UndecidedLineHasThePeakCountAndTheOldestAge) {
  RunData run;
  for (int t = 1; t <= 4; ++t) {
    Second second;
    second.t_s = t;
    second.router_undecided = t == 2 ? 3 : t == 3 ? 1 : 0;
    second.router_oldest_undecided_ms = t == 2 ? 31'000 : t == 3 ? 41'240 : 0;
    run.series.push_back(second);
  }
  EXPECT_EQ(UndecidedLines(run), "undecided payments (> 30 s): max 3, oldest 41.2 s\n");
  for (Second& second : run.series) second.router_undecided = 0;
  for (Second& second : run.series) second.router_oldest_undecided_ms = 0;
  EXPECT_EQ(UndecidedLines(run), "undecided payments (> 30 s): max 0, oldest 0 s\n");
}

TEST(TextTablesTest, NoUndecidedLineWithoutTheSeries) {
  RunData run;
  run.series.push_back(Second{});
  EXPECT_EQ(UndecidedLines(run), "");
}

TEST(TextTablesTest, ProbeLinesOfTheFixture) {
  absl::StatusOr<Probe> probe =
      PlaceProbeOnRun(Read("probe.json", ProbeFromJson), Read("run.json", RunDataFromJson));
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(ProbeLines(*probe, Read("run.json", RunDataFromJson)),
            "machine          4 of 64 s had a wake-up > 5 ms late (stall-probe p99 0.214 ms, "
            "max 9.5 ms)\n"
            "                 3 of the load's 3 seconds with p99 > 3 ms fell in such a second\n");
}

}  // namespace
}  // namespace rinha::report
