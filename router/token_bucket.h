// A rate bound for calls that share another system's capacity: the router's GET /payments/{id}
// lookups, per processor, share the processor's 800 + 500 concurrency limiter with real payments.
// `rate_per_s` tokens a second, at most `burst` saved up; a call takes one.
//
// Not thread-safe: used by the router's event-loop thread only. Times are monotonic ms.
#pragma once

#include <algorithm>
#include <cstdint>

namespace rinha::router {

class TokenBucket {
 public:
  TokenBucket(int64_t rate_per_s, int64_t burst)
      : rate_per_s_(std::max<int64_t>(1, rate_per_s)),
        burst_(std::max<int64_t>(1, burst)),
        millitokens_(burst_ * 1000) {}

  // Takes a token when one is there.
  bool TryTake(int64_t now_ms) {
    Refill(now_ms);
    if (millitokens_ < 1000) return false;
    millitokens_ -= 1000;
    return true;
  }
  // When the next token will be there (now_ms if one is).
  int64_t NextTokenMs(int64_t now_ms) {
    Refill(now_ms);
    if (millitokens_ >= 1000) return now_ms;
    // rate_per_s millitokens arrive per ms.
    return now_ms + (1000 - millitokens_ + rate_per_s_ - 1) / rate_per_s_;
  }

 private:
  void Refill(int64_t now_ms) {
    if (last_ms_ < 0) last_ms_ = now_ms;
    if (now_ms <= last_ms_) return;
    millitokens_ = std::min(burst_ * 1000, millitokens_ + (now_ms - last_ms_) * rate_per_s_);
    last_ms_ = now_ms;
  }

  const int64_t rate_per_s_;
  const int64_t burst_;
  int64_t millitokens_;
  int64_t last_ms_ = -1;
};

}  // namespace rinha::router
