#include "contest/report/run_data.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rinha::report {
namespace {

// Typed access to one object's fields, naming the field's path in errors. The first error
// sticks; later reads are no-ops, so a struct is filled with straight-line code and checked once.
class ObjectReader {
 public:
  ObjectReader(const Json& json, std::string path) : json_(json), path_(std::move(path)) {
    if (!json.is_object()) Fail("", "expected an object");
  }

  const absl::Status& status() const { return status_; }

  void Number(absl::string_view key, std::optional<double>* out) {
    const Json* field = Get(key);
    if (field == nullptr) return;
    if (!field->is_number()) return Fail(key, "expected a number");
    *out = field->number();
  }
  void Number(absl::string_view key, double* out, bool required = false) {
    std::optional<double> value;
    Number(key, &value);
    if (value.has_value()) {
      *out = *value;
    } else if (required && status_.ok()) {
      Fail(key, "missing");
    }
  }
  void Integer(absl::string_view key, int64_t* out, bool required = false) {
    std::optional<int64_t> value;
    Integer(key, &value);
    if (value.has_value()) {
      *out = *value;
    } else if (required && status_.ok()) {
      Fail(key, "missing");
    }
  }
  void Integer(absl::string_view key, std::optional<int64_t>* out) {
    std::optional<double> value;
    Number(key, &value);
    if (!value.has_value()) return;
    // 2^53: every integer below is exact in a double; ms timestamps and counts fit easily.
    if (*value != std::floor(*value) || std::fabs(*value) > 9007199254740992.0) {
      return Fail(key, "expected an integer");
    }
    *out = static_cast<int64_t>(*value);
  }
  // A fraction written either as a number (0.17) or as percent text ("17%"): both shapes of
  // the contest's p99.bonus exist (the k6 script changed between the preview and the final).
  void Fraction(absl::string_view key, std::optional<double>* out) {
    const Json* field = Get(key);
    if (field == nullptr) return;
    if (field->is_number()) {
      *out = field->number();
      return;
    }
    double percent = 0;
    if (field->is_string() && absl::EndsWith(field->string(), "%") &&
        absl::SimpleAtod(absl::StripSuffix(field->string(), "%"), &percent) &&
        std::isfinite(percent)) {
      *out = percent / 100;
      return;
    }
    Fail(key, "expected a number or percent text (\"17%\")");
  }
  void Bool(absl::string_view key, bool* out) {
    const Json* field = Get(key);
    if (field == nullptr) return;
    if (!field->is_bool()) return Fail(key, "expected true or false");
    *out = field->bool_value();
  }
  void String(absl::string_view key, std::string* out, bool required = false) {
    const Json* field = Get(key);
    if (field == nullptr) {
      if (required && status_.ok()) Fail(key, "missing");
      return;
    }
    if (!field->is_string()) return Fail(key, "expected a string");
    *out = field->string();
  }
  // An array field: nullptr when absent (or missing and required: error).
  const Json* Array(absl::string_view key, bool required = false) {
    const Json* field = Get(key);
    if (field == nullptr) {
      if (required && status_.ok()) Fail(key, "missing");
      return nullptr;
    }
    if (!field->is_array()) {
      Fail(key, "expected an array");
      return nullptr;
    }
    return field;
  }
  // A nested object field, or nullptr when absent.
  const Json* Object(absl::string_view key) {
    const Json* field = Get(key);
    if (field == nullptr) return nullptr;
    if (!field->is_object()) {
      Fail(key, "expected an object");
      return nullptr;
    }
    return field;
  }
  std::string PathOf(absl::string_view key) const {
    return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
  }
  void Merge(const absl::Status& status) {
    if (status_.ok() && !status.ok()) status_ = status;
  }

