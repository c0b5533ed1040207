// Runs a bound cpp-httplib server's accept loop on a thread of its own, with a start that returns
// only once the loop accepts and a stop that cannot be missed.
//
// Why: in cpp-httplib 0.11 (Debian's), Server::stop() does nothing until the accept loop has set
// is_running(), and nothing tells the caller when that happens. A stop issued right after the
// thread was spawned is silently lost; the loop then runs forever and joining its thread hangs
// (CI hung this way: an edge stopped right after it started).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace httplib {
class Server;
}

namespace rinha {

class HttplibListener {
 public:
  // `server` must be bound already (bind_to_port / bind_to_any_port succeeded: an unbound
  // server's loop ends at once, and a stop() racing that trips the library's assertion) and
  // outlive the listener.
  // `before_listen`, when set, runs on the new thread before the accept loop starts: tests delay
  // the start through it to make the start/stop race certain. Returns once the server accepts,
  // or once its loop has ended on its own (then running() is false).
  static std::unique_ptr<HttplibListener> Start(httplib::Server& server,
                                                std::function<void()> before_listen = nullptr);
  ~HttplibListener();  // Stop()
  HttplibListener(const HttplibListener&) = delete;
  HttplibListener& operator=(const HttplibListener&) = delete;

  // True while the accept loop runs.
  bool running() const;

  // Stops accepting, lets requests in progress finish (cpp-httplib also waits for open
  // keep-alive connections to close or time out) and joins the thread. Idempotent; any thread
  // but the listener's own (not from a handler).
  void Stop();

 private:
  explicit HttplibListener(httplib::Server& server) : server_(server) {}

  httplib::Server& server_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable exited_cv_;
  bool exited_ = false;  // guarded by mu_: listen_after_bind() has returned
};

}  // namespace rinha
