#include "contest/load/contest_run.h"

#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "contest/load/contest_http.h"
#include "contest/load/latency.h"
#include "contest/load/summaries.h"
#include "contest/load/timeline.h"
#include "contest/load/vu_engine.h"
#include "payments.grpc.pb.h"

namespace rinha::contest {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// A SteadyNanos() reading as a time point, for condition variables' timed waits.
SteadyTime AtNs(int64_t ns) { return SteadyTime(std::chrono::nanoseconds(ns)); }

// Shared by the control threads: the stop signal, the first fatal error, what they recorded.
class Control {
 public:
  // Waits until steady time `at_ns`; false when the run is over first.
  bool SleepUntil(int64_t at_ns) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_until(lock, AtNs(at_ns), [this] { return done_; });
  }
  void Finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
  }
  void Fail(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = std::move(status);
  }
  absl::Status error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }
  void AddAudit(const AuditRecord& a) {
    std::lock_guard<std::mutex> lock(mu_);
    audits_.push_back(a);
    inconsistencies_ += a.inconsistencies;
  }
  void AddRouterSample(const RouterSample& s) {
    std::lock_guard<std::mutex> lock(mu_);
    router_.push_back(s);
  }
  std::pair<size_t, int64_t> AuditCounts() {
    std::lock_guard<std::mutex> lock(mu_);
    return {audits_.size(), inconsistencies_};
  }
  std::vector<AuditRecord> audits() {
    std::lock_guard<std::mutex> lock(mu_);
    return audits_;
  }
  std::vector<RouterSample> router() {
    std::lock_guard<std::mutex> lock(mu_);
    return router_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  absl::Status error_;
  std::vector<AuditRecord> audits_;
  int64_t inconsistencies_ = 0;
  std::vector<RouterSample> router_;
};

absl::Status Configure(const ContestHttp& http, int default_delay, bool default_failing,
                       int fallback_delay, bool fallback_failing) {
  // The official define_stage order: both delays, then both failure flags.
  if (absl::Status s = http.SetDelay(Processor::kDefault, default_delay); !s.ok()) return s;
  if (absl::Status s = http.SetDelay(Processor::kFallback, fallback_delay); !s.ok()) return s;
  if (absl::Status s = http.SetFailure(Processor::kDefault, default_failing); !s.ok()) return s;
  return http.SetFailure(Processor::kFallback, fallback_failing);
}

absl::Status ResetProcessors(const ContestHttp& http) {
  return Configure(http, 0, false, 0, false);
}

class RouterStatsPoller {
 public:
  explicit RouterStatsPoller(const std::string& address)
      : stub_(rinha::v1::Router::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {}

  bool Sample(int64_t t_s, RouterSample* out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    rinha::v1::RouterStatsRequest request;
    rinha::v1::RouterStatsResponse response;
    if (!stub_->Stats(&context, request, &response).ok()) return false;
    *out = RouterSampleOf(t_s, response);
    return true;
  }

 private:
  std::unique_ptr<rinha::v1::Router::Stub> stub_;
};

AuditRecord Audit(const ContestHttp& http, Clock& clock, int64_t t_s) {
  AuditRecord a;
  a.t_s = t_s;
  const int64_t now = clock.NowMillis();
  a.from_ms = now - 15'000;
  a.to_ms = now - 2'000;
  // Concurrently, as the official Promise.all.
  auto ours =
      std::async(std::launch::async, [&] { return http.TargetSummary(a.from_ms, a.to_ms); });
  auto def = std::async(std::launch::async, [&] {
    return http.ProcessorSummary(Processor::kDefault, a.from_ms, a.to_ms);
  });
  auto fb = std::async(std::launch::async, [&] {
    return http.ProcessorSummary(Processor::kFallback, a.from_ms, a.to_ms);
  });
  const absl::StatusOr<BackendSummary> o = ours.get();
  const absl::StatusOr<ProcessorTotals> d = def.get();
  const absl::StatusOr<ProcessorTotals> f = fb.get();
  a.ok = o.ok() && d.ok() && f.ok();
  const BackendSummary zero_ours;
  const ProcessorTotals zero_totals;
  const BackendSummary& ours_v = o.ok() ? *o : zero_ours;
  const ProcessorTotals& def_v = d.ok() ? *d : zero_totals;
  const ProcessorTotals& fb_v = f.ok() ? *f : zero_totals;
  a.ours_default = ours_v.default_requests;
  a.ours_fallback = ours_v.fallback_requests;
  a.default_requests = def_v.requests;
  a.fallback_requests = fb_v.requests;
  a.inconsistencies = AuditInconsistencies(ours_v, def_v, fb_v);
  return a;
}

void SelfUsage(double* cpu_s, int64_t* max_rss_kb) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  *cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  *max_rss_kb = usage.ru_maxrss;
}

}  // namespace