 private:
  // null counts as absent: writers emit it for "no value this second".
  const Json* Get(absl::string_view key) const {
    if (!status_.ok()) return nullptr;
    const Json* field = json_.Find(key);
    return field == nullptr || field->is_null() ? nullptr : field;
  }
  void Fail(absl::string_view key, absl::string_view reason) {
    if (!status_.ok()) return;
    const std::string where = key.empty() ? path_ : PathOf(key);
    status_ =
        absl::InvalidArgumentError(absl::StrCat(where.empty() ? "top level" : where, ": ", reason));
  }

  const Json& json_;
  std::string path_;
  absl::Status status_;
};

// Reads each element of an array field with `read(element, path)`.
template <typename T, typename ReadOne>
void ReadArray(ObjectReader& reader, absl::string_view key, bool required, std::vector<T>* out,
               ReadOne read) {
  const Json* array = reader.Array(key, required);
  if (array == nullptr) return;
  for (size_t i = 0; i < array->items().size(); ++i) {
    ObjectReader element(array->items()[i], absl::StrCat(reader.PathOf(key), "[", i, "]"));
    T value;
    read(element, &value);
    if (!element.status().ok()) return reader.Merge(element.status());
    out->push_back(std::move(value));
  }
}

void ReadStage(ObjectReader& r, Stage* stage) {
  r.Number("from_s", &stage->from_s, /*required=*/true);
  r.Number("to_s", &stage->to_s, /*required=*/true);
  r.Integer("default_delay_ms", &stage->default_delay_ms);
  r.Bool("default_failing", &stage->default_failing);
  r.Integer("fallback_delay_ms", &stage->fallback_delay_ms);
  r.Bool("fallback_failing", &stage->fallback_failing);
}

void ReadSecond(ObjectReader& r, Second* second) {
  r.Number("t_s", &second->t_s, /*required=*/true);
  r.Number("vus", &second->vus);
  r.Number("requests", &second->requests);
  r.Number("ok", &second->ok);
  r.Number("failed", &second->failed);
  r.Number("p50_ms", &second->p50_ms);
  r.Number("p99_ms", &second->p99_ms);
  r.Number("max_ms", &second->max_ms);
  r.Number("settled_default", &second->settled_default);
  r.Number("settled_fallback", &second->settled_fallback);
  r.Number("router_queued", &second->router_queued);
  r.Number("router_in_flight", &second->router_in_flight);
  r.Number("router_undecided", &second->router_undecided);
  r.Number("router_oldest_undecided_ms", &second->router_oldest_undecided_ms);
}

void ReadAudit(ObjectReader& r, Audit* audit) {
  r.Number("t_s", &audit->t_s, /*required=*/true);
  r.String("from", &audit->from);
  r.String("to", &audit->to);
  r.Integer("ours_default", &audit->ours_default);
  r.Integer("ours_fallback", &audit->ours_fallback);
  r.Integer("default", &audit->processor_default);
  r.Integer("fallback", &audit->processor_fallback);
  r.Integer("inconsistencies", &audit->inconsistencies);
  r.Bool("ok", &audit->ok);
}

void ReadProcessorTotals(ObjectReader& parent, absl::string_view key, ProcessorTotals* totals) {
  const Json* json = parent.Object(key);
  if (json == nullptr) return;
  ObjectReader r(*json, parent.PathOf(key));
  r.Number("total_bruto", &totals->gross);
  r.Number("num_pagamentos", &totals->payments);
  r.Number("total_taxas", &totals->fees);
  parent.Merge(r.status());
}

}  // namespace

