#include "contest/report/report.h"

#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rinha::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int Count(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

// A 60-second run shaped like the preview: six stages, the first one healthy.
ReportInput PreviewLikeInput(bool with_router_series = true) {
  ReportInput input;
  RunData& run = input.run;
  run.test = "preview";
  run.timeline = "preview";
  run.duration_s = 60;
  run.max_vus = 50;
  run.stages = {{0, 10, 0, false, 0, false},    {10, 20, 100, false, 0, false},
                {20, 30, 100, true, 0, false},  {30, 40, 2000, true, 1000, true},
                {40, 50, 20, false, 20, false}, {50, 60, 0, false, 5000, false}};
  for (int t = 1; t <= 60; ++t) {
    Second s;
    s.t_s = t;
    s.vus = t;
    s.requests = t;
    s.ok = t;
    s.p50_ms = 0.6;
    s.p99_ms = 1.0 + t % 3;
    if (with_router_series) {
      s.settled_default = t < 20 ? t : 0;
      s.settled_fallback = t < 20 ? 0 : t;
      s.router_queued = t > 30 && t < 40 ? 10 * (t - 30) : 0;
      s.router_in_flight = 2;
      s.router_undecided = t > 40 && t < 45 ? 3 : 0;
      s.router_oldest_undecided_ms = t > 40 && t < 45 ? 30'000 + 1000 * (t - 40) : 0;
    }
    run.series.push_back(s);
  }
  run.audits = {{10, "a", "b", 5, 0, 5, 0, 0, true}, {20, "a", "b", 5, 1, 5, 0, 1, false}};
  run.summary.p99_ms = 2.31;
  input.results.score = 1949876.0;
  input.results.p99 = "2.31ms";
  return input;
}

TEST(DescribeStageTest, LabelsSayWhichProcessorIsSlowOrFailing) {
  EXPECT_TRUE(DescribeStage({0, 30, 0, false, 0, false}).normal);
  const StageStyle slow = DescribeStage({30, 60, 1000, false, 0, false});
  EXPECT_FALSE(slow.normal);
  EXPECT_EQ(slow.label, "default 1000 ms");
  EXPECT_EQ(slow.short_label, "D 1000");
  EXPECT_EQ(slow.category, "default slow");
  const StageStyle both = DescribeStage({90, 120, 2000, true, 1000, false});
  EXPECT_EQ(both.label, "default failing (2000 ms), fallback 1000 ms");
  EXPECT_EQ(both.short_label, "D fail · F 1000");
  EXPECT_EQ(both.category, "default failing");
  const StageStyle fallback = DescribeStage({150, 180, 0, false, 5, true});
  EXPECT_EQ(fallback.label, "fallback failing (5 ms)");
  EXPECT_EQ(fallback.category, "fallback failing");
  EXPECT_NE(fallback.color, both.color);
  EXPECT_EQ(DescribeStage({0, 1, 0, true, 0, true}).category, "both failing");
}

TEST(RenderReportTest, ShadesEveryUnhealthyStageOnEveryChart) {
  const std::string html = RenderReport(PreviewLikeInput());
  EXPECT_EQ(Count(html, "<svg class=\"chart\""), 5);
  // Five of the six stages are unhealthy, on each of the five charts.
  EXPECT_EQ(Count(html, "<rect class=\"stage\""), 5 * 5);
  EXPECT_THAT(html, HasSubstr("default failing (2000 ms), fallback failing (1000 ms)"));
  EXPECT_THAT(html, HasSubstr(">D 100</text>"));
}

TEST(RenderReportTest, StagesOutsideTheRunAreClippedOrSkipped) {
  ReportInput input = PreviewLikeInput();
  input.run.stages = {{-10, -5, 100, false, 0, false},  // before the start: nothing to shade
                      {50, 500, 0, true, 0, false}};    // runs past the end: clipped
  const std::string html = RenderReport(input);
  EXPECT_EQ(Count(html, "<rect class=\"stage\""), 5);
  // Clipped at the right edge of the plot (x = 944).
  std::smatch match;
  const std::regex stage_rect(
      R"re(<rect class="stage" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)")re");
  ASSERT_TRUE(std::regex_search(html, match, stage_rect));
  EXPECT_NEAR(std::stod(match[1]) + std::stod(match[2]), 944, 0.11);
}

