#include "contest/load/run_record.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/iso_time.h"
#include "common/json.h"

namespace rinha::contest {
namespace {

// Shortest round-trip text of a double, as JavaScript prints numbers.
std::string Num(double value) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return "0";
  return std::string(buf, static_cast<size_t>(end - buf));
}

// Milliseconds rounded to the microsecond for the series (the report needs no more).
std::string Ms(double ms) { return Num(static_cast<double>(std::llround(ms * 1000)) / 1000); }

std::string CentiMs(int64_t centi) { return Decimal{centi, 2}.ToString(); }

void ProcessorBlock(JsonWriter& w, const char* key, const ProcessorTotals& t, const Decimal& fees,
                    const char* description) {
  w.Key(key).BeginObject();
  w.Key("total_bruto").Raw(Decimal{t.amount_cents, 2}.ToString());
  w.Key("num_pagamentos").Int(t.requests);
  w.Key("total_taxas").Raw(fees.ToString());
  w.Key("descricao").String(description);
  w.EndObject();
}

// `key`: [...] with one object per item, its members written by write(writer, item). JsonWriter
// has no arrays: the brackets and commas are written here.
template <typename T, typename WriteMembers>
void ObjectArray(JsonWriter& w, std::string* out, const char* key, const std::vector<T>& items,
                 WriteMembers write) {
  w.Key(key).Raw("[");
  bool first = true;
  for (const T& item : items) {
    if (!first) out->push_back(',');
    first = false;
    JsonWriter item_writer(out);
    item_writer.BeginObject();
    write(item_writer, item);
    item_writer.EndObject();
  }
  out->push_back(']');
}

}  // namespace

std::string FinalResultsJson(const RunRecord& run, int64_t now_ms) {
  const Score& s = run.score;
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("timestamp").IsoMillis(now_ms);
  w.Key("participante").String("local");
  w.Key("total_liquido").Raw(s.total_liquido.ToString());
  w.Key("total_bruto").Raw(s.gross.ToString());
  w.Key("total_taxas").Raw(s.fees.ToString());
  w.Key("descricao")
      .String(
          "'total_liquido' é sua pontuação final. Equivale ao seu lucro. Fórmula: total_liquido + "
          "(total_liquido * p99.bonus) - (total_liquido * multa.porcentagem)");
  w.Key("p99").BeginObject();
  w.Key("valor").String(absl::StrCat(CentiMs(s.p99_centi_ms), "ms"));
  w.Key("bonus").String(absl::StrCat(s.bonus_percent, "%"));
  w.Key("max_requests").Int(run.max_vus);
  w.Key("descricao").String("Fórmula para o bônus: max((11 - p99.valor) * 0.02, 0)");
  w.EndObject();
  w.Key("multa").BeginObject();
  w.Key("porcentagem").Raw(Decimal{s.fine_percent, 2}.ToString());
  w.Key("total").Raw(s.fine_total.ToString());
  w.Key("composicao").BeginObject();
  w.Key("num_inconsistencias").Int(run.inconsistencies);
  w.Key("descricao").String("Se 'num_inconsistencias' > 0, há multa de 35%.");
  w.EndObject();
  w.EndObject();
  w.Key("caixa_dois").BeginObject();
  w.Key("detectado").Bool(s.lag < 0);
  w.Key("descricao")
      .String(
          "Se 'lag' for negativo, significa que seu backend registrou mais pagamentos do que "
          "solicitado, automaticamente desclassificando sua submissão!");
  w.EndObject();
  w.Key("lag").BeginObject();
  w.Key("num_pagamentos_total").Int(s.payments_held);
  w.Key("num_pagamentos_solicitados").Int(run.ok);
  w.Key("lag").Int(s.lag);
  w.Key("descricao")
      .String(
          "Lag é a diferença entre a quantidade de solicitações de pagamentos e o que foi "
          "realmente "
          "computado pelo backend. Mostra a perda de pagamentos possivelmente por estarem "
          "enfileirados.");
  w.EndObject();
  w.Key("pagamentos_solicitados").BeginObject();
  w.Key("qtd_sucesso").Int(run.ok);
  w.Key("qtd_falha").Int(run.failed);
  w.Key("descricao")
      .String(
          "'qtd_sucesso' foram requests bem sucedidos para 'POST /payments' e 'qtd_falha' os "
          "requests "
          "com erro.");
  w.EndObject();
  ProcessorBlock(w, "pagamentos_realizados_default", run.default_totals, s.default_fees,
                 "Informações do backend sobre solicitações de pagamento para o Payment "
                 "Processor Default.");
  ProcessorBlock(w, "pagamentos_realizados_fallback", run.fallback_totals, s.fallback_fees,
                 "Informações do backend sobre solicitações de pagamento para o Payment "
                 "Processor Fallback.");
  w.Key("score").Raw(Num(s.total_liquido.ToDouble()));
  w.EndObject();
  out.push_back('\n');
  return out;
}