absl::StatusOr<RunData> RunDataFromJson(const Json& json) {
  RunData run;
  ObjectReader r(json, "");
  r.String("test", &run.test);
  r.String("timeline", &run.timeline);
  r.Number("duration_s", &run.duration_s);
  r.Integer("max_vus", &run.max_vus);
  r.Integer("started_at_ms", &run.started_at_ms);
  ReadArray(r, "stages", false, &run.stages, ReadStage);
  ReadArray(r, "series", true, &run.series, ReadSecond);
  ReadArray(r, "audits", false, &run.audits, ReadAudit);
  if (const Json* summary = r.Object("summary")) {
    ObjectReader s(*summary, "summary");
    s.Number("p99_ms", &run.summary.p99_ms);
    s.Number("p50_ms", &run.summary.p50_ms);
    s.Number("requests", &run.summary.requests);
    s.Number("failed", &run.summary.failed);
    s.Number("score", &run.summary.score);
    s.Number("ceiling", &run.summary.ceiling);
    s.Number("share_of_ceiling", &run.summary.share_of_ceiling);
    s.Number("inconsistencies", &run.summary.inconsistencies);
    s.Number("lag", &run.summary.lag);
    r.Merge(s.status());
  }
  if (const Json* loadgen = r.Object("loadgen")) {
    ObjectReader l(*loadgen, "loadgen");
    l.Number("cpu_s", &run.loadgen_cpu_s);
    l.Number("max_rss_kb", &run.loadgen_max_rss_kb);
    r.Merge(l.status());
  }
  if (!r.status().ok()) return r.status();
  return run;
}

absl::StatusOr<Results> ResultsFromJson(const Json& json) {
  Results results;
  ObjectReader r(json, "");
  r.Number("score", &results.score);
  r.Number("total_liquido", &results.net);
  r.Number("total_bruto", &results.gross);
  r.Number("total_taxas", &results.fees);
  if (const Json* p99 = r.Object("p99")) {
    ObjectReader p(*p99, "p99");
    p.String("valor", &results.p99);
    p.Fraction("bonus", &results.bonus);
    if (const Json* bonus = p99->Find("bonus"); bonus != nullptr && bonus->is_string()) {
      results.bonus_text = bonus->string();
    }
    r.Merge(p.status());
  }
  if (const Json* fine = r.Object("multa")) {
    ObjectReader m(*fine, "multa");
    m.Fraction("porcentagem", &results.fine_fraction);
    if (const Json* fine_text = fine->Find("porcentagem");
        fine_text != nullptr && fine_text->is_string()) {
      results.fine_text = fine_text->string();
    }
    m.Number("total", &results.fine_total);
    if (const Json* composition = m.Object("composicao")) {
      ObjectReader c(*composition, "multa.composicao");
      c.Number("num_inconsistencias", &results.inconsistencies);
      if (!results.inconsistencies.has_value()) {
        c.Number("total_inconsistencias", &results.inconsistencies);
      }
      m.Merge(c.status());
    }
    r.Merge(m.status());
  }
  if (const Json* lag = r.Object("lag")) {
    ObjectReader l(*lag, "lag");
    l.Number("lag", &results.lag);
    l.Number("num_pagamentos_total", &results.payments_total);
    l.Number("num_pagamentos_solicitados", &results.payments_requested);
    r.Merge(l.status());
  }
  if (const Json* requested = r.Object("pagamentos_solicitados")) {
    ObjectReader p(*requested, "pagamentos_solicitados");
    p.Number("qtd_sucesso", &results.requests_ok);
    p.Number("qtd_falha", &results.requests_failed);
    r.Merge(p.status());
  }
  ReadProcessorTotals(r, "pagamentos_realizados_default", &results.default_processor);
  ReadProcessorTotals(r, "pagamentos_realizados_fallback", &results.fallback_processor);
  if (!r.status().ok()) return r.status();
  return results;
}

absl::StatusOr<std::vector<ServiceResources>> ResourcesFromJson(const Json& json) {
  std::vector<ServiceResources> services;
  ObjectReader r(json, "");
  ReadArray(r, "services", true, &services, [](ObjectReader& s, ServiceResources* service) {
    s.String("name", &service->name, /*required=*/true);
    s.Bool("limited", &service->limited);
    s.Number("cpu_limit", &service->cpu_limit);
    s.Number("memory_limit_bytes", &service->memory_limit_bytes);
    s.Number("cpu_s", &service->cpu_s);
    s.Number("nr_periods", &service->nr_periods);
    s.Number("nr_throttled", &service->nr_throttled);
    s.Number("throttled_s", &service->throttled_s);
    s.Number("memory_peak_bytes", &service->memory_peak_bytes);
    s.Number("memory_failcnt", &service->memory_failcnt);
    s.Number("oom_kills", &service->oom_kills);
  });
  if (!r.status().ok()) return r.status();
  return services;
}