TEST(RenderReportTest, EscapesTextFromTheFiles) {
  ReportInput input = PreviewLikeInput();
  input.run.test = "<script>alert('x')</script>";
  input.results.p99 = "1ms & <b>";
  input.resources = std::vector<ServiceResources>{{.name = "edge\"1<"}};
  const std::string html = RenderReport(input);
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("1ms &amp; &lt;b&gt;"));
  EXPECT_THAT(html, HasSubstr("edge&quot;1&lt;"));
  EXPECT_EQ(Count(html, "<script>"), 1);  // only the page's own check
}

TEST(RenderReportTest, AbsentRouterSeriesLeaveANoteInsteadOfACharts) {
  const std::string html = RenderReport(PreviewLikeInput(/*with_router_series=*/false));
  EXPECT_EQ(Count(html, "<svg class=\"chart\""), 3);
  EXPECT_THAT(html, Not(HasSubstr("id=\"router\"")));
  EXPECT_THAT(html, Not(HasSubstr("id=\"settled\"")));
  EXPECT_THAT(html, HasSubstr("no router_queued/router_in_flight series"));
  EXPECT_THAT(html, HasSubstr("no settled_default/settled_fallback series"));
  EXPECT_THAT(html, HasSubstr("id=\"latency\""));
}

TEST(RenderReportTest, RouterChartAndRunTableShowUndecidedPayments) {
  const std::string html = RenderReport(PreviewLikeInput());
  // A line in the router chart, its peak in the chart's note and in the run table.
  const size_t router = html.find("id=\"router\"");
  ASSERT_NE(router, std::string::npos);
  EXPECT_NE(html.find("<title>undecided (&gt; 30 s)</title>", router), std::string::npos);
  EXPECT_THAT(html, HasSubstr("Undecided: pending in the router longer than 30 s; at most 3 at "
                              "once, the oldest 34.0 s old."));
  EXPECT_THAT(html, HasSubstr("<tr class=\"bad\"><th>undecided payments (&gt; 30 s)</th>"
                              "<td>max 3, oldest 34.0 s</td></tr>"));

  ReportInput calm = PreviewLikeInput();
  for (Second& second : calm.run.series) {
    second.router_undecided = 0;
    second.router_oldest_undecided_ms = 0;
  }
  EXPECT_THAT(RenderReport(calm),
              HasSubstr("<tr><th>undecided payments (&gt; 30 s)</th><td>max 0, oldest 0.0 s</td>"));
  // Without the series (no --router_stats, or an older run.json): no row.
  EXPECT_THAT(RenderReport(PreviewLikeInput(/*with_router_series=*/false)),
              Not(HasSubstr("undecided payments")));
}

TEST(RenderReportTest, LatencyChartHasTheOverallP99Line) {
  const std::string html = RenderReport(PreviewLikeInput());
  EXPECT_THAT(html, HasSubstr("overall p99 2.31 ms"));
  EXPECT_EQ(Count(html, "<line class=\"reference\""), 1);
  EXPECT_THAT(html, HasSubstr("ms (log scale)"));
}

TEST(RenderReportTest, AuditMarkersAreColouredByConsistency) {
  const std::string html = RenderReport(PreviewLikeInput());
  EXPECT_EQ(Count(html, "<circle class=\"plot marker\""), 2);
  EXPECT_THAT(html, HasSubstr("2 audits, 1 inconsistencies in all"));
  EXPECT_THAT(html, HasSubstr("1 inconsistencies</title>"));
}