std::string RunJson(const RunRecord& run) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("test").String(run.test);
  w.Key("timeline").String(run.timeline);
  w.Key("duration_s").Int(run.duration_s);
  w.Key("max_vus").Int(run.max_vus);
  w.Key("started_at_ms").Int(run.started_at_ms);
  ObjectArray(w, &out, "stages", run.stages, [](JsonWriter& sw, const Stage& st) {
    sw.Key("from_s").Raw(Num(static_cast<double>(st.from_ms) / 1000));
    sw.Key("to_s").Raw(Num(static_cast<double>(st.to_ms) / 1000));
    sw.Key("default_delay_ms").Int(st.default_delay_ms);
    sw.Key("default_failing").Bool(st.default_failing);
    sw.Key("fallback_delay_ms").Int(st.fallback_delay_ms);
    sw.Key("fallback_failing").Bool(st.fallback_failing);
  });
  size_t r = 0;  // router samples are ascending in t_s, as the series
  const RouterSample* previous = nullptr;
  ObjectArray(w, &out, "series", run.series, [&](JsonWriter& sw, const SecondStats& sec) {
    sw.Key("t_s").Int(sec.t_s);
    sw.Key("vus").Int(sec.vus);
    sw.Key("requests").Int(sec.requests);
    sw.Key("ok").Int(sec.ok);
    sw.Key("failed").Int(sec.failed);
    sw.Key("p50_ms").Raw(Ms(sec.p50_ms));
    sw.Key("p99_ms").Raw(Ms(sec.p99_ms));
    sw.Key("max_ms").Raw(Ms(sec.max_ms));
    if (!run.has_router_stats) return;
    while (r < run.router.size() && run.router[r].t_s < sec.t_s) previous = &run.router[r++];
    if (r == run.router.size() || run.router[r].t_s != sec.t_s) return;  // that poll failed
    const RouterSample& now = run.router[r];
    const RouterSample& base = previous != nullptr ? *previous : now;
    sw.Key("settled_default").Int(now.settled_default - base.settled_default);
    sw.Key("settled_fallback").Int(now.settled_fallback - base.settled_fallback);
    sw.Key("router_queued").Int(now.queued);
    sw.Key("router_in_flight").Int(now.in_flight);
    sw.Key("router_recovering").Int(now.recovering);
    sw.Key("router_undecided").Int(now.undecided);
    sw.Key("router_oldest_undecided_ms").Int(now.oldest_undecided_ms);
  });
  ObjectArray(w, &out, "audits", run.audits, [](JsonWriter& aw, const AuditRecord& a) {
    aw.Key("t_s").Int(a.t_s);
    aw.Key("from").IsoMillis(a.from_ms);
    aw.Key("to").IsoMillis(a.to_ms);
    aw.Key("ours_default").Int(a.ours_default);
    aw.Key("ours_fallback").Int(a.ours_fallback);
    aw.Key("default").Int(a.default_requests);
    aw.Key("fallback").Int(a.fallback_requests);
    aw.Key("inconsistencies").Int(a.inconsistencies);
    aw.Key("ok").Bool(a.ok);
  });
  w.Key("summary").BeginObject();
  w.Key("p99_ms").Raw(Ms(run.p99_ms));
  w.Key("p50_ms").Raw(Ms(run.p50_ms));
  w.Key("requests").Int(run.requests);
  w.Key("failed").Int(run.failed);
  w.Key("timeouts").Int(run.timeouts);
  w.Key("score").Raw(Num(run.score.total_liquido.ToDouble()));
  w.Key("ceiling").Raw(Num(run.score.ceiling.ToDouble()));
  const std::optional<double> share = ShareOfCeiling(run.score);
  w.Key("share_of_ceiling").Raw(share.has_value() ? Num(*share) : "null");
  w.Key("inconsistencies").Int(run.inconsistencies);
  w.Key("lag").Int(run.score.lag);
  w.EndObject();
  w.Key("loadgen").BeginObject();
  w.Key("cpu_s").Raw(Ms(run.loadgen_cpu_s));
  w.Key("max_rss_kb").Int(run.loadgen_max_rss_kb);
  w.EndObject();
  w.EndObject();
  out.push_back('\n');
  return out;
}

