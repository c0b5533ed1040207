// rinha-load: the official k6 contest test reproduced natively (see contest_run.h).
//   rinha-load --target=http://127.0.0.1:9999 --test=final --out=/tmp/run1
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/clock.h"
#include "common/stop_signal.h"
#include "contest/load/contest_run.h"

ABSL_FLAG(std::string, target, "http://127.0.0.1:9999", "backend under test (load balancer)");
ABSL_FLAG(std::string, default_processor, "http://127.0.0.1:8001", "default processor");
ABSL_FLAG(std::string, fallback_processor, "http://127.0.0.1:8002", "fallback processor");
ABSL_FLAG(std::string, admin_token, "123", "X-Rinha-Token of the processors' admin endpoints");
ABSL_FLAG(std::string, test, "final", "k6 test shape: final or preview");
ABSL_FLAG(
    std::string, timeline, "",
    "instability timeline: final, preview, reverse, both-fail, faults, none (default: --test)");
ABSL_FLAG(int64_t, duration_s, 0, "seconds of load (default 300 final / 60 preview)");
ABSL_FLAG(int, max_vus, 0, "virtual users at the end of the ramp (default 603 / 550)");
ABSL_FLAG(std::string, router_stats, "", "host:port of rinha.v1.Router/Stats, polled each second");
ABSL_FLAG(std::string, out, "", "directory for final-results.json and run.json");
ABSL_FLAG(bool, quiet, false, "no progress lines");
ABSL_FLAG(std::string, requests_out, "",
          "write a line per POST: start_us latency_us status correlation_id (fault harnesses)");
ABSL_FLAG(std::string, started_file, "",
          "write the wall-clock ms at which the load begins into this file, as it begins");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  // Ctrl-C / SIGTERM end the run cleanly (processors reset) instead of leaving them failing:
  // blocked here, before any thread starts, and taken by one waiting thread.
  rinha::BlockStopSignals();
  static std::atomic<bool> interrupted{false};
  std::thread([] {
    const int signal_number = rinha::WaitForStopSignal();
    std::fprintf(stderr, "rinha-load: signal %d, stopping the run\n", signal_number);
    interrupted.store(true);
  }).detach();

  rinha::contest::RunConfig config;
  config.target = absl::GetFlag(FLAGS_target);
  config.default_processor = absl::GetFlag(FLAGS_default_processor);
  config.fallback_processor = absl::GetFlag(FLAGS_fallback_processor);
  config.admin_token = absl::GetFlag(FLAGS_admin_token);
  config.test = absl::GetFlag(FLAGS_test);
  config.timeline = absl::GetFlag(FLAGS_timeline);
  config.duration_s = absl::GetFlag(FLAGS_duration_s);
  config.max_vus = absl::GetFlag(FLAGS_max_vus);
  config.router_stats = absl::GetFlag(FLAGS_router_stats);
  config.out_dir = absl::GetFlag(FLAGS_out);
  config.quiet = absl::GetFlag(FLAGS_quiet);
  config.requests_out = absl::GetFlag(FLAGS_requests_out);
  config.started_file = absl::GetFlag(FLAGS_started_file);
  config.cancel = &interrupted;
  absl::StatusOr<rinha::contest::RunRecord> run =
      rinha::contest::RunContest(config, rinha::RealClock::Get(), stdout);
  if (!run.ok()) {
    std::fprintf(stderr, "rinha-load: %s\n", run.status().ToString().c_str());
    return 1;
  }
  return 0;
}
