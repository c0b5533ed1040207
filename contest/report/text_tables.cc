#include "contest/report/text_tables.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rinha::report {
namespace {

// The shortest text that reads back as the same double, never in exponent form.
std::string Number(std::optional<double> value, const char* absent = "n/a") {
  if (!value.has_value() || !std::isfinite(*value)) return absent;
  char text[400];
  const auto [end, error] =
      std::to_chars(text, text + sizeof text, *value, std::chars_format::fixed);
  if (error != std::errc()) return absent;
  return std::string(text, end);
}

std::string Cell(std::optional<double> value) { return Number(value, "-"); }

}  // namespace

std::string ScoreLines(const Results& r, const RunSummary& run_summary) {
  std::string text;
  absl::StrAppend(&text, "score            ", Number(r.score), " (total_liquido ", Number(r.net),
                  ")\n");
  // Two places: a goal of 99.5 % must not be met by 99.46 rounding up.
  const std::optional<double> share = run_summary.share_of_ceiling;
  absl::StrAppend(&text, "share of ceiling ",
                  share.has_value() ? absl::StrFormat("%.2f %%", *share * 100) : "n/a", " of ",
                  Number(run_summary.ceiling), "\n");
  absl::StrAppend(&text, "gross - fees     ", Number(r.gross), " - ", Number(r.fees), "\n");
  absl::StrAppend(&text, "p99              ", r.p99.empty() ? "n/a" : r.p99, " (bonus ",
                  r.bonus_text.empty() ? Number(r.bonus) : r.bonus_text, ")\n");
  absl::StrAppend(&text, "inconsistencies  ", Number(r.inconsistencies), " (fine ",
                  r.fine_text.empty() ? Number(r.fine_fraction) : r.fine_text, ")\n");
  absl::StrAppend(&text, "lag              ", Number(r.lag), " of ", Number(r.payments_requested),
                  "\n");
  absl::StrAppend(&text, "POSTs ok/failed  ", Number(r.requests_ok), " / ",
                  Number(r.requests_failed), "\n");
  absl::StrAppend(&text, "default          ", Number(r.default_processor.payments), " payments\n");
  absl::StrAppend(&text, "fallback         ", Number(r.fallback_processor.payments), " payments\n");
  return text;
}

std::string ResourcesLines(const std::vector<ServiceResources>& services) {
  constexpr absl::string_view kRow = "%-19s %5s %8s %8s %9s %10s %9s %7s %4s\n";
  std::string text = absl::StrFormat(kRow, "service", "cpus", "limit_MB", "cpu_s", "throttled",
                                     "thr_s", "peak_MB", "failcnt", "oom");
  for (const ServiceResources& s : services) {
    constexpr double kMiB = 1024 * 1024;
    std::optional<double> limit_mb, peak_mb;  // whole MiB down; to a tenth, rounded
    if (s.memory_limit_bytes.has_value()) limit_mb = std::floor(*s.memory_limit_bytes / kMiB);
    if (s.memory_peak_bytes.has_value())
      peak_mb = std::round(*s.memory_peak_bytes / kMiB * 10) / 10;
    absl::StrAppendFormat(&text, kRow, s.name, Cell(s.cpu_limit), Cell(limit_mb), Cell(s.cpu_s),
                          absl::StrCat(Cell(s.nr_throttled), "/", Cell(s.nr_periods)),
                          Cell(s.throttled_s), Cell(peak_mb), Cell(s.memory_failcnt),
                          Cell(s.oom_kills));
  }
  return text;
}

std::string UndecidedLines(const RunData& run) {
  const std::optional<UndecidedPeak> peak = PeakUndecided(run);
  if (!peak.has_value()) return "";
  // Seconds to a tenth.
  const double oldest_s = std::round(peak->oldest_ms / 100) / 10;
  return absl::StrCat("undecided payments (> 30 s): max ", Number(peak->max_count), ", oldest ",
                      Number(oldest_s), " s\n");
}

std::string ProbeLines(const Probe& probe, const RunData& run) {
  const ProbeSummary& s = probe.summary;
  const SlowSeconds slow = CountSlowSecondsInStalls(probe, run);
  return absl::StrFormat(
      "machine          %s of %s s had a wake-up > %g ms late (stall-probe p99 %s ms, max %s ms)\n"
      "                 %d of the load's %d seconds with p99 > %g ms fell in such a second\n",
      Number(s.seconds_with_stall_over_5ms), Number(s.seconds), kProbeStallMs, Number(s.p99_ms),
      Number(s.max_ms), slow.in_stall, slow.slow, kSlowLoadSecondMs);
}

}  // namespace rinha::report
