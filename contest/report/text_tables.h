// A contest run's figures as terminal text, what the native runner prints at the end: the score
// lines, the resources table and the machine's stall lines, from the same data model as
// report.html. Pure: data in, text out. Numbers print as the files hold them (shortest form,
// "11.4" not "11.400"); an absent figure prints as "n/a" in a line, "-" in a table cell.
#pragma once

#include <string>
#include <vector>

#include "contest/report/run_data.h"

namespace rinha::report {

// "score            1938290.45 (total_liquido 1670939.1)", the score as a share of the run's
// ceiling from run.json's summary ("share of ceiling 98.07 % of 2028254.391") and seven more
// lines: gross and fees, p99 and bonus, inconsistencies and fine, lag, POSTs ok/failed, payments
// per processor. A bonus or fine the file writes as text ("17%") prints as that text.
std::string ScoreLines(const Results& results, const RunSummary& run_summary);

// A header and one row per service: cpus, limit_MB, cpu_s, throttled/periods, thr_s, peak_MB,
// failcnt, oom.
std::string ResourcesLines(const std::vector<ServiceResources>& services);

// "undecided payments (> 30 s): max 3, oldest 41.2 s": the most payments the router had pending
// past its undecided bound in one second, and the oldest age one reached; "" when run.json has
// no router_undecided series (no --router_stats).
std::string UndecidedLines(const RunData& run);

// Two lines: the machine's stalls over the probe's life, and how many of the load's slow seconds
// fell in one. `probe` placed on `run` (PlaceProbeOnRun).
std::string ProbeLines(const Probe& probe, const RunData& run);

}  // namespace rinha::report
