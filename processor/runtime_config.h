// The processor's settings that the admin endpoints change at run time: delay, failure mode,
// fault mode and admin token.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "processor/fault.h"

namespace rinha::processor {

// Thread-safe. Request threads read delay, failure and whether a fault is set on every payment
// (lock-free); admin request threads are the only writers.
class RuntimeConfig {
 public:
  RuntimeConfig(int64_t delay_ms, bool failing, std::string token)
      : delay_ms_(delay_ms), failing_(failing), token_(std::move(token)) {}

  int64_t delay_ms() const { return delay_ms_.load(std::memory_order_relaxed); }
  bool failing() const { return failing_.load(std::memory_order_relaxed); }

  // Each setter returns the previous value (the admin answer's "was").
  int64_t SetDelayMs(int64_t delay_ms) { return delay_ms_.exchange(delay_ms); }
  bool SetFailing(bool failing) { return failing_.exchange(failing); }

  // The fault for one payment: nullopt when no fault is set (one relaxed load) or when the draw
  // spared this payment.
  std::optional<Fault> DrawFaultForPayment() const {
    if (!fault_set_.load(std::memory_order_relaxed)) return std::nullopt;
    Fault fault;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fault = fault_;
    }
    if (fault.mode == FaultMode::kNone || !DrawFault(fault.probability)) return std::nullopt;
    return fault;
  }
  // Returns the previous fault.
  Fault SetFault(const Fault& fault) {
    std::lock_guard<std::mutex> lock(mu_);
    const Fault was = fault_;
    fault_ = fault;
    fault_set_.store(fault.mode != FaultMode::kNone, std::memory_order_relaxed);
    return was;
  }

  // The official's check, `Headers["X-Rinha-Token"] != token` with .NET's StringValues: a
  // missing header matches only a null token (PUT .../token with {} or {"token":null} sets one),
  // a present header (even empty) only an equal string.
  bool TokenMatches(std::optional<std::string_view> presented) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!token_.has_value() || !presented.has_value()) {
      return !token_.has_value() && !presented.has_value();
    }
    return *presented == *token_;
  }
  // nullopt: the JSON null a body without "token" binds to.
  void SetToken(std::optional<std::string> token) {
    std::lock_guard<std::mutex> lock(mu_);
    token_ = std::move(token);
  }

 private:
  std::atomic<int64_t> delay_ms_;
  std::atomic<bool> failing_;
  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan, so absl::Mutex hand-offs
  // are invisible to the TSan build; pthread-based locks are intercepted.
  mutable std::mutex mu_;
  std::optional<std::string> token_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> fault_set_{false};
  Fault fault_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rinha::processor