std::string SummaryTable(const RunRecord& run) {
  const Score& s = run.score;
  std::string t;
  absl::StrAppendFormat(&t, "%-28s %s / %s, %lld s, %d VUs\n", "test / timeline", run.test,
                        run.timeline, static_cast<long long>(run.duration_s), run.max_vus);
  absl::StrAppendFormat(&t, "%-28s %lld (ok %lld, failed %lld, of which timeouts %lld)\n",
                        "POST /payments", static_cast<long long>(run.requests),
                        static_cast<long long>(run.ok), static_cast<long long>(run.failed),
                        static_cast<long long>(run.timeouts));
  absl::StrAppendFormat(&t, "%-28s p50 %.3f ms, p99 %.3f ms (scored %s ms, bonus %d%%)\n",
                        "latency", run.p50_ms, run.p99_ms, CentiMs(s.p99_centi_ms),
                        s.bonus_percent);
  absl::StrAppendFormat(&t, "%-28s %lld payments, %s gross, %s fees\n", "default processor",
                        static_cast<long long>(run.default_totals.requests),
                        Decimal{run.default_totals.amount_cents, 2}.ToString(),
                        s.default_fees.ToString());
  absl::StrAppendFormat(&t, "%-28s %lld payments, %s gross, %s fees\n", "fallback processor",
                        static_cast<long long>(run.fallback_totals.requests),
                        Decimal{run.fallback_totals.amount_cents, 2}.ToString(),
                        s.fallback_fees.ToString());
  absl::StrAppendFormat(&t, "%-28s %lld in %zu audits (fine %d%%)\n", "inconsistencies",
                        static_cast<long long>(run.inconsistencies), run.audits.size(),
                        s.fine_percent);
  absl::StrAppendFormat(&t, "%-28s %lld (held %lld of %lld successful POSTs)%s\n", "lag",
                        static_cast<long long>(s.lag), static_cast<long long>(s.payments_held),
                        static_cast<long long>(run.ok), s.lag < 0 ? "  CAIXA DOIS" : "");
  absl::StrAppendFormat(&t, "%-28s %s (gross %s - fees %s = %s)\n", "score (total_liquido)",
                        s.total_liquido.ToString(), s.gross.ToString(), s.fees.ToString(),
                        s.net.ToString());
  if (const std::optional<double> share = ShareOfCeiling(s)) {
    // The default's rate as its summary gave it (0.07 -> "0.07").
    const Decimal rate{run.default_totals.rate_units, run.default_totals.rate_scale};
    absl::StrAppendFormat(&t, "%-28s %.2f %% of %s = %lld ok x %s x (1 - %s) x %s\n",
                          "share of the run's ceiling", *share * 100, s.ceiling.ToString(),
                          static_cast<long long>(run.ok), Decimal{run.amount_cents, 2}.ToString(),
                          rate.ToString(),
                          Decimal{100 + BonusPercent(kCeilingP99CentiMs), 2}.ToString());
  } else {
    absl::StrAppendFormat(&t, "%-28s n/a (no successful POST)\n", "share of the run's ceiling");
  }
  absl::StrAppendFormat(&t, "%-28s %.2f s CPU, %lld KiB max RSS\n", "load generator",
                        run.loadgen_cpu_s, static_cast<long long>(run.loadgen_max_rss_kb));
  return t;
}

absl::Status WriteRunFiles(const std::string& dir, const RunRecord& run, int64_t now_ms) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  const std::pair<std::string, std::string> files[] = {
      {dir + "/final-results.json", FinalResultsJson(run, now_ms)},
      {dir + "/run.json", RunJson(run)},
  };
  for (const auto& [path, text] : files) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace rinha::contest
