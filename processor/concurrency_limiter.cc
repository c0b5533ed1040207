#include "processor/concurrency_limiter.h"

#include <utility>

namespace rinha::processor {

FifoConcurrencyLimiter::Permit& FifoConcurrencyLimiter::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    if (limiter_ != nullptr) limiter_->Release();
    limiter_ = std::exchange(other.limiter_, nullptr);
  }
  return *this;
}

FifoConcurrencyLimiter::Permit::~Permit() {
  if (limiter_ != nullptr) limiter_->Release();
}

FifoConcurrencyLimiter::FifoConcurrencyLimiter(int max_in_flight, int max_queued)
    : max_in_flight_(max_in_flight), max_queued_(max_queued) {}

std::optional<FifoConcurrencyLimiter::Permit> FifoConcurrencyLimiter::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  // A free slot goes to a newcomer only when nobody is queued: Release() hands slots straight to
  // waiters, so while anyone waits every slot is taken and FIFO order holds.
  if (in_flight_ < max_in_flight_) {
    ++in_flight_;
    return Permit(this);
  }
  if (static_cast<int>(waiters_.size()) >= max_queued_) return std::nullopt;
  Waiter waiter;
  waiters_.push_back(&waiter);
  waiter.granted_cv.wait(lock, [&waiter] { return waiter.granted; });
  // The releasing thread transferred its slot: in_flight_ already counts this request.
  return Permit(this);
}

void FifoConcurrencyLimiter::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!waiters_.empty()) {
    Waiter* oldest = waiters_.front();
    waiters_.pop_front();
    oldest->granted = true;
    // Notified under the lock: the waiter owns the condition variable and may destroy it as soon
    // as it can see `granted`.
    oldest->granted_cv.notify_one();
    return;
  }
  --in_flight_;
}

int FifoConcurrencyLimiter::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

int FifoConcurrencyLimiter::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(waiters_.size());
}

}  // namespace rinha::processor