TEST(RenderReportTest, EveryPlottedCoordinateIsInsideTheChart) {
  ReportInput input = PreviewLikeInput();
  input.run.series[5].p99_ms = 0;  // not plottable on a log scale: a gap, not -inf
  input.run.series[6].p50_ms.reset();
  const std::string html = RenderReport(input);
  EXPECT_THAT(html, Not(HasSubstr("nan")));
  EXPECT_THAT(html, Not(HasSubstr("inf")));
  const std::regex path(R"(class="plot line" d="([^"]*)\")");
  int paths = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), path); it != std::sregex_iterator();
       ++it) {
    ++paths;
    const std::string d = (*it)[1];
    const std::regex pair(R"([ML]([-0-9.]+) ([-0-9.]+))");
    for (auto p = std::sregex_iterator(d.begin(), d.end(), pair); p != std::sregex_iterator();
         ++p) {
      const double x = std::stod((*p)[1]);
      const double y = std::stod((*p)[2]);
      EXPECT_GE(x, 64);
      EXPECT_LE(x, 944);
      EXPECT_GE(y, 22);
      EXPECT_LE(y, 210);
    }
  }
  EXPECT_EQ(paths, 3 + 2 + 2 + 3);  // throughput, latency, settled, router (with undecided)
}

TEST(RenderReportTest, ScoreAndResourceTables) {
  ReportInput input = PreviewLikeInput();
  input.results.inconsistencies = 2;
  input.results.fine_fraction = 0.35;
  std::string html = RenderReport(input);
  EXPECT_THAT(html, HasSubstr("1,949,876.00"));
  EXPECT_THAT(html, HasSubstr("<tr class=\"bad\"><th>inconsistencies</th><td>2</td>"));
  EXPECT_THAT(html, HasSubstr("<th>share of the run&#39;s ceiling</th><td>— of —</td>"));
  EXPECT_THAT(html, Not(HasSubstr("class=\"resources\"")));
  input.run.summary.ceiling = 2028254.391;
  input.run.summary.share_of_ceiling = 0.98069;
  html = RenderReport(input);
  EXPECT_THAT(html,
              HasSubstr("<th>share of the run&#39;s ceiling</th><td>98.07 % of 2,028,254.39</td>"));

  ServiceResources router;
  router.name = "router";
  router.cpu_limit = 0.4;
  router.cpu_s = 12;  // over 60 s: 0.2 cores, half the limit
  router.nr_periods = 600;
  router.nr_throttled = 60;
  router.memory_limit_bytes = 100.0 * 1024 * 1024;
  router.memory_peak_bytes = 25.0 * 1024 * 1024;
  input.resources = std::vector<ServiceResources>{router};
  html = RenderReport(input);
  EXPECT_THAT(html, HasSubstr("class=\"resources\""));
  EXPECT_THAT(html, HasSubstr("0.200 (50 %)"));
  EXPECT_THAT(html, HasSubstr("60 of 600 (10.0 %)"));
  EXPECT_THAT(html, HasSubstr("25.0 MB / 100.0 MB (25 %)"));
}

TEST(RenderReportTest, UnlimitedServicesStayOutOfTheTotals) {
  ReportInput input = PreviewLikeInput();
  ServiceResources edge;
  edge.name = "edge1";
  edge.cpu_limit = 0.35;
  edge.cpu_s = 6;
  edge.memory_limit_bytes = 60.0 * 1024 * 1024;
  edge.memory_peak_bytes = 20.0 * 1024 * 1024;
  ServiceResources processor;
  processor.name = "processor-default";
  processor.limited = false;
  processor.cpu_s = 30;
  processor.memory_peak_bytes = 500.0 * 1024 * 1024;
  input.resources = std::vector<ServiceResources>{edge, processor};
  const std::string html = RenderReport(input);
  EXPECT_THAT(html, HasSubstr("processor-default (not limited)"));
  EXPECT_THAT(html, HasSubstr("<tr class=\"unlimited\">"));
  EXPECT_THAT(html, HasSubstr("<td>0.35</td><td>6.0 s</td>"));  // total: the edge only
  EXPECT_THAT(html, HasSubstr("20.0 MB / 60.0 MB (sum of peaks)"));
}

// The preview-like run's seconds with a stall probe that saw a stall at t = 21 s, where the load's
// p99 is 3 ms (slow) too.
Probe StallProbe() {
  Probe probe;
  probe.summary = {.samples = 60000,
                   .p50_ms = 0.062,
                   .p99_ms = 0.25,
                   .p999_ms = 2.5,
                   .max_ms = 8.5,
                   .seconds = 62,
                   .seconds_with_stall_over_5ms = 1};
  for (int t = 1; t <= 60; ++t) {
    ProbeSecond second;
    second.t_s = t;
    second.samples = 990;
    second.max_late_ms = t == 21 ? 8.5 : 0.1;
    second.late_over_5ms = t == 21 ? 1 : 0;
    probe.seconds.push_back(second);
  }
  probe.seconds[10].samples = 0;  // a second without wake-ups: a gap, not a zero on a log axis
  return probe;
}