absl::StatusOr<Probe> ProbeFromJson(const Json& json) {
  Probe probe;
  ObjectReader r(json, "");
  r.Integer("period_us", &probe.period_us);
  if (const Json* summary = r.Object("summary")) {
    ObjectReader s(*summary, "summary");
    s.Number("samples", &probe.summary.samples);
    s.Number("p50_ms", &probe.summary.p50_ms);
    s.Number("p99_ms", &probe.summary.p99_ms);
    s.Number("p999_ms", &probe.summary.p999_ms);
    s.Number("max_ms", &probe.summary.max_ms);
    s.Number("seconds", &probe.summary.seconds);
    s.Number("seconds_with_stall_over_5ms", &probe.summary.seconds_with_stall_over_5ms);
    r.Merge(s.status());
  }
  ReadArray(r, "seconds", true, &probe.seconds, [](ObjectReader& s, ProbeSecond* second) {
    s.Integer("t_ms", &second->t_ms, /*required=*/true);
    s.Integer("samples", &second->samples);
    s.Number("max_late_ms", &second->max_late_ms);
    s.Integer("late_over_1ms", &second->late_over_1ms);
    s.Integer("late_over_5ms", &second->late_over_5ms);
  });
  if (!r.status().ok()) return r.status();
  return probe;
}

absl::StatusOr<Probe> PlaceProbeOnRun(Probe probe, const RunData& run) {
  if (!run.started_at_ms.has_value()) {
    return absl::InvalidArgumentError(
        "run.json has no started_at_ms: the probe's seconds cannot be placed on the run");
  }
  double run_s = run.duration_s;
  if (!run.series.empty()) run_s = std::max(run_s, run.series.back().t_s);
  const double start_ms = static_cast<double>(*run.started_at_ms);
  std::vector<ProbeSecond> kept;
  for (ProbeSecond& second : probe.seconds) {
    // Placed at its end, as the load's seconds are; its end must fall inside the run.
    second.t_s = (static_cast<double>(second.t_ms) + 1000 - start_ms) / 1000;
    if (second.t_s > 0 && second.t_s <= run_s) kept.push_back(second);
  }
  probe.seconds = std::move(kept);
  return probe;
}

std::optional<UndecidedPeak> PeakUndecided(const RunData& run) {
  std::optional<UndecidedPeak> peak;
  for (const Second& second : run.series) {
    if (!second.router_undecided.has_value()) continue;
    if (!peak.has_value()) peak.emplace();
    peak->max_count = std::max(peak->max_count, *second.router_undecided);
    peak->oldest_ms = std::max(peak->oldest_ms, second.router_oldest_undecided_ms.value_or(0));
  }
  return peak;
}

SlowSeconds CountSlowSecondsInStalls(const Probe& probe, const RunData& run) {
  SlowSeconds count;
  for (const Second& second : run.series) {
    if (second.p99_ms.value_or(0) <= kSlowLoadSecondMs) continue;
    ++count.slow;
    const bool in_stall =
        std::any_of(probe.seconds.begin(), probe.seconds.end(), [&](const ProbeSecond& p) {
          return p.late_over_5ms > 0 && std::fabs(p.t_s - second.t_s) < 1;
        });
    count.in_stall += in_stall ? 1 : 0;
  }
  return count;
}

absl::StatusOr<Json> ReadJsonFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  absl::StatusOr<Json> json = ParseJson(text.str());
  if (!json.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", json.status().message()));
  }
  return json;
}

}  // namespace rinha::report
