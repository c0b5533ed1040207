// Host name -> IPv4 address, off the caller's thread: the event loop asks and goes on; the answer
// comes back through a callback on a resolver thread (HttpTransport hands it to its loop). The
// interface is the seam where tests put a fake that answers when they say so.
#pragma once

#include <netinet/in.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace rinha::router {

class Resolver {
 public:
  using Done = std::function<void(absl::StatusOr<in_addr> address)>;
  virtual ~Resolver() = default;

  // Starts looking `name` up and returns without waiting for the network. `done` runs once with
  // the first IPv4 address or an error, on any thread (a fake may even run it inside this call),
  // and never after the resolver is destroyed. Any thread.
  virtual void Resolve(std::string name, Done done) = 0;
};

// getaddrinfo(AF_INET) on a few worker threads of its own (the C library's resolver blocks, up to
// its timeouts times its attempts when a DNS server does not answer). With as many workers as
// names looked up at a time, a slow name does not hold up another.
class GetaddrinfoResolver final : public Resolver {
 public:
  // Blocking name -> address; the default calls getaddrinfo. Tests replace it.
  using Lookup = std::function<absl::StatusOr<in_addr>(const std::string& name)>;
  static absl::StatusOr<in_addr> GetAddrInfo(const std::string& name);

  explicit GetaddrinfoResolver(int threads = 2, Lookup lookup = GetAddrInfo);
  // Drops lookups not started; waits for callbacks running now. A worker stuck in a lookup is
  // left to finish on its own (its result is dropped) rather than holding up a shutdown.
  ~GetaddrinfoResolver() override;
  GetaddrinfoResolver(const GetaddrinfoResolver&) = delete;
  GetaddrinfoResolver& operator=(const GetaddrinfoResolver&) = delete;

  void Resolve(std::string name, Done done) override;

 private:
  struct State;  // shared with the workers, which may outlive this object (resolver.cc)
  std::shared_ptr<State> state_;
};

}  // namespace rinha::router
