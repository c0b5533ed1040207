#include "contest/report/report.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/iso_time.h"
#include "contest/report/svg.h"

namespace rinha::report {
namespace {

// Chart geometry in SVG user units; the SVG scales to the page width through its viewBox.
constexpr double kWidth = 960;
constexpr double kHeight = 250;
constexpr double kLeft = 64;
constexpr double kRight = 16;
constexpr double kTop = 22;
constexpr double kBottom = 40;
constexpr double kPlotLeft = kLeft;
constexpr double kPlotRight = kWidth - kRight;
constexpr double kPlotTop = kTop;
constexpr double kPlotBottom = kHeight - kBottom;

constexpr char kColorOk[] = "#2e7d32";
constexpr char kColorFailed[] = "#c62828";
constexpr char kColorVus[] = "#757575";
constexpr char kColorDefault[] = "#1565c0";
constexpr char kColorFallback[] = "#ef6c00";
constexpr char kColorP50[] = "#00897b";
constexpr char kColorP99[] = "#6a1b9a";

// Display text for figures; "—" when the writer left a value out.
std::string Fixed(std::optional<double> value, int decimals) {
  if (!value.has_value() || !std::isfinite(*value)) return "—";
  std::string text = absl::StrFormat("%.*f", decimals, *value);
  // Thousands separators on the integer part, for money and counts in the hundreds of thousands.
  const size_t start = text[0] == '-' ? 1 : 0;
  size_t end = text.find('.');
  if (end == std::string::npos) end = text.size();
  for (size_t i = end; i > start + 3; i -= 3) text.insert(i - 3, ",");
  return text;
}

std::string Percent(std::optional<double> fraction, int decimals = 0) {
  if (!fraction.has_value()) return "—";
  return absl::StrCat(Fixed(*fraction * 100, decimals), " %");
}

std::string MegaBytes(std::optional<double> bytes) {
  if (!bytes.has_value()) return "—";
  return absl::StrCat(Fixed(*bytes / (1024 * 1024), 1), " MB");
}

struct LineSeries {
  std::string name;
  std::string color;
  std::vector<std::optional<double>> values;  // one per RunData::series element, unless `t`
  bool dashed = false;
  std::vector<double> t;  // x of each value when not the run's seconds (stall-probe's seconds)
};

struct ReferenceLine {
  double value = 0;
  std::string label;
  std::string color;
};

struct Marker {
  double t_s = 0;
  double value = 0;
  std::string color;
  std::string tooltip;
};

struct ChartSpec {
  std::string id;
  std::string title;
  std::string y_unit;
  bool log_y = false;
  double min_y_max = 0;  // linear axes: top at least this (counts read badly as 0.2, 0.4...)
  std::vector<LineSeries> lines;
  std::vector<ReferenceLine> references;
  std::vector<Marker> markers;
  std::string note;  // under the title, e.g. what a clipped value means
};

// What every time chart shares: the x axis and the stages behind the data.
struct TimeFrame {
  double t_max = 1;
  std::vector<double> t;  // x of each second
  std::vector<Stage> stages;
};

std::string TextElement(double x, double y, absl::string_view anchor, absl::string_view text,
                        absl::string_view extra = "") {
  return absl::StrCat("<text x=\"", FormatCoord(x), "\" y=\"", FormatCoord(y), "\" text-anchor=\"",
                      anchor, "\"", extra, ">", EscapeXml(text), "</text>\n");
}

std::string StageBands(const TimeFrame& frame, const LinearScale& x) {
  std::string svg;
  for (const Stage& stage : frame.stages) {
    const StageStyle style = DescribeStage(stage);
    if (style.normal) continue;
    const double from = std::clamp(stage.from_s, 0.0, frame.t_max);
    const double to = std::clamp(stage.to_s, 0.0, frame.t_max);
    if (!(to > from)) continue;
    const double x0 = x.Map(from);
    const double x1 = x.Map(to);
    absl::StrAppend(&svg, "<rect class=\"stage\" x=\"", FormatCoord(x0), "\" y=\"",
                    FormatCoord(kPlotTop), "\" width=\"", FormatCoord(x1 - x0), "\" height=\"",
                    FormatCoord(kPlotBottom - kPlotTop), "\" fill=\"", style.color, "\"><title>",
                    EscapeXml(absl::StrFormat("%g–%g s: ", stage.from_s, stage.to_s)),
                    EscapeXml(style.label), "</title></rect>\n");
    absl::StrAppend(&svg, TextElement(x0 + 3, kPlotTop + 10, "start", style.short_label,
                                      " class=\"stage-label\""));
  }
  return svg;
}

std::string RenderTimeChart(const ChartSpec& spec, const TimeFrame& frame) {
  const LinearScale x(0, frame.t_max, kPlotLeft, kPlotRight);

  // The y domain: from the data, references and markers; linear axes start at 0.
  double max_value = 0;
  double min_positive = 0;
  auto consider = [&](double v) {
    if (!std::isfinite(v)) return;
    max_value = std::max(max_value, v);
    if (v > 0 && (min_positive == 0 || v < min_positive)) min_positive = v;
  };
  for (const LineSeries& line : spec.lines) {
    for (const std::optional<double>& v : line.values) {
      if (v.has_value()) consider(*v);
    }
  }
  for (const ReferenceLine& ref : spec.references) consider(ref.value);
  for (const Marker& marker : spec.markers) consider(marker.value);

  std::vector<double> y_ticks;
  std::optional<LinearScale> linear;
  std::optional<LogScale> log;
  if (spec.log_y) {
    double lo = min_positive > 0 ? FloorPow10(min_positive) : 0.1;
    double hi = max_value > 0 ? CeilPow10(max_value) : 10;
    if (hi <= lo) hi = lo * 10;
    log.emplace(lo, hi, kPlotBottom, kPlotTop);
    y_ticks = LogTicks(lo, hi);
  } else {
    const double hi = NiceCeiling(std::max(max_value, spec.min_y_max));
    linear.emplace(0, hi, kPlotBottom, kPlotTop);
    y_ticks = NiceTicks(0, hi, 6);
  }
  auto y = [&](double v) { return spec.log_y ? log->Map(v) : linear->Map(v); };

  std::string svg =
      absl::StrCat("<svg class=\"chart\" id=\"", EscapeXml(spec.id), "\" viewBox=\"0 0 ", kWidth,
                   " ", kHeight, "\" width=\"", kWidth, "\" height=\"", kHeight,
                   "\" role=\"img\" aria-label=\"", EscapeXml(spec.title), "\">\n");
  absl::StrAppend(&svg, StageBands(frame, x));

  // Grid and axes.
  for (double tick : y_ticks) {
    const double py = y(tick);
    absl::StrAppend(&svg, "<line class=\"grid\" x1=\"", FormatCoord(kPlotLeft), "\" x2=\"",
                    FormatCoord(kPlotRight), "\" y1=\"", FormatCoord(py), "\" y2=\"",
                    FormatCoord(py), "\"/>\n");
    absl::StrAppend(&svg, TextElement(kPlotLeft - 6, py + 4, "end", FormatTick(tick)));
  }
  for (double tick : NiceTicks(0, frame.t_max, 13)) {
    const double px = x.Map(tick);
    absl::StrAppend(&svg, "<line class=\"tick\" x1=\"", FormatCoord(px), "\" x2=\"",
                    FormatCoord(px), "\" y1=\"", FormatCoord(kPlotBottom), "\" y2=\"",
                    FormatCoord(kPlotBottom + 5), "\"/>\n");
    absl::StrAppend(&svg, TextElement(px, kPlotBottom + 18, "middle", FormatTick(tick)));
  }
  absl::StrAppend(&svg, "<rect class=\"frame\" x=\"", FormatCoord(kPlotLeft), "\" y=\"",
                  FormatCoord(kPlotTop), "\" width=\"", FormatCoord(kPlotRight - kPlotLeft),
                  "\" height=\"", FormatCoord(kPlotBottom - kPlotTop), "\"/>\n");
  absl::StrAppend(&svg, TextElement((kPlotLeft + kPlotRight) / 2, kHeight - 6, "middle",
                                    "time since start (s)", " class=\"axis-label\""));
  absl::StrAppend(&svg,
                  TextElement(14, (kPlotTop + kPlotBottom) / 2, "middle",
                              absl::StrCat(spec.y_unit, spec.log_y ? " (log scale)" : ""),
                              absl::StrCat(" class=\"axis-label\" transform=\"rotate(-90 14 ",
                                           FormatCoord((kPlotTop + kPlotBottom) / 2), ")\"")));

  for (const ReferenceLine& ref : spec.references) {
    const double py = y(ref.value);
    absl::StrAppend(&svg, "<line class=\"reference\" x1=\"", FormatCoord(kPlotLeft), "\" x2=\"",
                    FormatCoord(kPlotRight), "\" y1=\"", FormatCoord(py), "\" y2=\"",
                    FormatCoord(py), "\" stroke=\"", ref.color, "\"/>\n");
    absl::StrAppend(&svg, TextElement(kPlotRight - 4, py - 4, "end", ref.label,
                                      absl::StrCat(" fill=\"", ref.color, "\"")));
  }

  for (const LineSeries& line : spec.lines) {
    const std::vector<double>& t = line.t.empty() ? frame.t : line.t;
    std::vector<std::optional<Point>> points;
    points.reserve(line.values.size());
    for (size_t i = 0; i < line.values.size() && i < t.size(); ++i) {
      const std::optional<double>& v = line.values[i];
      if (!v.has_value() || !std::isfinite(*v) || (spec.log_y && *v <= 0)) {
        points.emplace_back(std::nullopt);
      } else {
        points.emplace_back(Point{x.Map(t[i]), y(*v)});
      }
    }
    const std::string path = PolylinePath(points);
    if (path.empty()) continue;
    absl::StrAppend(&svg, "<path class=\"plot line\" d=\"", path, "\" stroke=\"", line.color, "\"",
                    line.dashed ? " stroke-dasharray=\"5 3\"" : "", "><title>",
                    EscapeXml(line.name), "</title></path>\n");
  }

  for (const Marker& marker : spec.markers) {
    absl::StrAppend(&svg, "<circle class=\"plot marker\" cx=\"", FormatCoord(x.Map(marker.t_s)),
                    "\" cy=\"", FormatCoord(y(marker.value)), "\" r=\"5\" fill=\"", marker.color,
                    "\"><title>", EscapeXml(marker.tooltip), "</title></circle>\n");
  }
  svg += "</svg>\n";

  // Title, legend of the series, then the chart.
  std::string html =
      absl::StrCat("<section class=\"chart-box\">\n<h2>", EscapeXml(spec.title), "</h2>\n");
  if (!spec.note.empty())
    absl::StrAppend(&html, "<p class=\"note\">", EscapeXml(spec.note), "</p>\n");
  html += "<div class=\"legend\">";
  for (const LineSeries& line : spec.lines) {
    absl::StrAppend(&html, "<span><i class=\"swatch line", line.dashed ? " dashed" : "",
                    "\" style=\"border-color:", line.color, "\"></i>", EscapeXml(line.name),
                    "</span>");
  }
  for (const ReferenceLine& ref : spec.references) {
    absl::StrAppend(&html, "<span><i class=\"swatch line dotted\" style=\"border-color:", ref.color,
                    "\"></i>", EscapeXml(ref.label), "</span>");
  }
  html += "</div>\n";
  absl::StrAppend(&html, svg, "</section>\n");
  return html;
}

std::string OmittedChart(absl::string_view title, absl::string_view why) {
  return absl::StrCat("<section class=\"chart-box omitted\">\n<h2>", EscapeXml(title),
                      "</h2>\n<p class=\"note\">Not drawn: ", EscapeXml(why), "</p>\n</section>\n");
}

template <typename Field>
std::vector<std::optional<double>> Column(const std::vector<Second>& series, Field field) {
  std::vector<std::optional<double>> values;
  values.reserve(series.size());
  for (const Second& second : series) values.push_back(field(second));
  return values;
}

bool AnyValue(const std::vector<std::optional<double>>& values) {
  return std::any_of(values.begin(), values.end(), [](const auto& v) { return v.has_value(); });
}

std::string Row(absl::string_view name, absl::string_view value, absl::string_view css = "") {
  return absl::StrCat("<tr", css.empty() ? "" : absl::StrCat(" class=\"", css, "\""), "><th>",
                      EscapeXml(name), "</th><td>", EscapeXml(value), "</td></tr>\n");
}

std::string ScoreTable(const ReportInput& input) {
  const Results& r = input.results;
  std::optional<double> score = r.score.has_value() ? r.score : input.run.summary.score;
  std::optional<double> failed =
      r.requests_failed.has_value() ? r.requests_failed : input.run.summary.failed;
  std::string p99 = r.p99;
  if (p99.empty() && input.run.summary.p99_ms.has_value()) {
    p99 = absl::StrCat(Fixed(input.run.summary.p99_ms, 2), "ms");
  }
  const bool fined = r.fine_fraction.value_or(0) > 0 || r.inconsistencies.value_or(0) > 0;
  const bool lagged = r.lag.value_or(0) != 0;
  std::string html = "<table class=\"figures\">\n<caption>Score</caption>\n";
  html += Row("score", Fixed(score, 2), "headline");
  html +=
      Row("share of the run's ceiling", absl::StrCat(Percent(input.run.summary.share_of_ceiling, 2),
                                                     " of ", Fixed(input.run.summary.ceiling, 2)));
  html += Row("net (total_liquido)", Fixed(r.net, 2));
  html += Row("gross (total_bruto)", Fixed(r.gross, 2));
  html += Row("fees (total_taxas)", Fixed(r.fees, 2));
  html += Row("p99", p99.empty() ? "—" : p99);
  html += Row("bonus", Percent(r.bonus));
  html += Row("fine", absl::StrCat(Percent(r.fine_fraction), " (", Fixed(r.fine_total, 2), ")"),
              fined ? "bad" : "");
  html += Row("inconsistencies", Fixed(r.inconsistencies, 0), fined ? "bad" : "");
  html += Row("lag", absl::StrCat(Fixed(r.lag, 0), " of ", Fixed(r.payments_requested, 0)),
              lagged ? "bad" : "");
  html += Row("payments default", absl::StrCat(Fixed(r.default_processor.payments, 0), " (",
                                               Fixed(r.default_processor.gross, 2), ")"));
  html += Row("payments fallback", absl::StrCat(Fixed(r.fallback_processor.payments, 0), " (",
                                                Fixed(r.fallback_processor.gross, 2), ")"));
  html +=
      Row("requests ok / failed", absl::StrCat(Fixed(r.requests_ok, 0), " / ", Fixed(failed, 0)),
          failed.value_or(0) > 0 ? "bad" : "");
  html += "</table>\n";
  return html;
}

std::string RunTable(const RunData& run) {
  std::string html = "<table class=\"figures\">\n<caption>Run</caption>\n";
  html += Row("test / timeline", absl::StrCat(run.test.empty() ? "—" : run.test, " / ",
                                              run.timeline.empty() ? "—" : run.timeline));
  html += Row("duration", absl::StrCat(Fixed(run.duration_s, 0), " s"));
  html += Row("max VUs", absl::StrCat(run.max_vus));
  if (run.started_at_ms.has_value()) html += Row("started", FormatIsoMillis(*run.started_at_ms));
  html += Row("p50 / p99 (load generator)", absl::StrCat(Fixed(run.summary.p50_ms, 2), " / ",
                                                         Fixed(run.summary.p99_ms, 2), " ms"));
  html += Row("requests", Fixed(run.summary.requests, 0));
  html += Row("audits", absl::StrCat(run.audits.size()));
  if (const std::optional<UndecidedPeak> peak = PeakUndecided(run)) {
    html += Row("undecided payments (> 30 s)",
                absl::StrCat("max ", Fixed(peak->max_count, 0), ", oldest ",
                             Fixed(peak->oldest_ms / 1000, 1), " s"),
                peak->max_count > 0 ? "bad" : "");
  }
  html += Row("load generator",
              absl::StrCat(Fixed(run.loadgen_cpu_s, 1), " CPU s, ",
                           Fixed(run.loadgen_max_rss_kb.has_value()
                                     ? std::optional<double>(*run.loadgen_max_rss_kb / 1024)
                                     : std::nullopt,
                                 1),
                           " MB RSS"));
  html += "</table>\n";
  return html;
}

std::string ProbeTable(const Probe& probe, const RunData& run) {
  const ProbeSummary& s = probe.summary;
  int64_t stalled = 0;
  for (const ProbeSecond& second : probe.seconds) stalled += second.late_over_5ms > 0 ? 1 : 0;
  const SlowSeconds slow = CountSlowSecondsInStalls(probe, run);
  std::string html = "<table class=\"figures\">\n<caption>Machine (stall-probe)</caption>\n";
  html += Row("wake-up lateness p50 / p99",
              absl::StrCat(Fixed(s.p50_ms, 3), " / ", Fixed(s.p99_ms, 3), " ms"));
  html += Row("p99.9 / max", absl::StrCat(Fixed(s.p999_ms, 3), " / ", Fixed(s.max_ms, 3), " ms"));
  html += Row(absl::StrFormat("seconds with a stall > %g ms", kProbeStallMs),
              absl::StrCat(Fixed(s.seconds_with_stall_over_5ms, 0), " of ", Fixed(s.seconds, 0)),
              s.seconds_with_stall_over_5ms.value_or(0) > 0 ? "bad" : "");
  html += Row("… during the load", absl::StrCat(stalled, " of ", probe.seconds.size()));
  html += Row(absl::StrFormat("load seconds with p99 > %g ms", kSlowLoadSecondMs),
              absl::StrCat(slow.slow, " (", slow.in_stall, " during a stall)"));
  html += "</table>\n";
  return html;
}

std::string ResourcesTable(const std::vector<ServiceResources>& services, double duration_s) {
  std::string html =
      "<table class=\"resources\">\n<caption>Resources (cgroup figures over the run)</caption>\n"
      "<tr><th>service</th><th>CPU limit</th><th>CPU used</th><th>avg cores (of limit)</th>"
      "<th>throttled periods</th><th>throttled time</th><th>peak memory / limit</th>"
      "<th>mem failcnt / OOM kills</th></tr>\n";
  double total_limit = 0, total_cpu = 0, total_memory_limit = 0, total_peak = 0;
  for (const ServiceResources& s : services) {
    if (s.limited) {
      total_limit += s.cpu_limit.value_or(0);
      total_cpu += s.cpu_s.value_or(0);
      total_memory_limit += s.memory_limit_bytes.value_or(0);
      total_peak += s.memory_peak_bytes.value_or(0);
    }
    std::optional<double> avg_cores;
    if (s.cpu_s.has_value() && duration_s > 0) avg_cores = *s.cpu_s / duration_s;
    std::string cores = Fixed(avg_cores, 3);
    if (avg_cores.has_value() && s.cpu_limit.value_or(0) > 0) {
      absl::StrAppend(&cores, " (", Percent(*avg_cores / *s.cpu_limit), ")");
    }
    std::string throttled = Fixed(s.nr_throttled, 0);
    if (s.nr_throttled.has_value() && s.nr_periods.value_or(0) > 0) {
      absl::StrAppend(&throttled, " of ", Fixed(s.nr_periods, 0), " (",
                      Percent(*s.nr_throttled / *s.nr_periods, 1), ")");
    }
    std::string memory =
        absl::StrCat(MegaBytes(s.memory_peak_bytes), " / ", MegaBytes(s.memory_limit_bytes));
    if (s.memory_peak_bytes.has_value() && s.memory_limit_bytes.value_or(0) > 0) {
      absl::StrAppend(&memory, " (", Percent(*s.memory_peak_bytes / *s.memory_limit_bytes), ")");
    }
    const bool bad = s.oom_kills.value_or(0) > 0 || s.memory_failcnt.value_or(0) > 0;
    const char* css = bad ? " class=\"bad\"" : (s.limited ? "" : " class=\"unlimited\"");
    absl::StrAppend(
        &html, "<tr", css, "><th>", EscapeXml(s.name), s.limited ? "" : " (not limited)",
        "</th><td>", Fixed(s.cpu_limit, 2), "</td><td>", absl::StrCat(Fixed(s.cpu_s, 1), " s"),
        "</td><td>", EscapeXml(cores), "</td><td>", EscapeXml(throttled), "</td><td>",
        absl::StrCat(Fixed(s.throttled_s, 2), " s"), "</td><td>", EscapeXml(memory), "</td><td>",
        Fixed(s.memory_failcnt, 0), " / ", Fixed(s.oom_kills, 0), "</td></tr>\n");
  }
  absl::StrAppend(&html, "<tr class=\"total\"><th>total (limited services)</th><td>",
                  Fixed(total_limit, 2), "</td><td>", Fixed(total_cpu, 1),
                  " s</td><td></td><td></td><td></td><td>", MegaBytes(total_peak), " / ",
                  MegaBytes(total_memory_limit), " (sum of peaks)</td><td></td></tr>\n</table>\n");
  return html;
}

std::string StageLegend(const std::vector<Stage>& stages) {
  if (stages.empty()) return "<p class=\"note\">No instability stages in run.json.</p>\n";
  std::string html = "<div class=\"stages\"><b>Processor stages</b> (shaded on every chart):<ul>";
  for (const Stage& stage : stages) {
    const StageStyle style = DescribeStage(stage);
    absl::StrAppend(&html, "<li><i class=\"swatch", style.normal ? " normal" : "",
                    "\" style=\"background:", style.normal ? "#fff" : style.color, "\"></i>",
                    EscapeXml(absl::StrFormat("%g–%g s", stage.from_s, stage.to_s)), ": ",
                    EscapeXml(style.label), "</li>");
  }
  html += "</ul></div>\n";
  return html;
}

constexpr char kStyle[] = R"css(
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       margin: 16px auto; max-width: 1000px; padding: 0 12px; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 18px 0 4px; }
.tables { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
th { text-align: left; font-weight: normal; background: #f7f7f7; }
tr.headline td { font-weight: bold; font-size: 16px; }
tr.bad td { color: #b71c1c; font-weight: bold; }
tr.total { font-weight: bold; }
tr.unlimited td, tr.unlimited th { color: #777; }
table.resources { margin-top: 12px; }
table.resources tr:first-child th { white-space: normal; vertical-align: bottom; }
.stages { margin-top: 12px; }
.note { color: #555; font-size: 13px; margin: 2px 0; }
.legend span { margin-right: 14px; font-size: 13px; white-space: nowrap; }
.swatch { display: inline-block; width: 14px; height: 10px; margin-right: 4px;
          vertical-align: middle; border: 1px solid #bbb; }
.swatch.line { height: 0; width: 18px; border: 0; border-top: 2px solid; }
.swatch.line.dashed { border-top-style: dashed; }
.swatch.line.dotted { border-top-style: dotted; }
.stages ul { margin: 4px 0; padding-left: 18px; columns: 2; font-size: 13px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 11px; fill: #444; }
svg.chart text.stage-label { font-size: 9px; fill: #555; }
svg.chart text.axis-label { font-size: 12px; fill: #222; }
svg.chart .grid { stroke: #e6e6e6; }
svg.chart rect.stage { stroke: #fff; stroke-width: 1; }  /* adjacent stages of one colour */
svg.chart .tick { stroke: #888; }
svg.chart .frame { fill: none; stroke: #888; }
svg.chart .reference { stroke-dasharray: 2 3; stroke-width: 1.5; }
svg.chart path.line { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
svg.chart .marker { stroke: #fff; stroke-width: 1; }
)css";

// Runs once the page is laid out: a chart counts as drawn when its plotted marks have a
// non-empty geometry (a path with length, a marker with a box) inside the chart's viewBox.
constexpr char kDrawnCheck[] = R"js(
(function () {
  var charts = document.querySelectorAll('svg.chart');
  var drawn = 0;
  charts.forEach(function (svg) {
    var vb = svg.viewBox.baseVal, extent = 0;
    svg.querySelectorAll('.plot').forEach(function (el) {
      var box = el.getBBox();
      var inside = box.x + box.width >= vb.x && box.x <= vb.x + vb.width &&
                   box.y + box.height >= vb.y && box.y <= vb.y + vb.height;
      if (!inside) return;
      var length = el.getTotalLength ? el.getTotalLength() : 0;
      extent += Math.max(length, box.width + box.height);
    });
    if (extent > 0) { drawn++; svg.setAttribute('data-drawn', 'true'); }
  });
  document.body.setAttribute('data-charts-total', String(charts.length));
  document.body.setAttribute('data-charts-drawn', String(drawn));
})();
)js";

}  // namespace

StageStyle DescribeStage(const Stage& stage) {
  StageStyle style;
  std::vector<std::string> long_parts, short_parts;
  auto describe = [&](absl::string_view name, absl::string_view letter, int64_t delay_ms,
                      bool failing) {
    if (failing) {
      long_parts.push_back(delay_ms > 0 ? absl::StrCat(name, " failing (", delay_ms, " ms)")
                                        : absl::StrCat(name, " failing"));
      short_parts.push_back(absl::StrCat(letter, " fail"));
    } else if (delay_ms > 0) {
      long_parts.push_back(absl::StrCat(name, " ", delay_ms, " ms"));
      short_parts.push_back(absl::StrCat(letter, " ", delay_ms));
    }
  };
  describe("default", "D", stage.default_delay_ms, stage.default_failing);
  describe("fallback", "F", stage.fallback_delay_ms, stage.fallback_failing);
  style.normal = long_parts.empty();
  style.label = style.normal ? "both healthy, no delay" : absl::StrJoin(long_parts, ", ");
  style.short_label = absl::StrJoin(short_parts, " · ");
  // The colour says what matters most for routing: the cheap processor down, then slow, then
  // only the expensive one affected.
  if (stage.default_failing && stage.fallback_failing) {
    style.color = "#eba59d";
    style.category = "both failing";
  } else if (stage.default_failing) {
    style.color = "#f6c9c4";
    style.category = "default failing";
  } else if (stage.default_delay_ms > 0) {
    style.color = "#fbe7b5";
    style.category = "default slow";
  } else if (stage.fallback_failing) {
    style.color = "#c9dbf7";
    style.category = "fallback failing";
  } else if (stage.fallback_delay_ms > 0) {
    style.color = "#e3daf3";
    style.category = "fallback slow";
  }
  return style;
}

std::string RenderReport(const ReportInput& input) {
  const RunData& run = input.run;
  TimeFrame frame;
  frame.stages = run.stages;
  frame.t_max = std::max(run.duration_s, 1.0);
  for (const Second& second : run.series) {
    frame.t.push_back(second.t_s);
    frame.t_max = std::max(frame.t_max, second.t_s);
  }
  for (const Stage& stage : run.stages) frame.t_max = std::max(frame.t_max, stage.to_s);
  for (const Audit& audit : run.audits) frame.t_max = std::max(frame.t_max, audit.t_s);

  std::string title = absl::StrCat("Rinha run: ", run.test.empty() ? "?" : run.test, " test, ",
                                   run.timeline.empty() ? "?" : run.timeline, " timeline");
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
      EscapeXml(title), "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n<h1>",
      EscapeXml(title), "</h1>\n<div class=\"tables\">\n", ScoreTable(input), RunTable(run),
      input.probe.has_value() ? ProbeTable(*input.probe, run) : "", "</div>\n");
  if (input.resources.has_value()) {
    html += ResourcesTable(*input.resources, run.duration_s);
  }
  html += StageLegend(run.stages);

  const auto& s = run.series;
  {
    ChartSpec spec;
    spec.id = "throughput";
    spec.title = "Requests per second and virtual users";
    spec.y_unit = "requests/s, VUs";
    spec.lines = {
        {"ok /s", kColorOk, Column(s, [](const Second& x) { return x.ok; })},
        {"failed /s", kColorFailed, Column(s, [](const Second& x) { return x.failed; })},
        {"VUs", kColorVus, Column(s, [](const Second& x) { return x.vus; }), true},
    };
    html += RenderTimeChart(spec, frame);
  }
  {
    ChartSpec spec;
    spec.id = "latency";
    spec.title = "POST /payments latency per second";
    spec.y_unit = "ms";
    spec.log_y = true;
    spec.note = "Seconds without a successful request leave a gap.";
    spec.lines = {
        {"p50", kColorP50, Column(s, [](const Second& x) { return x.p50_ms; })},
        {"p99", kColorP99, Column(s, [](const Second& x) { return x.p99_ms; })},
    };
    if (run.summary.p99_ms.has_value() && *run.summary.p99_ms > 0) {
      spec.references.push_back({*run.summary.p99_ms,
                                 absl::StrCat("overall p99 ", Fixed(run.summary.p99_ms, 2), " ms"),
                                 kColorFailed});
    }
    html += RenderTimeChart(spec, frame);
  }
  {
    ChartSpec spec;
    spec.id = "stalls";
    spec.title = "Machine stalls (stall-probe)";
    spec.y_unit = "ms";
    spec.log_y = true;
    if (input.probe.has_value()) {
      spec.note =
          "How late a thread sleeping 1 ms woke up, worst per second, beside the load's p99: a "
          "slow load second during a stall is likely the machine's, not the stack's.";
      LineSeries lateness{"max wake-up lateness", kColorFailed, {}};
      for (const ProbeSecond& second : input.probe->seconds) {
        lateness.t.push_back(second.t_s);
        lateness.values.push_back(second.samples > 0 ? std::optional<double>(second.max_late_ms)
                                                     : std::nullopt);
      }
      spec.lines = {
          std::move(lateness),
          {"load p99", kColorP99, Column(s, [](const Second& x) { return x.p99_ms; }), true},
      };
      spec.references.push_back(
          {kProbeStallMs, absl::StrFormat("%g ms", kProbeStallMs), kColorFallback});
      html += RenderTimeChart(spec, frame);
    } else {
      html += OmittedChart(spec.title, "no stall-probe data (run contest.sh with --probe).");
    }
  }
  {
    ChartSpec spec;
    spec.id = "settled";
    spec.title = "Payments settled per second, per processor";
    spec.y_unit = "payments/s";
    spec.lines = {
        {"default", kColorDefault, Column(s, [](const Second& x) { return x.settled_default; })},
        {"fallback", kColorFallback, Column(s, [](const Second& x) { return x.settled_fallback; })},
    };
    if (AnyValue(spec.lines[0].values) || AnyValue(spec.lines[1].values)) {
      html += RenderTimeChart(spec, frame);
    } else {
      html += OmittedChart(spec.title,
                           "run.json has no settled_default/settled_fallback series "
                           "(the load generator ran without --router_stats).");
    }
  }
  {
    ChartSpec spec;
    spec.id = "router";
    spec.title = "Router queue depth and payments in flight";
    spec.y_unit = "payments";
    spec.lines = {
        {"queued", kColorFallback, Column(s, [](const Second& x) { return x.router_queued; })},
        {"in flight", kColorDefault, Column(s, [](const Second& x) { return x.router_in_flight; })},
        {"undecided (> 30 s)", kColorFailed,
         Column(s, [](const Second& x) { return x.router_undecided; }), true},
    };
    if (const std::optional<UndecidedPeak> peak = PeakUndecided(run)) {
      spec.note = absl::StrCat("Undecided: pending in the router longer than 30 s; at most ",
                               Fixed(peak->max_count, 0), " at once, the oldest ",
                               Fixed(peak->oldest_ms / 1000, 1), " s old.");
    }
    if (AnyValue(spec.lines[0].values) || AnyValue(spec.lines[1].values)) {
      html += RenderTimeChart(spec, frame);
    } else {
      html += OmittedChart(spec.title,
                           "run.json has no router_queued/router_in_flight series "
                           "(the load generator ran without --router_stats).");
    }
  }
  {
    ChartSpec spec;
    spec.id = "audits";
    spec.title = "Audits: inconsistencies found by each audit";
    spec.y_unit = "inconsistencies";
    spec.min_y_max = 5;
    int64_t total = 0;
    for (const Audit& audit : run.audits) {
      total += audit.inconsistencies;
      const bool bad = audit.inconsistencies != 0 || !audit.ok;
      spec.markers.push_back(
          {audit.t_s, static_cast<double>(audit.inconsistencies), bad ? kColorFailed : kColorOk,
           absl::StrFormat("t=%g s, window %s .. %s: ours %d/%d, processors %d/%d "
                           "(default/fallback), %d inconsistencies",
                           audit.t_s, audit.from, audit.to, audit.ours_default, audit.ours_fallback,
                           audit.processor_default, audit.processor_fallback,
                           audit.inconsistencies)});
    }
    spec.note = run.audits.empty()
                    ? "run.json has no audits."
                    : absl::StrCat(run.audits.size(), " audits, ", total,
                                   " inconsistencies in all (green: consistent, red: not).");
    if (run.audits.empty()) {
      html += OmittedChart(spec.title, spec.note);
    } else {
      html += RenderTimeChart(spec, frame);
    }
  }
  absl::StrAppend(&html, "<script>", kDrawnCheck, "</script>\n</body>\n</html>\n");
  return html;
}

}  // namespace rinha::report
