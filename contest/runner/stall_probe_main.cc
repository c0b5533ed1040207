// stall-probe: sleeps --period_us in a loop and records how late each wake-up comes, until
// SIGTERM or SIGINT; then writes --out (JSON: a summary and one entry per wall-clock second) and
// prints the summary. See contest/runner/stall_probe.h.
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "contest/runner/stall_probe.h"

ABSL_FLAG(std::string, out, "", "JSON file to write when stopped (required)");
ABSL_FLAG(int64_t, period_us, 1000, "sleep per iteration, microseconds");

namespace {

std::atomic<bool> stop{false};
void OnSignal(int) { stop.store(true); }

int64_t Ns(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string out = absl::GetFlag(FLAGS_out);
  const int64_t period_us = absl::GetFlag(FLAGS_period_us);
  if (out.empty() || period_us <= 0 || period_us >= 1'000'000) {
    std::fprintf(stderr, "stall-probe: --out=FILE and 0 < --period_us < 1000000 are required\n");
    return 2;
  }
  struct sigaction action {};
  action.sa_handler = OnSignal;  // no SA_RESTART: the sleep returns at once
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  std::printf("stall-probe listening period_us=%lld\n", static_cast<long long>(period_us));
  std::fflush(stdout);
  rinha::contest::StallRecorder recorder;
  const timespec period{0, static_cast<long>(period_us * 1000)};
  while (!stop.load()) {
    const int64_t before = Ns(CLOCK_MONOTONIC);
    if (clock_nanosleep(CLOCK_MONOTONIC, 0, &period, nullptr) != 0) continue;  // a signal
    const int64_t late = Ns(CLOCK_MONOTONIC) - before - period_us * 1000;
    recorder.Add(Ns(CLOCK_REALTIME) / 1'000'000, late);
  }
  std::ofstream file(out, std::ios::trunc);
  file << recorder.ToJson(period_us);
  file.close();
  if (!file) {
    std::fprintf(stderr, "stall-probe: cannot write %s\n", out.c_str());
    return 1;
  }
  std::printf("stall-probe: %lld wake-ups, late p50 %.3f p99 %.3f p99.9 %.3f max %.3f ms\n",
              static_cast<long long>(recorder.samples()), recorder.QuantileMs(0.5),
              recorder.QuantileMs(0.99), recorder.QuantileMs(0.999), recorder.QuantileMs(1.0));
  return 0;
}
