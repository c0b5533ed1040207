// rinha-check: after a contest run (typically one with a fault injected), waits until the system
// is quiet, then checks the fate of every payment: the load's request log against what each
// processor holds (our emulator's GET /admin/payments/ids?with=inserted_at) and what the ledger
// recorded (Ledger/List), and how long after a processor held each payment the ledger recorded
// it (record lag; with --ready_at_s also how long after the faulted service was back the ledger
// held everything the processors held then). Prints one line and writes OUT/check.json; exits 1
// when a payment answered 2xx was lost, one was paid twice, or the ledger differs from the
// processors.
//
//   rinha-check --run_dir=OUT --ledger=unix:/path/ledger.sock [--router=unix:/path/router.sock]
//               [--default_processor=URL --fallback_processor=URL --admin_token=123]
//               [--fault_at_s=S --ready_at_s=S] [--quiet_timeout_s=120] [--target=URL]
// With router shards, --ledger and --router list every shard's (comma-separated): the ledgers
// hold disjoint sets of payments and are read as one. --target also compares our API's
// GET /payments-summary, once quiet, with the processors' (summary_exact).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/json.h"
#include "common/shard.h"
#include "contest/load/contest_http.h"
#include "contest/load/settlement_check.h"
#include "contest/report/run_data.h"
#include "payments.grpc.pb.h"

ABSL_FLAG(std::string, run_dir, "", "the run's output directory (requests.log, run.json)");
ABSL_FLAG(std::string, ledger, "",
          "gRPC target of the ledger; with router shards, every shard's ledger, comma-separated");
ABSL_FLAG(std::string, router, "",
          "gRPC target of the router (Stats), to wait for its queue; with router shards, every "
          "shard's router, comma-separated");
ABSL_FLAG(std::string, target, "",
          "our API (the load balancer, http://host:port): once quiet, its GET /payments-summary "
          "must equal the processors' admin summaries, requests and amounts (empty: not asked)");
ABSL_FLAG(std::string, default_processor, "http://127.0.0.1:8001", "default processor");
ABSL_FLAG(std::string, fallback_processor, "http://127.0.0.1:8002", "fallback processor");
ABSL_FLAG(std::string, admin_token, "123", "X-Rinha-Token of the processors' admin endpoints");
ABSL_FLAG(double, fault_at_s, -1, "seconds into the load when the fault began (-1: none)");
ABSL_FLAG(double, ready_at_s, -1,
          "seconds into the load when the service was back (the load's start: run.json's "
          "started_at_ms)");
ABSL_FLAG(int, quiet_timeout_s, 120, "how long to wait for the system to be quiet");

namespace {

using rinha::contest::CheckSettlements;
using rinha::contest::ContestHttp;
using rinha::contest::Holdings;
using rinha::contest::LedgerProcessor;
using rinha::contest::LoggedRequest;
using rinha::contest::MeasureRecordLag;
using rinha::contest::P99InWindowMs;
using rinha::contest::Processor;
using rinha::contest::RecordLag;
using rinha::contest::SettlementCheck;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Quiet {
  bool reached = false;
  double after_s = 0;            // since this tool started waiting
  int64_t inconsistencies = 0;   // |ours - processors| per processor, summed, at the end
  int64_t router_recovered = 0;  // payments the router took over from an earlier run
};

// Counts held by the processors and by the ledger (whole history), and the router's queue.
struct Snapshot {
  bool ok = false;
  int64_t proc[2] = {0, 0};
  int64_t ours[2] = {0, 0};
  int64_t router_pending = 0;
  int64_t router_recovered = 0;
};

using Ledgers = std::vector<std::unique_ptr<rinha::v1::Ledger::Stub>>;
using Routers = std::vector<std::unique_ptr<rinha::v1::Router::Stub>>;

constexpr int64_t kYear2100Ms = 4'102'444'800'000;

// Every shard's ledger and router add up (each holds its own payments).
Snapshot Take(const ContestHttp& http, const Ledgers& ledgers, const Routers& routers) {
  Snapshot s;
  for (Processor p : {Processor::kDefault, Processor::kFallback}) {
    auto totals = http.ProcessorSummary(p, 0, kYear2100Ms);
    if (!totals.ok()) return s;
    s.proc[p == Processor::kDefault ? 0 : 1] = totals->requests;
  }
  for (const auto& ledger : ledgers) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    rinha::v1::SummaryResponse summary;
    if (!ledger->Summary(&context, rinha::v1::SummaryRequest(), &summary).ok()) return s;
    s.ours[0] += summary.default_totals().total_requests();
    s.ours[1] += summary.fallback_totals().total_requests();
  }
  for (const auto& router : routers) {
    grpc::ClientContext rc;
    rc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    rinha::v1::RouterStatsResponse stats;
    if (!router->Stats(&rc, rinha::v1::RouterStatsRequest(), &stats).ok()) return s;
    s.router_pending += stats.queued() + stats.in_flight() + stats.unsettled() + stats.recovering();
    s.router_recovered += stats.recovered_total();
  }
  s.ok = true;
  return s;
}

