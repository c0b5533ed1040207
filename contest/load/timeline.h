// What the official k6 test does over time, as data: the processors' instability stages (the
// admin PUTs made at each stage's start) and how many virtual users run at a given moment.
// Pure functions: the load engine and the control thread act on what these return.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace rinha::contest {

// One stage: from `from_ms` (since the start of the load) both processors are configured so.
struct Stage {
  int64_t from_ms = 0;
  int64_t to_ms = 0;  // next stage's start, or the end of the run
  int default_delay_ms = 0;
  bool default_failing = false;
  int fallback_delay_ms = 0;
  bool fallback_failing = false;
};

// Test shapes of the official runner (contest.md): final 1 -> 603 VUs over 300 s paying 20.05,
// preview 1 -> 550 over 60 s paying 19.9.
struct TestShape {
  std::string name;
  int64_t duration_s = 0;
  int max_vus = 0;
  int64_t amount_cents = 0;
};
absl::StatusOr<TestShape> TestShapeByName(std::string_view name);

// Timelines, each written for its nominal length and scaled to `duration_s` (stage starts are
// multiplied by duration_s / nominal, rounded to the millisecond):
//   final     contest.md's final table (nominal 300 s): stages at 1, 30, 60, ... 270 s.
//   preview   contest.md's preview table (nominal 60 s): stages at 1, 10, 20, 30, 40, 50 s.
//   reverse   the final's configurations in reverse order at the final's start times (1 s: default
//             2000 ms, ..., 270 s: all normal): the hard stages come first, at low load.
//   both-fail ours (nominal 300 s), for the "hold when both fail" path:
//               1 s  normal
//              60 s  both processors failing (no delay) for 20 s
//              80 s  default 2000 ms, slower than the client timeout (1500 ms), fallback normal
//             120 s  recovery: both normal
//             180 s  both failing with 200 ms delays for 20 s
//             200 s  recovery
//   faults    for fault-injection runs (nominal 60 s): 1 s normal; 10 s default 800 ms (still
//             preferred: hundreds of POSTs in flight); 25 s both failing (the router's queue
//             fills); 40 s normal again.
//   none      no stage at all (processors stay as reset: delay 0, not failing).
// InvalidArgument for another name or a duration <= 0.
absl::StatusOr<std::vector<Stage>> TimelineByName(std::string_view name, int64_t duration_s);

// Virtual users at `elapsed_ms` into a ramp from 1 to max_vus over duration_ms, as k6's
// ramping-vus executor adds them: VU number i (i >= 2) starts at (i - 1) / (max_vus - 1) of the
// duration, i.e. vus = 1 + floor((max_vus - 1) * elapsed / duration), capped at max_vus.
int VusAt(int64_t elapsed_ms, int64_t duration_ms, int max_vus);

// The first elapsed millisecond at which VusAt reaches `vus` (vus >= 1).
int64_t RampTimeOfVu(int vus, int64_t duration_ms, int max_vus);

}  // namespace rinha::contest
