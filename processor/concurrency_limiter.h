// FIFO concurrency limiter in front of the processor's request endpoints, like the official
// processor's (ASP.NET ConcurrencyLimiter, oldest first): a fixed number of requests in flight,
// a bounded queue of waiting ones served oldest first, and immediate rejection beyond that.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"

namespace rinha::processor {

// Thread-safe: any request thread may call Acquire(); permits may be released from any thread.
class FifoConcurrencyLimiter {
 public:
  // A held slot; released (and handed to the oldest waiter, if any) when destroyed.
  class Permit {
   public:
    Permit(Permit&& other) noexcept : limiter_(other.limiter_) { other.limiter_ = nullptr; }
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

   private:
    friend class FifoConcurrencyLimiter;
    explicit Permit(FifoConcurrencyLimiter* limiter) : limiter_(limiter) {}
    FifoConcurrencyLimiter* limiter_;
  };

  FifoConcurrencyLimiter(int max_in_flight, int max_queued);
  FifoConcurrencyLimiter(const FifoConcurrencyLimiter&) = delete;
  FifoConcurrencyLimiter& operator=(const FifoConcurrencyLimiter&) = delete;
  // Every permit must be gone and no thread waiting.
  ~FifoConcurrencyLimiter() = default;

  // Returns a permit at once when a slot is free; otherwise waits in the queue (blocking the
  // calling thread) until one is handed over; std::nullopt at once when the queue is full.
  std::optional<Permit> Acquire();

  int in_flight() const;
  int queued() const;

 private:
  struct Waiter {
    std::condition_variable granted_cv;
    bool granted = false;
  };

  void Release();

  const int max_in_flight_;
  const int max_queued_;
  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan, so absl::Mutex hand-offs
  // are invisible to the TSan build; pthread-based locks are intercepted.
  mutable std::mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // Oldest first; each Waiter lives on its waiting thread's stack.
  std::deque<Waiter*> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rinha::processor