Quiet WaitForQuiet(const ContestHttp& http, const Ledgers& ledgers, const Routers& routers,
                   int timeout_s) {
  Quiet quiet;
  const absl::Time start = absl::Now();
  int calm = 0;
  Snapshot last;
  while (absl::Now() - start < absl::Seconds(timeout_s)) {
    last = Take(http, ledgers, routers);
    const bool calm_now = last.ok && last.router_pending == 0 && last.proc[0] == last.ours[0] &&
                          last.proc[1] == last.ours[1];
    calm = calm_now ? calm + 1 : 0;
    if (calm >= 2) {
      quiet.reached = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  quiet.after_s = absl::ToDoubleSeconds(absl::Now() - start);
  quiet.inconsistencies =
      std::llabs(last.proc[0] - last.ours[0]) + std::llabs(last.proc[1] - last.ours[1]);
  quiet.router_recovered = last.router_recovered;
  return quiet;
}

// Our API's summary against the processors', requests and amounts: "" when equal, else what
// differs.
std::string CompareTargetSummary(const ContestHttp& http) {
  absl::StatusOr<rinha::contest::BackendSummary> ours = http.TargetSummary(0, kYear2100Ms);
  if (!ours.ok()) return absl::StrCat("GET /payments-summary: ", ours.status().message());
  auto d = http.ProcessorSummary(Processor::kDefault, 0, kYear2100Ms);
  auto f = http.ProcessorSummary(Processor::kFallback, 0, kYear2100Ms);
  if (!d.ok() || !f.ok()) return "a processor's admin summary failed";
  if (ours->default_requests == d->requests && ours->default_amount_cents == d->amount_cents &&
      ours->fallback_requests == f->requests && ours->fallback_amount_cents == f->amount_cents) {
    return "";
  }
  return absl::StrFormat(
      "ours default %d / %d cents, fallback %d / %d cents; processors default %d / %d cents, "
      "fallback %d / %d cents",
      ours->default_requests, ours->default_amount_cents, ours->fallback_requests,
      ours->fallback_amount_cents, d->requests, d->amount_cents, f->requests, f->amount_cents);
}

absl::Status ReadHoldings(const ContestHttp& http, const Ledgers& ledgers, Holdings* holdings) {
  for (Processor p : {Processor::kDefault, Processor::kFallback}) {
    absl::StatusOr<std::string> body = http.ProcessorIdsJson(p);
    if (!body.ok()) return body.status();
    absl::StatusOr<std::vector<rinha::contest::HeldPayment>> held =
        rinha::contest::ParseProcessorIds(*body);
    if (!held.ok()) return held.status();
    const LedgerProcessor side =
        p == Processor::kDefault ? LedgerProcessor::kDefault : LedgerProcessor::kFallback;
    for (const auto& h : *held) holdings->Hold(h.id, side, h.inserted_at_ms);
  }
  for (const auto& ledger : ledgers) {
    std::string after;
    for (;;) {
      rinha::v1::ListRequest request;
      request.set_after_correlation_id(after);
      rinha::v1::ListResponse page;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      const grpc::Status status = ledger->List(&context, request, &page);
      if (!status.ok()) return absl::UnavailableError("Ledger/List: " + status.error_message());
      for (const auto& s : page.settlements()) {
        holdings->Record(s.correlation_id(),
                         s.processor() == rinha::v1::PROCESSOR_DEFAULT ? LedgerProcessor::kDefault
                                                                       : LedgerProcessor::kFallback,
                         s.recorded_at_ms());
      }
      if (!page.more() || page.settlements_size() == 0) break;
      after = page.settlements(page.settlements_size() - 1).correlation_id();
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_run_dir);
  if (dir.empty() || absl::GetFlag(FLAGS_ledger).empty()) {
    std::fprintf(stderr, "rinha-check: --run_dir and --ledger are required\n");
    return 2;
  }
  absl::StatusOr<std::vector<LoggedRequest>> requests =
      rinha::contest::ParseRequestLog(ReadFile(dir + "/requests.log"));
  if (!requests.ok() || requests->empty()) {
    std::fprintf(stderr, "rinha-check: %s/requests.log: %s\n", dir.c_str(),
                 requests.ok() ? "empty" : std::string(requests.status().message()).c_str());
    return 2;
  }
  auto d = rinha::contest::ParseEndpoint(absl::GetFlag(FLAGS_default_processor));
  auto f = rinha::contest::ParseEndpoint(absl::GetFlag(FLAGS_fallback_processor));
  if (!d.ok() || !f.ok()) {
    std::fprintf(stderr, "rinha-check: bad processor URL\n");
    return 2;
  }
  const std::string target_url = absl::GetFlag(FLAGS_target);
  absl::StatusOr<rinha::contest::HttpEndpoint> target =
      target_url.empty() ? d : rinha::contest::ParseEndpoint(target_url);
  if (!target.ok()) {
    std::fprintf(stderr, "rinha-check: bad --target URL\n");
    return 2;
  }
  const ContestHttp http(*target, *d, *f, absl::GetFlag(FLAGS_admin_token), 5000, 10000);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto ledger_targets = rinha::ParseTargetList(absl::GetFlag(FLAGS_ledger));
  if (!ledger_targets.ok()) {
    std::fprintf(stderr, "rinha-check: --ledger: %s\n",
                 std::string(ledger_targets.status().message()).c_str());
    return 2;
  }
  Ledgers ledgers;
  for (const std::string& t : *ledger_targets) {
    ledgers.push_back(rinha::v1::Ledger::NewStub(
        grpc::CreateCustomChannel(t, grpc::InsecureChannelCredentials(), args)));
  }
  Routers routers;
  if (!absl::GetFlag(FLAGS_router).empty()) {
    auto router_targets = rinha::ParseTargetList(absl::GetFlag(FLAGS_router));
    if (!router_targets.ok()) {
      std::fprintf(stderr, "rinha-check: --router: %s\n",
                   std::string(router_targets.status().message()).c_str());
      return 2;
    }
    for (const std::string& t : *router_targets) {
      routers.push_back(
          rinha::v1::Router::NewStub(grpc::CreateChannel(t, grpc::InsecureChannelCredentials())));
    }
  }

  const Quiet quiet = WaitForQuiet(http, ledgers, routers, absl::GetFlag(FLAGS_quiet_timeout_s));
  // Asked once quiet: what the contest's audit would read now.
  const std::string summary_difference = target_url.empty() ? "" : CompareTargetSummary(http);
  const bool summary_exact = summary_difference.empty();
  if (!summary_exact) {
    std::fprintf(stderr, "rinha-check: summary: %s\n", summary_difference.c_str());
  }
  Holdings holdings;
  if (absl::Status s = ReadHoldings(http, ledgers, &holdings); !s.ok()) {
    std::fprintf(stderr, "rinha-check: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  const SettlementCheck check = CheckSettlements(*requests, holdings);

  // The fault's times are seconds since the load began: run.json's started_at_ms on the wall
  // clock, which the processors' insertedAtMs and the ledger's recorded_at_ms also read.
  const double fault_at = absl::GetFlag(FLAGS_fault_at_s);
  const double ready_at = absl::GetFlag(FLAGS_ready_at_s);
  std::optional<int64_t> ready_wall_ms;
  if (ready_at >= 0) {
    auto run = rinha::report::ReadFileAs(dir + "/run.json", rinha::report::RunDataFromJson);
    if (run.ok() && run->started_at_ms.has_value()) {
      ready_wall_ms = *run->started_at_ms + std::llround(ready_at * 1000);
    } else {
      std::fprintf(stderr, "rinha-check: no started_at_ms in %s/run.json (%s): no catch-up time\n",
                   dir.c_str(), run.ok() ? "absent" : std::string(run.status().message()).c_str());
    }
  }
  const RecordLag lag = MeasureRecordLag(holdings, ready_wall_ms);

  // Latency around the fault: from the kill until 5 s after the service was back, against the
  // window of the same length just before the kill (same run, same load level give or take).
  double p99_during = 0, p99_before = 0;
  int64_t n_during = 0, n_before = 0;
  if (fault_at >= 0) {
    const int64_t from = static_cast<int64_t>(fault_at * 1e6);
    const int64_t to = static_cast<int64_t>((std::max(ready_at, fault_at) + 5) * 1e6);
    p99_during = P99InWindowMs(*requests, from, to, &n_during);
    p99_before = P99InWindowMs(*requests, std::max<int64_t>(0, 2 * from - to), from, &n_before);
  }
  int64_t failed_during = 0;
  for (const LoggedRequest& r : *requests) {
    if (!r.ok() && fault_at >= 0 && r.start_us >= fault_at * 1e6 &&
        r.start_us < (std::max(ready_at, fault_at) + 5) * 1e6) {
      ++failed_during;
    }
  }

  std::string json;
  rinha::JsonWriter w(&json);
  w.BeginObject()
      .Key("requests")
      .Int(check.requests)
      .Key("answered_2xx")
      .Int(check.answered_2xx)
      .Key("settled")
      .Int(check.settled)
      .Key("lost")
      .Int(check.lost)
      .Key("paid_twice")
      .Int(check.paid_twice)
      .Key("paid_twice_recorded")
      .Int(check.paid_twice_recorded)
      .Key("unrecorded")
      .Int(check.unrecorded)
      .Key("recorded_unpaid")
      .Int(check.recorded_unpaid)
      .Key("paid_client_failed")
      .Int(check.paid_client_failed)
      .Key("foreign")
      .Int(check.foreign)
      .Key("record_lag_samples")
      .Int(lag.samples)
      .Key("record_lag_p50_ms")
      .Int(lag.p50_ms)
      .Key("record_lag_p99_ms")
      .Int(lag.p99_ms)
      .Key("record_lag_max_ms")
      .Int(lag.max_ms)
      .Key("held_at_ready")
      .Raw(lag.has_ready ? absl::StrCat(lag.held_at_ready) : "null")
      .Key("held_at_ready_unrecorded")
      .Raw(lag.has_ready ? absl::StrCat(lag.held_at_ready_unrecorded) : "null")
      .Key("recorded_after_ready_max_ms")
      .Raw(lag.has_ready ? absl::StrCat(lag.recorded_after_ready_max_ms) : "null")
      .Key("quiet")
      .Raw(quiet.reached ? "true" : "false")
      .Key("quiet_after_s")
      .Raw(absl::StrFormat("%.1f", quiet.after_s))
      .Key("inconsistencies_after_quiet")
      .Int(quiet.inconsistencies)
      .Key("router_recovered")
      .Int(quiet.router_recovered)
      .Key("fault_at_s")
      .Raw(absl::StrFormat("%.3f", fault_at))
      .Key("ready_at_s")
      .Raw(absl::StrFormat("%.3f", ready_at))
      .Key("p99_during_ms")
      .Raw(absl::StrFormat("%.2f", p99_during))
      .Key("p99_before_ms")
      .Raw(absl::StrFormat("%.2f", p99_before))
      .Key("ok_during")
      .Int(n_during)
      .Key("ok_before")
      .Int(n_before)
      .Key("failed_during")
      .Int(failed_during)
      .Key("summary_exact")
      .Raw(target_url.empty() ? "null"
           : summary_exact    ? "true"
                              : "false")
      .Key("exact")
      .Raw(check.exact() && quiet.reached && quiet.inconsistencies == 0 && summary_exact ? "true"
                                                                                         : "false")
      .EndObject();
  std::ofstream(dir + "/check.json") << json << "\n";
  std::printf("%s\n", json.c_str());
  for (const std::string& e : check.examples) std::fprintf(stderr, "rinha-check: %s\n", e.c_str());
  return check.exact() && quiet.reached && quiet.inconsistencies == 0 && summary_exact ? 0 : 1;
}