RouterSample RouterSampleOf(int64_t t_s, const rinha::v1::RouterStatsResponse& stats) {
  RouterSample sample;
  sample.t_s = t_s;
  sample.queued = stats.queued();
  sample.in_flight = stats.in_flight();
  sample.settled_default = stats.settled_default();
  sample.settled_fallback = stats.settled_fallback();
  sample.recovering = stats.recovering();
  sample.undecided = stats.undecided();
  for (const rinha::v1::PaymentStateCount& state : stats.states()) {
    if (state.undecided() > 0) {
      sample.oldest_undecided_ms = std::max(sample.oldest_undecided_ms, state.oldest_age_ms());
    }
  }
  return sample;
}

absl::StatusOr<RunRecord> RunContest(const RunConfig& config, Clock& clock, std::FILE* progress) {
  absl::StatusOr<TestShape> shape = TestShapeByName(config.test);
  if (!shape.ok()) return shape.status();
  RunRecord run;
  run.test = shape->name;
  run.timeline = config.timeline.empty() ? shape->name : config.timeline;
  run.duration_s = config.duration_s > 0 ? config.duration_s : shape->duration_s;
  run.max_vus = config.max_vus > 0 ? config.max_vus : shape->max_vus;
  run.amount_cents = shape->amount_cents;
  absl::StatusOr<std::vector<Stage>> stages = TimelineByName(run.timeline, run.duration_s);
  if (!stages.ok()) return stages.status();
  run.stages = *stages;
  absl::StatusOr<HttpEndpoint> target = ParseEndpoint(config.target);
  absl::StatusOr<HttpEndpoint> def = ParseEndpoint(config.default_processor);
  absl::StatusOr<HttpEndpoint> fb = ParseEndpoint(config.fallback_processor);
  for (const auto* e : {&target, &def, &fb}) {
    if (!e->ok()) return e->status();
  }
  const ContestHttp http(*target, *def, *fb, config.admin_token, config.timeout_ms);
  const bool talk = progress != nullptr && !config.quiet;

  // Setup, as the official setup(): purge everything, processors back to normal.
  http.PurgeTarget();
  for (Processor p : {Processor::kDefault, Processor::kFallback}) {
    if (absl::Status s = http.PurgeProcessor(p); !s.ok()) return s;
  }
  if (absl::Status s = ResetProcessors(http); !s.ok()) return s;
  if (absl::Status s = http.WaitTargetReady(config.ready_timeout_ms); !s.ok()) return s;

  LoadOptions options;
  options.host = target->host;
  options.port = target->port;
  options.duration_ms = run.duration_s * 1000;
  options.max_vus = run.max_vus;
  options.amount_cents = run.amount_cents;
  options.timeout_ms = config.timeout_ms;
  options.think_ms = config.think_ms;
  options.log_requests = !config.requests_out.empty();
  absl::StatusOr<std::unique_ptr<LoadEngine>> engine = LoadEngine::Create(options);
  if (!engine.ok()) return engine.status();

  std::unique_ptr<RouterStatsPoller> poller;
  Control control;
  if (!config.router_stats.empty()) {
    run.has_router_stats = true;
    poller = std::make_unique<RouterStatsPoller>(config.router_stats);
    RouterSample base;
    if (poller->Sample(0, &base)) control.AddRouterSample(base);
  }

  const int64_t start_ns = SteadyNanos() + 50'000'000;  // threads are up by then
  run.started_at_ms = clock.NowMillis() + 50;
  const int64_t end_ns = start_ns + run.duration_s * 1'000'000'000;
  if (!config.started_file.empty()) {
    std::ofstream started(config.started_file);
    started << run.started_at_ms << "\n";
  }
  if (talk) {
    std::fprintf(progress, "rinha-load: %s test, %s timeline, %lld s, up to %d VUs -> %s\n",
                 run.test.c_str(), run.timeline.c_str(), static_cast<long long>(run.duration_s),
                 run.max_vus, config.target.c_str());
  }

  std::thread timeline_thread([&] {
    for (const Stage& st : run.stages) {
      if (!control.SleepUntil(start_ns + st.from_ms * 1'000'000)) return;
      absl::Status s = Configure(http, st.default_delay_ms, st.default_failing,
                                 st.fallback_delay_ms, st.fallback_failing);
      if (!s.ok()) {
        control.Fail(absl::Status(s.code(), absl::StrCat("timeline aborted: ", s.message())));
        (*engine)->Stop();
        return;
      }
    }
  });
  std::thread audit_thread([&] {
    // Like the official audit VU: audit, then sleep the period, while the load runs.
    int64_t next_ns = start_ns;
    while (next_ns < end_ns && control.SleepUntil(next_ns)) {
      const int64_t t_s = (SteadyNanos() - start_ns) / 1'000'000'000;
      control.AddAudit(Audit(http, clock, t_s));
      next_ns = SteadyNanos() + config.audit_period_ms * 1'000'000;
    }
  });
  std::thread stats_thread([&] {
    for (int64_t k = 1; control.SleepUntil(start_ns + k * 1'000'000'000); ++k) {
      if (config.cancel != nullptr && config.cancel->load()) {
        control.Fail(absl::CancelledError("interrupted"));
        (*engine)->Stop();
        return;
      }
      RouterSample sample;
      if (poller && poller->Sample(k, &sample)) control.AddRouterSample(sample);
      if (talk && k % 10 == 0) {
        const LiveStatus live = (*engine)->Live();
        const auto [audits, inconsistencies] = control.AuditCounts();
        std::fprintf(progress,
                     "t=%4llds vus=%4d req/s=%4.0f ok=%lld failed=%lld p99=%.2fms audits=%zu "
                     "inconsistencies=%lld\n",
                     static_cast<long long>(k), live.vus, live.last_second_rate,
                     static_cast<long long>(live.ok), static_cast<long long>(live.failed),
                     live.p99_ms_so_far, audits, static_cast<long long>(inconsistencies));
        std::fflush(progress);
      }
    }
  });

  LoadTotals totals = (*engine)->Run(start_ns);
  control.Finish();
  // k6 lets the last iterations finish, their sleep(1) included (gracefulStop), before teardown.
  const int64_t grace_end_ns = totals.last_finish_ns + config.think_ms * 1'000'000;
  if (control.error().ok() && SteadyNanos() < grace_end_ns) {
    std::this_thread::sleep_until(AtNs(grace_end_ns));
  }
  const int64_t teardown_to = clock.NowMillis();
  timeline_thread.join();
  audit_thread.join();
  stats_thread.join();
  if (absl::Status s = control.error(); !s.ok()) {
    (void)ResetProcessors(http);  // best effort: the run is already failing
    return s;
  }

  // Teardown, as the official teardown(): the processors' totals over the last 360 s.
  const int64_t window_s = std::max(config.teardown_window_s, run.duration_s + 60);
  for (Processor p : {Processor::kDefault, Processor::kFallback}) {
    absl::StatusOr<ProcessorTotals> t =
        http.ProcessorSummary(p, teardown_to - window_s * 1000, teardown_to);
    if (!t.ok() && progress != nullptr) {
      std::fprintf(progress, "rinha-load: WARNING teardown summary of %s failed (%s): reads as 0\n",
                   ProcessorName(p), std::string(t.status().message()).c_str());
    }
    (p == Processor::kDefault ? run.default_totals : run.fallback_totals) =
        t.ok() ? *t : ProcessorTotals{};
  }
  if (absl::Status s = ResetProcessors(http); !s.ok() && progress != nullptr) {
    std::fprintf(progress, "rinha-load: WARNING resetting processors: %s\n",
                 std::string(s.message()).c_str());
  }

  if (!config.requests_out.empty()) {
    std::ofstream log(config.requests_out);
    for (const RequestRecord& r : totals.requests_log) {
      log << r.start_us << ' ' << r.latency_us << ' ' << r.status << ' '
          << std::string_view(r.id, sizeof(r.id)) << '\n';
    }
    if (!log) return absl::UnavailableError("cannot write " + config.requests_out);
  }
  run.series = (*engine)->Seconds();
  run.audits = control.audits();
  run.router = control.router();
  for (const AuditRecord& a : run.audits) run.inconsistencies += a.inconsistencies;
  run.requests = totals.requests;
  run.ok = totals.ok;
  run.failed = totals.failed;
  run.timeouts = totals.timeouts;
  run.p50_ms = PercentileMs(totals.ok_latencies_ns, 0.50);
  run.p99_ms = PercentileMs(totals.ok_latencies_ns, 0.99);
  ScoreInputs inputs;
  inputs.default_totals = run.default_totals;
  inputs.fallback_totals = run.fallback_totals;
  inputs.p99_ms = run.p99_ms;
  inputs.inconsistencies = run.inconsistencies;
  inputs.successes = run.ok;
  inputs.failures = run.failed;
  inputs.amount_cents = run.amount_cents;
  run.score = ComputeScore(inputs);
  SelfUsage(&run.loadgen_cpu_s, &run.loadgen_max_rss_kb);

  if (!config.out_dir.empty()) {
    if (absl::Status s = WriteRunFiles(config.out_dir, run, clock.NowMillis()); !s.ok()) return s;
  }
  if (progress != nullptr) {
    std::fputs(SummaryTable(run).c_str(), progress);
    std::fflush(progress);
  }
  return run;
}

}  // namespace rinha::contest
