#include "processor/worker_pool.h"

#include <system_error>
#include <utility>

namespace rinha::processor {

WorkerPool::WorkerPool(int max_tasks) : max_tasks_(max_tasks) {}

bool WorkerPool::TrySubmit(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || pending_ >= max_tasks_) return false;
  ++pending_;
  queue_.push_back(std::move(task));
  // threads = idle + running and pending = queued + running <= max_tasks, so a thread started
  // only when idle < queued never takes the count above max_tasks.
  if (idle_ >= static_cast<int>(queue_.size())) {
    work_cv_.notify_one();
  } else {
    try {
      threads_.emplace_back([this] { Work(); });
    } catch (const std::system_error&) {
      // Out of threads (pids cgroup, memory): refuse like a full pool rather than crash.
      queue_.pop_back();
      --pending_;
      return false;
    }
  }
  return true;
}

void WorkerPool::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    while (queue_.empty() && !stopping_) {
      ++idle_;
      work_cv_.wait(lock);
      --idle_;
    }
    if (queue_.empty()) return;  // stopping, and nothing left to run
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // destroy captures outside the lock
    lock.lock();
    --pending_;
  }
}

void WorkerPool::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  work_cv_.notify_all();
  for (std::thread& thread : threads) thread.join();
}

int WorkerPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(threads_.size());
}

int WorkerPool::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

}  // namespace rinha::processor
