// Renders a contest run (run.json + final-results.json [+ resources.json] [+ probe.json]) as one
// self-contained HTML page: score and resource tables, and inline SVG time charts with the
// processors' instability stages shaded. Pure: data in, text out.
#pragma once

#include <string>

#include "contest/report/run_data.h"

namespace rinha::report {

// How a stage is shown: a full label for the legend and tooltips ("default failing (2000 ms),
// fallback 1000 ms"), a short one for the band ("D fail · F 1000"), and a fill colour; `normal`
// stages (both processors healthy and without delay) are not shaded.
struct StageStyle {
  std::string label;
  std::string short_label;
  std::string color;
  std::string category;
  bool normal = true;
};
StageStyle DescribeStage(const Stage& stage);

// The whole page. Every chart is an <svg class="chart"> whose plotted marks carry class "plot";
// each shaded stage is a <rect class="stage">. An inline script (no network) measures the plotted
// marks once laid out and sets <body data-charts-drawn="N" data-charts-total="M">, so a headless
// browser's DOM dump tells whether the charts were really drawn.
std::string RenderReport(const ReportInput& input);

}  // namespace rinha::report
