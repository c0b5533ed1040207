// The processor's settings that the admin endpoints change at run time: delay, failure mode and
// admin token.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"

namespace rinha::processor {

// Thread-safe. Request threads read delay and failure on every payment (lock-free); admin request
// threads are the only writers.
class RuntimeConfig {
 public:
  RuntimeConfig(int64_t delay_ms, bool failing, std::string token)
      : delay_ms_(delay_ms), failing_(failing), token_(std::move(token)) {}

  int64_t delay_ms() const { return delay_ms_.load(std::memory_order_relaxed); }
  bool failing() const { return failing_.load(std::memory_order_relaxed); }

  // Each setter returns the previous value (the admin answer's "was").
  int64_t SetDelayMs(int64_t delay_ms) { return delay_ms_.exchange(delay_ms); }
  bool SetFailing(bool failing) { return failing_.exchange(failing); }

  // A missing header never matches, whatever the token.
  bool TokenMatches(std::optional<std::string_view> presented) const {
    if (!presented.has_value()) return false;
    std::lock_guard<std::mutex> lock(mu_);
    return *presented == token_;
  }
  void SetToken(std::string token) {
    std::lock_guard<std::mutex> lock(mu_);
    token_ = std::move(token);
  }

 private:
  std::atomic<int64_t> delay_ms_;
  std::atomic<bool> failing_;
  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan, so absl::Mutex hand-offs
  // are invisible to the TSan build; pthread-based locks are intercepted.
  mutable std::mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rinha::processor
