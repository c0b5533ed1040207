// Rate limit of GET /payments/service-health, per processor: at most one call per interval and
// never a call while the previous one is unanswered (the processor queues excess calls for 5-10 s;
// a second call would only queue behind the first). Pure bookkeeping: the caller owns the timer
// and the HTTP call, so a 429 or a slow answer never blocks anything. With router shards,
// HealthSlots below divides the processors' one budget among them.
//
// Not thread-safe: used by the router's event-loop thread only. HealthPollGate's times are
// monotonic ms; HealthSlots's are wall-clock ms (the one clock shards on different hosts share).
#pragma once

#include <algorithm>
#include <cstdint>

namespace rinha::router {

class HealthPollGate {
 public:
  explicit HealthPollGate(int64_t min_interval_ms) : min_interval_ms_(min_interval_ms) {}

  bool MayStart(int64_t now_ms) const {
    return !outstanding_ && (!started_ever_ || now_ms >= last_start_ms_ + min_interval_ms_);
  }
  // Earliest time a call may start, assuming the outstanding one (if any) ends now.
  int64_t NextStartMs() const { return started_ever_ ? last_start_ms_ + min_interval_ms_ : 0; }
  void OnStart(int64_t now_ms) {
    outstanding_ = true;
    started_ever_ = true;
    last_start_ms_ = now_ms;
  }
  // Any outcome: answer, 429, timeout, connection error.
  void OnFinish() { outstanding_ = false; }
  bool outstanding() const { return outstanding_; }

 private:
  const int64_t min_interval_ms_;
  bool outstanding_ = false;
  bool started_ever_ = false;
  int64_t last_start_ms_ = 0;
};

// The processors allow one health call per window (5 s) shared by every caller. K router shards
// share that budget without talking to each other by dividing time: the wall clock is cut into
// slots of `slot_ms` = min_interval_ms + open_ms, slot n belongs to shard n mod K, and shard i
// may start a call only within the first `open_ms` of one of its own slots. Two calls of
// different shards therefore start at least slot_ms - open_ms = min_interval_ms apart (as two
// calls of one router without shards do), and each shard polls at most once per K slots. A
// shard that misses its opening (busy, throttled, its last call unanswered) waits for its next
// slot rather than eat into another's. The price: a shard hears from the health endpoint every
// K * slot_ms (11 s with two shards) and relies on in-band signals in between. Shards on
// different hosts need clocks within min_interval_ms - the processor's window (100 ms) of each
// other (NTP keeps them within a few ms).
//
// One shard (slots = 1) is the router without shards: always open, HealthPollGate alone decides.
class HealthSlots {
 public:
  HealthSlots(int slot, int slots, int64_t min_interval_ms, int64_t open_ms)
      : slot_(slot),
        slots_(std::max(slots, 1)),
        open_ms_(open_ms),
        slot_ms_(min_interval_ms + open_ms) {}

  bool Open(int64_t wall_ms) const {
    if (slots_ == 1) return true;
    const int64_t n = SlotIndex(wall_ms);
    return Owner(n) == slot_ && wall_ms - n * slot_ms_ < open_ms_;
  }

  // The earliest wall time at or after `wall_ms` at which Open is true.
  int64_t NextOpenMs(int64_t wall_ms) const {
    if (Open(wall_ms)) return wall_ms;
    // The start of the next slot that is ours.
    const int64_t n = SlotIndex(wall_ms) + 1;
    const int64_t ahead = ((slot_ - Owner(n)) % slots_ + slots_) % slots_;
    return (n + ahead) * slot_ms_;
  }

  int64_t slot_ms() const { return slot_ms_; }

 private:
  // Floor division: wall clocks before 1970 are not expected, but must not break the schedule.
  int64_t SlotIndex(int64_t wall_ms) const {
    return wall_ms >= 0 ? wall_ms / slot_ms_ : -((-wall_ms + slot_ms_ - 1) / slot_ms_);
  }

  // The shard that slot n belongs to.
  int64_t Owner(int64_t n) const { return ((n % slots_) + slots_) % slots_; }

  const int slot_;
  const int slots_;
  const int64_t open_ms_;
  const int64_t slot_ms_;
};

}  // namespace rinha::router
