#include "contest/load/run_record.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/json.h"
#include "gtest/gtest.h"

namespace rinha::contest {
namespace {

RunRecord SampleRun() {
  RunRecord run;
  run.test = "final";
  run.timeline = "final";
  run.duration_s = 300;
  run.max_vus = 603;
  run.amount_cents = 2005;
  run.started_at_ms = 1752582896000;
  run.stages = *TimelineByName("final", 300);
  for (int t = 1; t <= 3; ++t) {
    SecondStats s;
    s.t_s = t;
    s.vus = t;
    s.requests = t;
    s.ok = t;
    s.p50_ms = 0.61;
    s.p99_ms = 0.93;
    s.max_ms = 1.2;
    run.series.push_back(s);
  }
  run.has_router_stats = true;
  run.router = {{0, 0, 0, 0, 0, 0, 0, 0},
                {1, 2, 1, 3, 0, 0, 0, 0},
                {2, 0, 0, 5, 1, 0, 3, 41'200},
                {3, 1, 1, 9, 1, 0, 0, 0}};
  AuditRecord a;
  a.t_s = 10;
  a.from_ms = 1752582891000;
  a.to_ms = 1752582904000;
  a.ours_default = 10;
  a.default_requests = 11;
  a.inconsistencies = 1;
  run.audits.push_back(a);
  run.inconsistencies = 1;
  run.requests = 6;
  run.ok = 6;
  run.p99_ms = 2.55;
  run.p50_ms = 0.61;
  run.default_totals = ProcessorTotals{5, 10025, 7, 2};
  run.fallback_totals = ProcessorTotals{1, 2005, 10, 2};
  ScoreInputs in;
  in.default_totals = run.default_totals;
  in.fallback_totals = run.fallback_totals;
  in.p99_ms = run.p99_ms;
  in.inconsistencies = 1;
  in.successes = 6;
  in.amount_cents = run.amount_cents;
  run.score = ComputeScore(in);
  run.loadgen_cpu_s = 1.5;
  run.loadgen_max_rss_kb = 12345;
  return run;
}

// Top-level member -> raw JSON text.
std::map<std::string, std::string> Members(const std::string& json) {
  std::map<std::string, std::string> out;
  absl::Status s = ParseJsonObject(json, [&](std::string_view key, const JsonValue& v) {
    out[std::string(key)] = std::string(v.raw);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s << "\n" << json;
  return out;
}

TEST(FinalResultsJsonTest, HasTheOfficialFieldsAndValues) {
  const RunRecord run = SampleRun();
  const auto m = Members(FinalResultsJson(run, 1752583200000));
  for (const char* key :
       {"timestamp", "participante", "total_liquido", "total_bruto", "total_taxas", "descricao",
        "p99", "multa", "caixa_dois", "lag", "pagamentos_solicitados",
        "pagamentos_realizados_default", "pagamentos_realizados_fallback", "score"}) {
    EXPECT_TRUE(m.count(key)) << key;
  }
  // gross 120.30, fees 7.0175 + 2.005 = 9.0225, net 111.2775 x (1 + 0.17 - 0.35) = 91.24755.
  EXPECT_EQ(m.at("total_bruto"), "120.3");
  EXPECT_EQ(m.at("total_taxas"), "9.0225");
  EXPECT_EQ(m.at("total_liquido"), "91.24755");
  EXPECT_EQ(m.at("score"), "91.24755");
  const auto p99 = Members(m.at("p99"));
  EXPECT_EQ(p99.at("valor"), "\"2.55ms\"");
  EXPECT_EQ(p99.at("bonus"), "\"17%\"");
  EXPECT_EQ(p99.at("max_requests"), "603");
  const auto multa = Members(m.at("multa"));
  EXPECT_EQ(multa.at("porcentagem"), "0.35");
  EXPECT_EQ(Members(multa.at("composicao")).at("num_inconsistencias"), "1");
  const auto lag = Members(m.at("lag"));
  EXPECT_EQ(lag.at("num_pagamentos_total"), "6");
  EXPECT_EQ(lag.at("num_pagamentos_solicitados"), "6");
  EXPECT_EQ(lag.at("lag"), "0");
  const auto def = Members(m.at("pagamentos_realizados_default"));
  EXPECT_EQ(def.at("total_bruto"), "100.25");
  EXPECT_EQ(def.at("num_pagamentos"), "5");
  EXPECT_EQ(def.at("total_taxas"), "7.0175");
  EXPECT_EQ(Members(m.at("pagamentos_solicitados")).at("qtd_falha"), "0");
  // The ceiling is ours: run.json and the closing table, not the official file.
  EXPECT_EQ(m.count("ceiling"), 0u);
  EXPECT_EQ(m.count("share_of_ceiling"), 0u);
}

TEST(RunJsonTest, HasTheAgreedSchema) {
  const RunRecord run = SampleRun();
  const std::string json = RunJson(run);
  const auto m = Members(json);
  for (const char* key : {"test", "timeline", "duration_s", "max_vus", "started_at_ms", "stages",
                          "series", "audits", "summary", "loadgen"}) {
    EXPECT_TRUE(m.count(key)) << key;
  }
  EXPECT_NE(m.at("stages").find(R"({"from_s":1,"to_s":30,"default_delay_ms":0,)"),
            std::string::npos);
  // Per-second router figures are differences of the cumulative counters.
  EXPECT_NE(
      m.at("series").find(
          R"("t_s":2,"vus":2,"requests":2,"ok":2,"failed":0,"p50_ms":0.61,)"
          R"("p99_ms":0.93,"max_ms":1.2,"settled_default":2,)"
          R"("settled_fallback":1,"router_queued":0,"router_in_flight":0,"router_recovering":0,)"
          R"("router_undecided":3,"router_oldest_undecided_ms":41200})"),
      std::string::npos)
      << m.at("series");
  EXPECT_NE(
      m.at("audits").find(R"("from":"2025-07-15T12:34:51.000Z","to":"2025-07-15T12:35:04.000Z")"),
      std::string::npos)
      << m.at("audits");
  const auto summary = Members(m.at("summary"));
  EXPECT_EQ(summary.at("p99_ms"), "2.55");
  EXPECT_EQ(summary.at("inconsistencies"), "1");
  EXPECT_EQ(summary.at("lag"), "0");
  // 6 x 20.05 x 0.93 x 1.20 = 134.2548; 91.24755 of it.
  EXPECT_EQ(summary.at("ceiling"), "134.2548");
  EXPECT_NEAR(std::stod(summary.at("share_of_ceiling")), 91.24755 / 134.2548, 1e-15);
  EXPECT_EQ(Members(m.at("loadgen")).at("max_rss_kb"), "12345");
}

TEST(RunJsonTest, NoShareOfCeilingWithoutASuccessfulPost) {
  RunRecord run = SampleRun();
  run.ok = 0;
  run.score = ComputeScore(ScoreInputs{.default_totals = run.default_totals,
                                       .fallback_totals = run.fallback_totals,
                                       .amount_cents = run.amount_cents});
  const auto summary = Members(Members(RunJson(run)).at("summary"));
  EXPECT_EQ(summary.at("ceiling"), "0");
  EXPECT_EQ(summary.at("share_of_ceiling"), "null");
}

TEST(SummaryTableTest, PrintsTheScoreAsAShareOfTheRunsCeiling) {
  const std::string table = SummaryTable(SampleRun());
  EXPECT_NE(table.find("score (total_liquido)        91.24755 (gross 120.3 - fees 9.0225 = "
                       "111.2775)\n"
                       "share of the run's ceiling   67.97 % of 134.2548 = 6 ok x 20.05 x "
                       "(1 - 0.07) x 1.2\n"),
            std::string::npos)
      << table;
  RunRecord none = SampleRun();
  none.ok = 0;
  none.score = ComputeScore(
      ScoreInputs{.default_totals = none.default_totals, .amount_cents = none.amount_cents});
  EXPECT_NE(SummaryTable(none).find("share of the run's ceiling   n/a (no successful POST)\n"),
            std::string::npos)
      << SummaryTable(none);
}

TEST(RunJsonTest, NoRouterFieldsWithoutRouterStats) {
  RunRecord run = SampleRun();
  run.has_router_stats = false;
  EXPECT_EQ(RunJson(run).find("router_queued"), std::string::npos);
  EXPECT_EQ(RunJson(run).find("router_undecided"), std::string::npos);
  EXPECT_EQ(RunJson(run).find("settled_default"), std::string::npos);
}

TEST(WriteRunFilesTest, WritesBothFiles) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("rinha_load_test_" + std::to_string(getpid())) / "out")
                              .string();
  ASSERT_TRUE(WriteRunFiles(dir, SampleRun(), 1752583200000).ok());
  for (const char* name : {"/final-results.json", "/run.json"}) {
    std::ifstream in(dir + name);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_FALSE(Members(text.str()).empty()) << name;
  }
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

}  // namespace
}  // namespace rinha::contest
