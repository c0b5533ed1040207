// GrpcServer: the standard health answers, and one thread polling for the whole server (no
// callback-API threads), with an asynchronous method served through CqTag.
#include "common/grpc_server.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "health.grpc.pb.h"
#include "payments.grpc.pb.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/testing/thread_names.h"

namespace rinha {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using ::rinha::testing::ThreadNames;

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(30);
}

// rinha.v1.Router with Purge asynchronous (answered on the queue's thread) and the rest left
// synchronous (UNIMPLEMENTED): a server of the same shape as the router's and the ledger's.
class AsyncPurgeService final
    : public rinha::v1::Router::WithAsyncMethod_Purge<rinha::v1::Router::Service> {
 public:
  // Answers every Purge with `deleted` = the number of calls so far.
  class Call {
   public:
    static void Request(AsyncPurgeService* service, grpc::ServerCompletionQueue* cq) {
      auto* call = new Call(service, cq);
      service->RequestPurge(&call->context_, &call->request_, &call->responder_, cq, cq,
                            &call->requested_);
    }

   private:
    Call(AsyncPurgeService* service, grpc::ServerCompletionQueue* cq)
        : service_(service), cq_(cq) {}
    void OnRequested(bool ok) {
      if (!ok) {
        delete this;
        return;
      }
      Request(service_, cq_);
      rinha::v1::PurgeResponse response;
      response.set_deleted(++service_->calls_);
      responder_.Finish(response, grpc::Status::OK, &finished_);
    }
    void OnFinished(bool /*ok*/) { delete this; }

    AsyncPurgeService* const service_;
    grpc::ServerCompletionQueue* const cq_;
    grpc::ServerContext context_;
    rinha::v1::PurgeRequest request_;
    grpc::ServerAsyncResponseWriter<rinha::v1::PurgeResponse> responder_{&context_};
    MemberTag<Call> requested_{this, &Call::OnRequested};
    MemberTag<Call> finished_{this, &Call::OnFinished};
  };

 private:
  int64_t calls_ = 0;  // the queue's thread only
};

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RINHA_SKIP_GRPC_UNDER_TSAN();
    absl::StatusOr<std::unique_ptr<GrpcServer>> server =
        GrpcServer::Start(&service_, {.tcp_address = "127.0.0.1:0"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    AsyncPurgeService::Call::Request(&service_, server_->cq());
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->tcp_port()),
                                   grpc::InsecureChannelCredentials());
  }

  AsyncPurgeService service_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GrpcServerTest, HealthCheckOfTheServerIsServing) {
  auto stub = Health::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, HealthCheckRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
}

TEST_F(GrpcServerTest, HealthCheckOfAnUnknownServiceIsNotFound) {
  auto stub = Health::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  HealthCheckRequest request;
  request.set_service("no.such.Service");
  HealthCheckResponse response;
  EXPECT_EQ(stub->Check(&context, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcServerTest, HealthWatchIsUnimplemented) {
  auto stub = Health::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  auto reader = stub->Watch(&context, HealthCheckRequest());
  HealthCheckResponse response;
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcServerTest, AsynchronousAndSynchronousMethodsAreServedWithOnePollingThread) {
  auto stub = rinha::v1::Router::NewStub(channel_);
  for (int i = 1; i <= 3; ++i) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    rinha::v1::PurgeResponse response;
    grpc::Status status = stub->Purge(&context, rinha::v1::PurgeRequest(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.deleted(), i);
  }
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  rinha::v1::RouterStatsResponse stats;
  EXPECT_EQ(stub->Stats(&context, rinha::v1::RouterStatsRequest(), &stats).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  const std::map<std::string, int> names = ThreadNames();
  EXPECT_EQ(names.count("nexting_thread"), 0u) << "gRPC's callback API started its threads";
  auto poller = names.find(GrpcServer::kPollerThreadName);
  ASSERT_NE(poller, names.end());
  EXPECT_EQ(poller->second, 1);
}

TEST_F(GrpcServerTest, ShutdownWithACallRequestedReturnsAndIsIdempotent) {
  server_->ShutdownServer(absl::ZeroDuration());
  server_->ShutdownQueue();
  server_->ShutdownServer(absl::ZeroDuration());
  server_->ShutdownQueue();
  EXPECT_EQ(ThreadNames().count(GrpcServer::kPollerThreadName), 0u);
}

// Records one event of a completion queue and lets the test wait for it.
class OneEvent final : public CqTag {
 public:
  void Done(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    ok_ = ok;
    cv_.notify_all();
  }
  // The event's ok, once it came (the call's deadline bounds the wait: the event outlives it).
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return ok_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool ok_ = false;
};

// A health Check of the fixture's server, its answer taken on `cq`.
void ExpectServingThrough(Health::Stub& stub, grpc::CompletionQueue* cq) {
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  HealthCheckResponse response;
  grpc::Status status;
  OneEvent finished;
  std::unique_ptr<grpc::ClientAsyncResponseReader<HealthCheckResponse>> reader =
      stub.AsyncCheck(&context, HealthCheckRequest(), cq);
  reader->Finish(&response, &status, &finished);
  ASSERT_TRUE(finished.Wait());
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
}

// The router's ledger stream completes on its server's queue from before the server serves.
TEST_F(GrpcServerTest, APreparedQueueRunsClientCallsBeforeAndAfterItsServerServes) {
  AsyncPurgeService service;  // outlives the server
  std::unique_ptr<GrpcServer> prepared = GrpcServer::Prepare();
  auto stub = Health::NewStub(channel_);
  ExpectServingThrough(*stub, prepared->cq());
  EXPECT_EQ(ThreadNames()[GrpcServer::kPollerThreadName], 2) << "the fixture's and this one";

  ASSERT_TRUE(prepared->Serve(&service, {.tcp_address = "127.0.0.1:0"}).ok());
  EXPECT_EQ(prepared->Serve(&service, {.tcp_address = "127.0.0.1:0"}).code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectServingThrough(*stub, prepared->cq());
  // And it serves: its own health.
  auto own = Health::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(prepared->tcp_port()), grpc::InsecureChannelCredentials()));
  ExpectServingThrough(*own, prepared->cq());
  prepared->ShutdownServer(absl::ZeroDuration());
  prepared->ShutdownQueue();
  EXPECT_EQ(ThreadNames()[GrpcServer::kPollerThreadName], 1);
}

TEST(GrpcServerStartTest, NeedsAnAddress) {
  rinha::v1::Router::Service service;
  EXPECT_EQ(GrpcServer::Start(&service, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GrpcServerStartTest, APortInUseFailsToStart) {
  RINHA_SKIP_GRPC_UNDER_TSAN();
  rinha::v1::Router::Service first_service, second_service;
  absl::StatusOr<std::unique_ptr<GrpcServer>> first =
      GrpcServer::Start(&first_service, {.tcp_address = "127.0.0.1:0"});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<GrpcServer>> second = GrpcServer::Start(
      &second_service, {.tcp_address = "127.0.0.1:" + std::to_string((*first)->tcp_port())});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

}  // namespace
}  // namespace rinha
