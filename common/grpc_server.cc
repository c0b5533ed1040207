#include "common/grpc_server.h"

#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/grpc_channel.h"
#include "health.grpc.pb.h"

namespace rinha {
namespace {

// A socket file left by a killed process would make bind() fail; anything else at that path is
// not ours to delete.
absl::Status RemoveStaleSocket(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("stat ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a socket"));
  }
  if (::unlink(path.c_str()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("unlink ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// grpc.health.v1.Health for the server as a whole (""): it answers while the server runs.
// Synchronous: called every few seconds by a container's health check at most.
class HealthService final : public grpc::health::v1::Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext* /*context*/,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override {
    if (!request->service().empty()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
    }
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }
  // Watch stays UNIMPLEMENTED (the base class's answer), which the health protocol allows.
};

}  // namespace

absl::Status EnsureParentDirectory(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create directory ", parent.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

std::unique_ptr<GrpcServer> GrpcServer::Prepare() {
  // A process-wide switch that takes effect for builders made afterwards.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<GrpcServer> server(new GrpcServer());
  server->builder_ = std::make_unique<grpc::ServerBuilder>();
  // Frequently polled: with it gRPC makes the synchronous methods' queues non-polling. Polled
  // from now on, before the server is built: a queue is a queue until Serve registers it.
  server->cq_ = server->builder_->AddCompletionQueue(/*is_frequently_polled=*/true);
  server->poller_ = std::thread([s = server.get()] { s->Poll(); });
  // Named here, not by the thread itself: a thread listing right after Prepare shows it.
  ::pthread_setname_np(server->poller_.native_handle(), kPollerThreadName);
  return server;
}

absl::Status GrpcServer::Serve(grpc::Service* service, const GrpcListenOptions& options) {
  if (builder_ == nullptr) return absl::FailedPreconditionError("Serve once, after Prepare");
  if (options.tcp_address.empty() && options.unix_socket_path.empty()) {
    return absl::InvalidArgumentError("needs a TCP address or a unix socket path");
  }
  const std::unique_ptr<grpc::ServerBuilder> builder = std::move(builder_);
  // gRPC's default health service is callback-based (nexting threads: see the header); ours is
  // synchronous and needs no polling thread of its own.
  builder->SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  health_ = std::make_unique<HealthService>();
  // gRPC sets SO_REUSEPORT by default, which lets a second server start silently on a port that
  // is already serving; a clash must fail loudly instead.
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Clients across a network ping every second to notice a peer that vanished without closing
  // its connections (common/grpc_channel.h); gRPC's default answers pings more often than every
  // 5 minutes with GOAWAY.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              kNetworkKeepaliveMs / 2);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Synchronous methods (reflection, health, rare unary ones) need a thread only while one runs.
  builder->SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder->SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder->SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 2);
  builder->RegisterService(service);
  builder->RegisterService(health_.get());
  if (!options.tcp_address.empty()) {
    builder->AddListeningPort(options.tcp_address, grpc::InsecureServerCredentials(), &tcp_port_);
  }
  if (!options.unix_socket_path.empty()) {
    if (absl::Status s = EnsureParentDirectory(options.unix_socket_path); !s.ok()) return s;
    if (absl::Status s = RemoveStaleSocket(options.unix_socket_path); !s.ok()) return s;
    builder->AddListeningPort(absl::StrCat("unix:", options.unix_socket_path),
                              grpc::InsecureServerCredentials());
  }
  server_ = builder->BuildAndStart();
  if (server_ == nullptr || (!options.tcp_address.empty() && tcp_port_ == 0)) {
    if (server_ != nullptr) server_->Shutdown();
    server_shut_down_ = true;
    return absl::UnavailableError(absl::StrCat("cannot listen on tcp '", options.tcp_address,
                                               "' / unix '", options.unix_socket_path, "'"));
  }
  if (!options.unix_socket_path.empty()) ::chmod(options.unix_socket_path.c_str(), 0666);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(grpc::Service* service,
                                                              const GrpcListenOptions& options) {
  if (options.tcp_address.empty() && options.unix_socket_path.empty()) {
    return absl::InvalidArgumentError("needs a TCP address or a unix socket path");
  }
  std::unique_ptr<GrpcServer> server = Prepare();
  if (absl::Status s = server->Serve(service, options); !s.ok()) return s;
  return server;
}

GrpcServer::~GrpcServer() {
  ShutdownServer(absl::ZeroDuration());
  ShutdownQueue();
}

void GrpcServer::Poll() {
  void* tag = nullptr;
  bool ok = false;
  while (cq_->Next(&tag, &ok)) static_cast<CqTag*>(tag)->Done(ok);
}

void GrpcServer::ShutdownServer(absl::Duration grace) {
  if (server_shut_down_ || server_ == nullptr) return;
  server_shut_down_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
}

void GrpcServer::ShutdownQueue() {
  if (queue_shut_down_ || cq_ == nullptr) return;
  queue_shut_down_ = true;
  cq_->Shutdown();
  if (poller_.joinable()) poller_.join();
}

}  // namespace rinha
