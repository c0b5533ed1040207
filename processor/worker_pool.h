// Threads for the emulator's blocking request handlers: grows on demand up to a cap, so a sleeping
// request holds a parked thread (no CPU) and an idle emulator holds none it never needed.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace rinha::processor {

// Thread-safe. Tasks run in submission order of pick-up; a task may block for a long time.
class WorkerPool {
 public:
  explicit WorkerPool(int max_tasks);
  ~WorkerPool() { Stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on a worker, starting a thread when none is idle. False (task not run) when
  // max_tasks tasks are already queued or running, or after Stop().
  bool TrySubmit(std::function<void()> task);
  // Runs every task already accepted, then joins all threads. Idempotent.
  void Stop();

  int threads() const;
  int pending() const;  // accepted and not finished

 private:
  void Work();

  const int max_tasks_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  int idle_ ABSL_GUARDED_BY(mu_) = 0;
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace rinha::processor