TEST(RenderReportTest, WithoutAProbeTheStallChartIsOmittedWithTheReason) {
  const std::string html = RenderReport(PreviewLikeInput());
  EXPECT_THAT(html, HasSubstr("<h2>Machine stalls (stall-probe)</h2>"));
  EXPECT_THAT(html, HasSubstr("run contest.sh with --probe"));
  EXPECT_THAT(html, Not(HasSubstr("id=\"stalls\"")));
  EXPECT_THAT(html, Not(HasSubstr("Machine (stall-probe)")));
}

TEST(RenderReportTest, StallChartAndTableWithAProbe) {
  ReportInput input = PreviewLikeInput();
  input.run.series[20].p99_ms = 9;  // t = 21 s: slow, under the stall
  input.run.series[40].p99_ms = 4;  // t = 41 s: slow, no stall
  input.probe = StallProbe();
  const std::string html = RenderReport(input);
  EXPECT_EQ(Count(html, "<svg class=\"chart\""), 6);
  EXPECT_THAT(html, HasSubstr("id=\"stalls\""));
  EXPECT_THAT(html, Not(HasSubstr("run contest.sh with --probe")));
  // Shaded like the others: five unhealthy stages on each of six charts.
  EXPECT_EQ(Count(html, "<rect class=\"stage\""), 5 * 6);
  EXPECT_THAT(html, HasSubstr(">max wake-up lateness</title>"));
  EXPECT_THAT(html, HasSubstr(">load p99</title>"));
  EXPECT_THAT(html, HasSubstr(">5 ms</text>"));
  EXPECT_EQ(Count(html, "<line class=\"reference\""), 2);  // overall p99, and the 5 ms line

  // The stall chart alone: a log axis, and its lines inside the plot.
  const size_t begin = html.find("<svg class=\"chart\" id=\"stalls\"");
  ASSERT_NE(begin, std::string::npos);
  const std::string chart = html.substr(begin, html.find("</svg>", begin) - begin);
  EXPECT_THAT(chart, HasSubstr("ms (log scale)"));
  const std::regex path(R"(class="plot line" d="([^"]*)\")");
  int paths = 0;
  for (auto it = std::sregex_iterator(chart.begin(), chart.end(), path);
       it != std::sregex_iterator(); ++it) {
    ++paths;
    const std::string d = (*it)[1];
    const std::regex pair(R"([ML]([-0-9.]+) ([-0-9.]+))");
    for (auto p = std::sregex_iterator(d.begin(), d.end(), pair); p != std::sregex_iterator();
         ++p) {
      EXPECT_GE(std::stod((*p)[1]), 64);
      EXPECT_LE(std::stod((*p)[1]), 944);
      EXPECT_GE(std::stod((*p)[2]), 22);
      EXPECT_LE(std::stod((*p)[2]), 210);
    }
  }
  EXPECT_EQ(paths, 2);

  EXPECT_THAT(html, HasSubstr("<caption>Machine (stall-probe)</caption>"));
  EXPECT_THAT(html, HasSubstr("<td>0.062 / 0.250 ms</td>"));
  EXPECT_THAT(html, HasSubstr("<td>2.500 / 8.500 ms</td>"));
  EXPECT_THAT(html, HasSubstr("<tr class=\"bad\"><th>seconds with a stall &gt; 5 ms</th><td>1 of "
                              "62</td>"));
  EXPECT_THAT(html, HasSubstr("<td>1 of 60</td>"));               // during the load
  EXPECT_THAT(html, HasSubstr("<td>2 (1 during a stall)</td>"));  // slow load seconds
}

TEST(RenderReportTest, PageIsSelfContained) {
  const std::string html = RenderReport(PreviewLikeInput());
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, HasSubstr("data-charts-drawn"));
}

}  // namespace
}  // namespace rinha::report
