// Stand-ins for the edge benchmark:
//   --router_socket=PATH  a rinha.v1.Router that acknowledges every batch at once and does
//                         nothing else (so the edge's stream costs what it costs, no more);
//   --http_port=N         a do-nothing HTTP responder, cpp-httplib tuned exactly like the edge,
//                         answering 202 to POST /payments: the floor of the load tool + library.
// Prints "peer listening port=N" (N = HTTP port, or 0) and runs until SIGTERM/SIGINT.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/httplib_listener.h"
#include "common/stop_signal.h"
#include "payments.grpc.pb.h"

ABSL_FLAG(std::string, router_socket, "", "serve an acknowledging Router on this unix socket");
ABSL_FLAG(int, http_port, -1, "serve a do-nothing HTTP responder on this port (0 = any)");
ABSL_FLAG(int, threads, 32, "HTTP worker threads");

namespace {

class AckingRouter final : public rinha::v1::Router::Service {
  grpc::Status Submit(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<rinha::v1::PaymentAck, rinha::v1::PaymentBatch>* stream) override {
    rinha::v1::PaymentBatch batch;
    rinha::v1::PaymentAck ack;
    while (stream->Read(&batch)) {
      ack.set_batch_id(batch.batch_id());
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  rinha::BlockStopSignals();
  signal(SIGPIPE, SIG_IGN);

  AckingRouter router;
  std::unique_ptr<grpc::Server> router_server;
  const std::string socket = absl::GetFlag(FLAGS_router_socket);
  if (!socket.empty()) {
    unlink(socket.c_str());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
    builder.RegisterService(&router);
    router_server = builder.BuildAndStart();
    if (router_server == nullptr) return 1;
  }

  httplib::Server http;
  std::unique_ptr<rinha::HttplibListener> listener;
  int port = 0;
  if (absl::GetFlag(FLAGS_http_port) >= 0) {
    const int threads = absl::GetFlag(FLAGS_threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_tcp_nodelay(true);
    http.set_keep_alive_max_count(1'000'000'000);
    http.set_keep_alive_timeout(60);
    int listen_fd = -1;
    http.set_socket_options([&listen_fd](int fd) {
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      listen_fd = fd;
    });
    http.Post("/payments",
              [](const httplib::Request&, httplib::Response& res) { res.status = 202; });
    port = absl::GetFlag(FLAGS_http_port) == 0
               ? http.bind_to_any_port("127.0.0.1")
               : (http.bind_to_port("127.0.0.1", absl::GetFlag(FLAGS_http_port))
                      ? absl::GetFlag(FLAGS_http_port)
                      : -1);
    if (port <= 0) return 1;
    ::listen(listen_fd, 4096);
    listener = rinha::HttplibListener::Start(http);
  }
  std::printf("peer listening port=%d\n", port);
  std::fflush(stdout);
  rinha::WaitForStopSignal();
  if (listener != nullptr) listener->Stop();
  if (router_server) router_server->Shutdown(std::chrono::system_clock::now());
  return 0;
}
