// One whole contest run, as the official runner does it: setup (purge target and processors,
// reset their configuration, wait for the target), the VU load on its own epoll thread, the
// instability timeline, the audit and the optional Router.Stats polling on control threads, then
// the teardown summaries, the score, the processors' reset and the output files.
//
// Teardown starts when the last VU's final sleep(1) ends (k6's gracefulStop lets running
// iterations finish), i.e. about 1 s after the last answer, as in the official run.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "contest/load/run_record.h"

namespace rinha::v1 {
class RouterStatsResponse;
}

namespace rinha::contest {

struct RunConfig {
  std::string target = "http://127.0.0.1:9999";
  std::string default_processor = "http://127.0.0.1:8001";
  std::string fallback_processor = "http://127.0.0.1:8002";
  std::string admin_token = "123";
  std::string test = "final";
  std::string timeline;      // empty: same as test
  int64_t duration_s = 0;    // 0: the test's (300 / 60)
  int max_vus = 0;           // 0: the test's (603 / 550)
  std::string router_stats;  // host:port of Router.Stats; empty: not polled
  std::string out_dir;       // empty: no files
  // Fault harnesses: a line per POST ("start_us latency_us status correlation_id", start_us
  // since the load began, status -1 timed out, -2 no answer), written after the run; and a file
  // holding the wall-clock millisecond the load began, written as it begins.
  std::string requests_out;
  std::string started_file;
  bool quiet = false;
  // The official values; tests shorten the audit period and the ready wait.
  int64_t timeout_ms = 1500;
  int64_t think_ms = 1000;
  int64_t audit_period_ms = 10'000;
  int64_t ready_timeout_ms = 3000;
  int64_t teardown_window_s = 360;  // widened to duration + 60 s for longer runs
  // Set (from any thread) to stop the run early: noticed within a second, the processors are
  // reset and RunContest returns Cancelled.
  const std::atomic<bool>* cancel = nullptr;
};

// Runs the contest; progress lines and the final table go to `progress` (unless quiet). Errors:
// bad configuration, target not ready, an admin endpoint answering another code than the
// contest's (the run is aborted then), output files not writable.
absl::StatusOr<RunRecord> RunContest(const RunConfig& config, Clock& clock, std::FILE* progress);

// What a run records of one Router.Stats answer taken t_s seconds into the load: the gauges and
// counters as they are, undecided payments as their count and the oldest age over the states
// that have any.
RouterSample RouterSampleOf(int64_t t_s, const rinha::v1::RouterStatsResponse& stats);

}  // namespace rinha::contest
