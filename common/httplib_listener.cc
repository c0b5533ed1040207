#include "common/httplib_listener.h"

#include <httplib.h>

#include <chrono>
#include <utility>

namespace rinha {

std::unique_ptr<HttplibListener> HttplibListener::Start(httplib::Server& server,
                                                        std::function<void()> before_listen) {
  std::unique_ptr<HttplibListener> listener(new HttplibListener(server));
  HttplibListener* raw = listener.get();
  listener->thread_ = std::thread([raw, hook = std::move(before_listen)] {
    if (hook) hook();
    raw->server_.listen_after_bind();
    std::lock_guard<std::mutex> lock(raw->mu_);
    raw->exited_ = true;
    raw->exited_cv_.notify_all();
  });
  // cpp-httplib sets is_running() at the top of its accept loop and signals nothing, so poll it;
  // this takes one thread start, normally well under a millisecond.
  std::unique_lock<std::mutex> lock(raw->mu_);
  while (!server.is_running() && !raw->exited_) {
    raw->exited_cv_.wait_for(lock, std::chrono::microseconds(200));
  }
  return listener;
}

HttplibListener::~HttplibListener() { Stop(); }

bool HttplibListener::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !exited_ && server_.is_running();
}

void HttplibListener::Stop() {
  if (!thread_.joinable()) return;
  {
    // stop() must be called exactly once, and only once the loop runs: before, it is a no-op
    // (and the stop would be lost); a second call while the loop drains its connections trips an
    // assertion in the library. Start() normally returned with the loop running already.
    std::unique_lock<std::mutex> lock(mu_);
    bool stopped = false;
    while (!exited_) {
      if (!stopped && server_.is_running()) {
        server_.stop();
        stopped = true;
      }
      exited_cv_.wait_for(lock, std::chrono::milliseconds(stopped ? 100 : 1));
    }
  }
  thread_.join();
}

}  // namespace rinha
