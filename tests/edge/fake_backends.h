// In-process stand-ins for the router and the ledger (gRPC sync servers on a unix socket or
// TCP port 0) that record what the edge sends them.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "payments.grpc.pb.h"

// Debian's gRPC, protobuf and Abseil are not built with TSan: tests that run a gRPC client or
// server report races inside them (memory handed between threads by their uninstrumented
// synchronisation). Those tests skip themselves in the TSan build, as the ledger's do; the
// release and ASan/UBSan builds run them.
#if defined(__SANITIZE_THREAD__)
#define RINHA_EDGE_SKIP_GRPC_UNDER_TSAN() \
  GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented (see fake_backends.h)"
#else
#define RINHA_EDGE_SKIP_GRPC_UNDER_TSAN() static_cast<void>(0)
#endif

namespace rinha::edge::testing {

class FakeRouter final : public rinha::v1::Router::Service {
 public:
  // ack = false: batches are received and recorded but never acknowledged.
  explicit FakeRouter(bool ack = true) : ack_(ack) {}

  grpc::Status Submit(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<rinha::v1::PaymentAck, rinha::v1::PaymentBatch>* stream) override {
    rinha::v1::PaymentBatch batch;
    while (stream->Read(&batch)) {
      if (retry_later_next > 0) {
        --retry_later_next;
        rinha::v1::PaymentAck ack;
        ack.set_batch_id(batch.batch_id());
        ack.set_result(rinha::v1::ACK_RESULT_RETRY_LATER);
        ++retried_later;
        if (!stream->Write(ack)) break;
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const rinha::v1::Payment& p : batch.payments()) payments_.push_back(p);
        ++batches_;
      }
      if (ack_) {
        rinha::v1::PaymentAck ack;
        ack.set_batch_id(batch.batch_id());
        if (!stream->Write(ack)) break;
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Purge(grpc::ServerContext*, const rinha::v1::PurgeRequest*,
                     rinha::v1::PurgeResponse*) override {
    ++purges;
    return grpc::Status::OK;
  }

  // Answers what set_status() said for the id (STATE_UNKNOWN otherwise); while blocked (see
  // BlockStatus), waits until released or the caller gives up.
  grpc::Status Status(grpc::ServerContext* context, const rinha::v1::PaymentStatusRequest* request,
                      rinha::v1::PaymentStatus* response) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++status_calls_;
    ++status_waiting_;
    status_cv_.notify_all();
    while (status_blocked_ && !context->IsCancelled()) {
      status_cv_.wait_for(lock, std::chrono::milliseconds(10));
    }
    --status_waiting_;
    auto it = statuses_.find(request->correlation_id());
    if (it != statuses_.end()) *response = it->second;
    return grpc::Status::OK;
  }

  void set_status(const std::string& id, const rinha::v1::PaymentStatus& status) {
    std::lock_guard<std::mutex> lock(mu_);
    statuses_[id] = status;
  }
  // Status calls wait (blocked) or answer (released) from now on.
  void BlockStatus(bool blocked) {
    std::lock_guard<std::mutex> lock(mu_);
    status_blocked_ = blocked;
    status_cv_.notify_all();
  }
  int status_waiting() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_waiting_;
  }
  int status_calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_calls_;
  }

  std::vector<rinha::v1::Payment> payments() const {
    std::lock_guard<std::mutex> lock(mu_);
    return payments_;
  }
  size_t received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return payments_.size();
  }
  std::set<std::string> distinct_ids() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<std::string> ids;
    for (const auto& p : payments_) ids.insert(p.correlation_id());
    return ids;
  }

  std::atomic<int> purges{0};
  // While positive, each batch is answered RETRY_LATER (not taken) and this is decremented.
  std::atomic<int> retry_later_next{0};
  std::atomic<int> retried_later{0};

 private:
  const bool ack_;
  mutable std::mutex mu_;
  std::condition_variable status_cv_;
  std::vector<rinha::v1::Payment> payments_;
  int batches_ = 0;
  std::map<std::string, rinha::v1::PaymentStatus> statuses_;
  bool status_blocked_ = false;
  int status_waiting_ = 0;
  int status_calls_ = 0;
};

class FakeLedger final : public rinha::v1::Ledger::Service {
 public:
  grpc::Status Summary(grpc::ServerContext*, const rinha::v1::SummaryRequest* request,
                       rinha::v1::SummaryResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_request_ = *request;
    *response = summary_;
    return grpc::Status::OK;
  }
  grpc::Status Purge(grpc::ServerContext*, const rinha::v1::PurgeRequest*,
                     rinha::v1::PurgeResponse*) override {
    ++purges;
    return grpc::Status::OK;
  }

  // Answers what set_status() said for the id (STATE_UNKNOWN otherwise).
  grpc::Status Get(grpc::ServerContext*, const rinha::v1::PaymentStatusRequest* request,
                   rinha::v1::PaymentStatus* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++gets;
    auto it = statuses_.find(request->correlation_id());
    if (it != statuses_.end()) *response = it->second;
    return grpc::Status::OK;
  }
  void set_status(const std::string& id, const rinha::v1::PaymentStatus& status) {
    std::lock_guard<std::mutex> lock(mu_);
    statuses_[id] = status;
  }

  void set_summary(const rinha::v1::SummaryResponse& s) {
    std::lock_guard<std::mutex> lock(mu_);
    summary_ = s;
  }
  rinha::v1::SummaryRequest last_request() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

  std::atomic<int> purges{0};
  std::atomic<int> gets{0};

 private:
  mutable std::mutex mu_;
  rinha::v1::SummaryResponse summary_;
  rinha::v1::SummaryRequest last_request_;
  std::map<std::string, rinha::v1::PaymentStatus> statuses_;
};

// Serves `service` on `address` ("unix:/path" or "127.0.0.1:0"); *port gets the TCP port.
inline std::unique_ptr<grpc::Server> Serve(grpc::Service* service, const std::string& address,
                                           int* port = nullptr) {
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound);
  // As the real servers (common/grpc_server.cc): the edge pings TCP peers every second.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 500);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (port != nullptr) *port = bound;
  return server;
}

// Stops at once, cancelling open streams (as a crash would, from the client's point of view).
inline void StopNow(std::unique_ptr<grpc::Server>& server) {
  if (server == nullptr) return;
  server->Shutdown(std::chrono::system_clock::now());
  server->Wait();
  server.reset();
}

}  // namespace rinha::edge::testing
