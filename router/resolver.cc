#include "router/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace rinha::router {

// std::mutex rather than absl::Mutex: Debian's Abseil is not built with TSan, so hand-offs
// through it would be invisible to the TSan build.
struct GetaddrinfoResolver::State {
  explicit State(Lookup l) : lookup(std::move(l)) {}
  const Lookup lookup;
  std::mutex mu;
  std::condition_variable changed;  // work queued, stopping, a callback or a worker ended
  std::deque<std::pair<std::string, Done>> queue;  // guarded by mu
  bool stopping = false;                           // guarded by mu
  int callbacks_running = 0;                       // guarded by mu
  int workers_running = 0;                         // guarded by mu
};

absl::StatusOr<in_addr> GetaddrinfoResolver::GetAddrInfo(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &result);
  if (rc != 0 || result == nullptr) {
    if (result != nullptr) freeaddrinfo(result);
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", name, ": ", rc != 0 ? gai_strerror(rc) : "no address"));
  }
  const in_addr address = reinterpret_cast<const sockaddr_in*>(result->ai_addr)->sin_addr;
  freeaddrinfo(result);
  return address;
}

GetaddrinfoResolver::GetaddrinfoResolver(int threads, Lookup lookup)
    : state_(std::make_shared<State>(std::move(lookup))) {
  state_->workers_running = threads;
  for (int i = 0; i < threads; ++i) {
    // Each worker holds the state, not this object: one stuck in getaddrinfo may outlive it.
    std::thread([state = state_] {
      std::unique_lock<std::mutex> lock(state->mu);
      for (;;) {
        state->changed.wait(lock, [&] { return state->stopping || !state->queue.empty(); });
        if (state->stopping) break;
        auto [name, done] = std::move(state->queue.front());
        state->queue.pop_front();
        lock.unlock();
        absl::StatusOr<in_addr> address = state->lookup(name);
        lock.lock();
        if (state->stopping) break;  // the resolver is gone: nobody to tell
        ++state->callbacks_running;
        lock.unlock();
        done(std::move(address));
        lock.lock();
        --state->callbacks_running;
        state->changed.notify_all();
      }
      --state->workers_running;
      state->changed.notify_all();
    }).detach();
  }
}

GetaddrinfoResolver::~GetaddrinfoResolver() {
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->stopping = true;
  state_->queue.clear();
  state_->changed.notify_all();
  // A callback only hands a result over: waiting for it is short, and after this no callback
  // runs. Idle workers leave at once; one inside a lookup is not waited for beyond a moment.
  state_->changed.wait(lock, [&] { return state_->callbacks_running == 0; });
  state_->changed.wait_for(lock, std::chrono::milliseconds(100),
                           [&] { return state_->workers_running == 0; });
}

void GetaddrinfoResolver::Resolve(std::string name, Done done) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->queue.emplace_back(std::move(name), std::move(done));
  state_->changed.notify_one();
}

}  // namespace rinha::router
