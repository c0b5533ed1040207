// The report's data model: what the load generator (run.json, final-results.json), the runner
// (resources.json) and stall-probe (probe.json) wrote, read into plain structs; field names are
// the writers' (contest/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "contest/report/json_reader.h"

namespace rinha::report {

// One instability stage of the timeline: the processors' configuration during [from_s, to_s).
struct Stage {
  double from_s = 0;
  double to_s = 0;
  int64_t default_delay_ms = 0;
  bool default_failing = false;
  int64_t fallback_delay_ms = 0;
  bool fallback_failing = false;
};

// One second of the run. Optional fields are absent in the file (or null): latencies in a second
// without a successful request, settled counts and router gauges without --router_stats.
struct Second {
  double t_s = 0;
  double vus = 0;
  double requests = 0;
  double ok = 0;
  double failed = 0;
  std::optional<double> p50_ms;
  std::optional<double> p99_ms;
  std::optional<double> max_ms;
  std::optional<double> settled_default;
  std::optional<double> settled_fallback;
  std::optional<double> router_queued;
  std::optional<double> router_in_flight;
  // Payments pending longer than the router's undecided bound (30 s by default), and the age of
  // the oldest of them in ms (0: none).
  std::optional<double> router_undecided;
  std::optional<double> router_oldest_undecided_ms;
};

struct Audit {
  double t_s = 0;
  std::string from;
  std::string to;
  int64_t ours_default = 0;
  int64_t ours_fallback = 0;
  int64_t processor_default = 0;   // "default"
  int64_t processor_fallback = 0;  // "fallback"
  int64_t inconsistencies = 0;
  bool ok = true;
};

struct RunSummary {
  std::optional<double> p99_ms;
  std::optional<double> p50_ms;
  std::optional<double> requests;
  std::optional<double> failed;
  std::optional<double> score;
  // The run's ceiling (every successful POST at the default's fee, bonus 20 %, no fine) and the
  // score's share of it as a fraction; absent from older files, the share null without a
  // successful POST.
  std::optional<double> ceiling;
  std::optional<double> share_of_ceiling;
  std::optional<double> inconsistencies;
  std::optional<double> lag;
};

// run.json.
struct RunData {
  std::string test;
  std::string timeline;
  double duration_s = 0;
  int64_t max_vus = 0;
  std::optional<int64_t> started_at_ms;
  std::vector<Stage> stages;
  std::vector<Second> series;
  std::vector<Audit> audits;
  RunSummary summary;
  std::optional<double> loadgen_cpu_s;
  std::optional<double> loadgen_max_rss_kb;
};

struct ProcessorTotals {
  std::optional<double> gross;     // total_bruto
  std::optional<double> payments;  // num_pagamentos
  std::optional<double> fees;      // total_taxas
};

// final-results.json: the contest's field names, every field optional (a partial file still
// gives a useful picture).
struct Results {
  std::optional<double> score;
  std::optional<double> net;            // total_liquido
  std::optional<double> gross;          // total_bruto
  std::optional<double> fees;           // total_taxas
  std::string p99;                      // p99.valor, e.g. "2.55ms"
  std::optional<double> bonus;          // p99.bonus: 0.17 or "17%", read as 0.17
  std::optional<double> fine_fraction;  // multa.porcentagem: 0.35 or "35%"
  // The two above as the file writes them when it writes text ("17%", rinha-load's bonus), so
  // that the runner's score lines repeat the file; empty when the file holds a number.
  std::string bonus_text;
  std::string fine_text;
  std::optional<double> fine_total;  // multa.total
  // multa.composicao.num_inconsistencias (final) or total_inconsistencias (preview).
  std::optional<double> inconsistencies;
  std::optional<double> lag;                 // lag.lag
  std::optional<double> payments_total;      // lag.num_pagamentos_total
  std::optional<double> payments_requested;  // lag.num_pagamentos_solicitados
  std::optional<double> requests_ok;         // pagamentos_solicitados.qtd_sucesso
  std::optional<double> requests_failed;     // pagamentos_solicitados.qtd_falha
  ProcessorTotals default_processor;         // pagamentos_realizados_default
  ProcessorTotals fallback_processor;        // pagamentos_realizados_fallback
};

// One service of resources.json (cgroup figures over the run).
struct ServiceResources {
  std::string name;
  // false for what runs beside the stack without limits (processors, load generator): shown,
  // but left out of the totals that are compared with the contest's 1.5 CPU / 350 MB.
  bool limited = true;
  std::optional<double> cpu_limit;  // cores
  std::optional<double> memory_limit_bytes;
  std::optional<double> cpu_s;
  std::optional<double> nr_periods;
  std::optional<double> nr_throttled;
  std::optional<double> throttled_s;
  std::optional<double> memory_peak_bytes;
  std::optional<double> memory_failcnt;
  std::optional<double> oom_kills;
};

// How late a wake-up must be to count as a stall: stall-probe's late_over_5ms and
// seconds_with_stall_over_5ms (contest/runner/stall_probe.h).
inline constexpr double kProbeStallMs = 5;

// One wall-clock second of stall-probe's wake-ups (contest/runner/stall_probe.h).
struct ProbeSecond {
  int64_t t_ms = 0;  // Unix time of the second's start
  // On the run's axis as RunData::series' t_s is: the end of the second, in seconds since
  // started_at_ms (load second t covers [t - 1, t) s). Set by PlaceProbeOnRun.
  double t_s = 0;
  int64_t samples = 0;
  double max_late_ms = 0;
  int64_t late_over_1ms = 0;
  int64_t late_over_5ms = 0;
};

struct ProbeSummary {
  std::optional<double> samples;
  std::optional<double> p50_ms;
  std::optional<double> p99_ms;
  std::optional<double> p999_ms;
  std::optional<double> max_ms;
  std::optional<double> seconds;
  std::optional<double> seconds_with_stall_over_5ms;
};

// probe.json: how late a 1 ms sleeper woke up on the machine during the run.
struct Probe {
  std::optional<int64_t> period_us;
  ProbeSummary summary;  // over the probe's whole life, which brackets the run
  std::vector<ProbeSecond> seconds;
};

// Everything one report draws.
struct ReportInput {
  RunData run;
  Results results;
  std::optional<std::vector<ServiceResources>> resources;  // absent without --resources
  std::optional<Probe> probe;                              // absent without --probe
};

// Each returns InvalidArgument naming the offending field ("series[3].t_s: expected a number")
// when a present field has the wrong type or a required one is missing. Required: run.json's
// "series" and each element's "t_s", each stage's "from_s"/"to_s", each audit's "t_s"; each
// service's "name"; probe.json's "seconds" and each element's "t_ms". Unknown fields are ignored
// (the writers may add more).
absl::StatusOr<RunData> RunDataFromJson(const Json& json);
absl::StatusOr<Results> ResultsFromJson(const Json& json);
absl::StatusOr<std::vector<ServiceResources>> ResourcesFromJson(const Json& json);
absl::StatusOr<Probe> ProbeFromJson(const Json& json);

// The probe's seconds on the run's time axis: sets each second's t_s and keeps only the seconds
// whose end falls in the run, (started_at_ms, started_at_ms + max(duration_s, last series t_s) s]
// (the probe starts before and stops after the load). Probe seconds start on whole wall-clock
// seconds and load seconds at started_at_ms, so a probe second's t_s is fractional in general.
// InvalidArgument when run.json has no started_at_ms (nothing to align with).
absl::StatusOr<Probe> PlaceProbeOnRun(Probe probe, const RunData& run);

// The most undecided payments the router had in one second of the run, and the oldest age one
// reached, over the seconds that have the series; absent without router_undecided.
struct UndecidedPeak {
  double max_count = 0;
  double oldest_ms = 0;
};
std::optional<UndecidedPeak> PeakUndecided(const RunData& run);

// A load second whose p99 is above this is slow, when the load is set beside the machine's stalls
// (report.html's machine table and the runner's summary line).
inline constexpr double kSlowLoadSecondMs = 3;

struct SlowSeconds {
  int64_t slow = 0;      // load seconds with p99 > kSlowLoadSecondMs
  int64_t in_stall = 0;  // of which overlap a probe second with a stall (kProbeStallMs)
};
// `probe` placed on `run` (PlaceProbeOnRun). A load second ends at its t_s and a probe second at
// its own, so the two overlap when their ends are less than a second apart.
SlowSeconds CountSlowSecondsInStalls(const Probe& probe, const RunData& run);

// Reads and parses a file; errors name the path.
absl::StatusOr<Json> ReadJsonFile(const std::string& path);

// Reads a file and converts it with one of the *FromJson functions above; errors name the path.
template <typename T>
absl::StatusOr<T> ReadFileAs(const std::string& path,
                             absl::StatusOr<T> (*from_json)(const Json& json)) {
  absl::StatusOr<Json> json = ReadJsonFile(path);
  if (!json.ok()) return json.status();
  absl::StatusOr<T> value = from_json(*json);
  if (!value.ok()) {
    return absl::InvalidArgumentError(path + ": " + std::string(value.status().message()));
  }
  return value;
}

}  // namespace rinha::report
