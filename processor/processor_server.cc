#include "processor/processor_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace rinha::processor {
namespace {

std::optional<std::string_view> Header(const httplib::Request& req, const char* name) {
  auto it = req.headers.find(name);
  if (it == req.headers.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string_view> Param(const httplib::Request& req, const char* name) {
  auto it = req.params.find(name);
  if (it == req.params.end()) return std::nullopt;
  return std::string_view(it->second);
}

void Send(const HttpReply& reply, httplib::Response& res) {
  res.status = reply.status;
  for (const auto& [name, value] : reply.headers) res.set_header(name.c_str(), value);
  if (!reply.body.empty()) res.set_content(reply.body, "application/json");
}

}  // namespace

ProcessorServer::ProcessorServer(Clock& clock, const ServerOptions& options)
    : service_(clock, options.processor), http_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<ProcessorServer>> ProcessorServer::Start(Clock& clock,
                                                                        ServerOptions options) {
  if (options.threads < 1) return absl::InvalidArgumentError("threads must be >= 1");
  // Each of these would otherwise hang every request (no slot ever free) or divide by a zero
  // window in the health limiter.
  const ProcessorOptions& p = options.processor;
  if (p.max_in_flight < 1) return absl::InvalidArgumentError("max_in_flight must be >= 1");
  if (p.max_queued < 0) return absl::InvalidArgumentError("max_queued must be >= 0");
  if (p.health_window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("health window must be positive");
  }
  if (p.health_max_queued < 0) return absl::InvalidArgumentError("health_max_queued must be >= 0");
  if (p.initial_delay_ms < 0) return absl::InvalidArgumentError("initial delay must be >= 0");
  std::unique_ptr<ProcessorServer> server(new ProcessorServer(clock, options));
  httplib::Server& http = *server->http_;

  const size_t threads = static_cast<size_t>(options.threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_keep_alive_max_count(1'000'000'000);
  http.set_keep_alive_timeout(options.keep_alive_timeout_s);
  http.set_read_timeout(options.read_timeout_s);
  http.set_write_timeout(options.write_timeout_s);
  http.set_tcp_nodelay(true);
  // Replaces httplib's default options (SO_REUSEADDR + SO_REUSEPORT): without SO_REUSEPORT a
  // second emulator on a busy port fails instead of silently sharing it. Captures the listening
  // socket to raise the backlog that the compiled library fixes at 5.
  auto listen_fd = std::make_shared<int>(-1);
  http.set_socket_options([listen_fd](int fd) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *listen_fd = fd;
  });
  server->RegisterRoutes();

  if (options.port == 0) {
    server->port_ = http.bind_to_any_port(options.host);
    if (server->port_ <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot bind ", options.host, ":0"));
    }
  } else {
    if (!http.bind_to_port(options.host, options.port)) {
      return absl::UnavailableError(absl::StrCat("cannot bind ", options.host, ":", options.port));
    }
    server->port_ = options.port;
  }
  if (*listen_fd >= 0) ::listen(*listen_fd, options.listen_backlog);

  server->serve_thread_ = std::thread([&http] { http.listen_after_bind(); });
  // stop() is a no-op until the accept loop runs; wait for it so an early Stop() is not lost.
  while (!http.is_running()) std::this_thread::yield();
  return server;
}

ProcessorServer::~ProcessorServer() { Stop(); }

void ProcessorServer::Stop() {
  if (!serve_thread_.joinable()) return;
  service_.Shutdown();
  http_->stop();
  serve_thread_.join();
}

void ProcessorServer::RegisterRoutes() {
  httplib::Server& http = *http_;
  ProcessorService& svc = service_;

  http.Post("/payments", [&svc](const httplib::Request& req, httplib::Response& res) {
    Send(svc.PostPayment(req.body), res);
  });
  // Registered before /payments/{id}: httplib tries patterns in registration order.
  http.Get("/payments/service-health", [&svc](const httplib::Request&, httplib::Response& res) {
    Send(svc.GetHealth(), res);
  });
  http.Get(R"(/payments/([^/]+))", [&svc](const httplib::Request& req, httplib::Response& res) {
    Send(svc.GetPayment(req.matches[1].str()), res);
  });
  http.Get("/admin/payments-summary", [&svc](const httplib::Request& req, httplib::Response& res) {
    Send(svc.AdminSummary(Header(req, "X-Rinha-Token"), Param(req, "from"), Param(req, "to")),
         res);
  });
  http.Put("/admin/configurations/token",
           [&svc](const httplib::Request& req, httplib::Response& res) {
             Send(svc.AdminSetToken(Header(req, "X-Rinha-Token"), req.body), res);
           });
  http.Put("/admin/configurations/delay",
           [&svc](const httplib::Request& req, httplib::Response& res) {
             Send(svc.AdminSetDelay(Header(req, "X-Rinha-Token"), req.body), res);
           });
  http.Put("/admin/configurations/failure",
           [&svc](const httplib::Request& req, httplib::Response& res) {
             Send(svc.AdminSetFailure(Header(req, "X-Rinha-Token"), req.body), res);
           });
  http.Post("/admin/purge-payments", [&svc](const httplib::Request& req, httplib::Response& res) {
    Send(svc.AdminPurge(Header(req, "X-Rinha-Token")), res);
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) { res.status = 500; });
}

}  // namespace rinha::processor
