// What a gRPC completion queue hands back: the tag of every asynchronous operation of this
// system is a CqTag, and the one thread that takes the queue's events (Next) runs tag->Done(ok).
// No gRPC types here, so the header costs nothing to include.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace rinha {

class CqTag {
 public:
  virtual void Done(bool ok) = 0;

 protected:
  ~CqTag() = default;
};

// A tag that calls (owner->*method)(ok): an object with several operations in flight (a read, a
// write, a finish) keeps one of these per operation.
template <typename Owner>
class MemberTag final : public CqTag {
 public:
  MemberTag(Owner* owner, void (Owner::*method)(bool)) : owner_(owner), method_(method) {}
  void Done(bool ok) override { (owner_->*method_)(ok); }

 private:
  Owner* const owner_;
  void (Owner::*const method_)(bool);
};

// How many call objects of a server are alive. A call's events can start more operations on its
// queue (a read that fails leads to Finish), so the queue may be shut down only once no call is
// left: the owner waits for zero after the server and whatever answers the calls have stopped.
class LiveCalls {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mu_);
    ++live_;
  }
  void Remove() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--live_ == 0) zero_.notify_all();
  }
  void WaitForNone() {
    std::unique_lock<std::mutex> lock(mu_);
    zero_.wait(lock, [&] { return live_ == 0; });
  }

  // Counts one call object for as long as it lives. Declared as the object's first member, so
  // the count drops only after the rest of it (its grpc::ServerContext included) is destroyed.
  class Token {
   public:
    explicit Token(LiveCalls* calls) : calls_(*calls) { calls_.Add(); }
    ~Token() { calls_.Remove(); }
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;
    LiveCalls* calls() const { return &calls_; }

   private:
    LiveCalls& calls_;
  };

 private:
  std::mutex mu_;
  std::condition_variable zero_;
  int64_t live_ = 0;
};

}  // namespace rinha
