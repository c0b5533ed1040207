#include "processor/processor_server.h"

#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"

namespace rinha::processor {

HttpReply Route(ProcessorService& service, const Http1Request& request) {
  const std::string_view method = request.method;
  const std::string_view path = request.path;
  const std::optional<std::string_view> token = request.Header("X-Rinha-Token");
  if (method == "POST") {
    if (path == "/payments") return service.PostPayment(request.body);
    if (path == "/admin/purge-payments") return service.AdminPurge(token);
  } else if (method == "GET") {
    if (path == "/payments/service-health") return service.GetHealth();
    constexpr std::string_view kPayments = "/payments/";
    if (path.substr(0, kPayments.size()) == kPayments && path.size() > kPayments.size() &&
        path.find('/', kPayments.size()) == std::string_view::npos) {
      return service.GetPayment(path.substr(kPayments.size()));
    }
    if (path == "/admin/payments-summary") {
      return service.AdminSummary(token, request.Query("from"), request.Query("to"));
    }
    if (path == "/admin/payments/ids") {
      return service.AdminPaymentIds(token, request.Query("from"), request.Query("to"));
    }
  } else if (method == "PUT") {
    if (path == "/admin/configurations/token") return service.AdminSetToken(token, request.body);
    if (path == "/admin/configurations/delay") return service.AdminSetDelay(token, request.body);
    if (path == "/admin/configurations/failure") {
      return service.AdminSetFailure(token, request.body);
    }
  }
  return HttpReply{.status = 404};
}

ProcessorServer::ProcessorServer(Clock& clock, const ServerOptions& options)
    : service_(clock, options.processor), pool_(options.threads) {}

absl::StatusOr<std::unique_ptr<ProcessorServer>> ProcessorServer::Start(Clock& clock,
                                                                        ServerOptions options) {
  if (options.threads < 1) return absl::InvalidArgumentError("threads must be >= 1");
  if (options.keep_alive_timeout_s < 1) {
    return absl::InvalidArgumentError("keep_alive_timeout_s must be >= 1");
  }
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
  Http1ServerOptions http;
  http.host = options.host;
  http.port = options.port;
  http.listen_backlog = options.listen_backlog;
  http.idle_timeout = std::chrono::seconds(options.keep_alive_timeout_s);
  http.limits = options.limits;
  ProcessorServer* raw = server.get();
  absl::StatusOr<std::unique_ptr<Http1Server>> started = Http1Server::Start(
      http, [raw](Http1Server& http_server, Http1Server::ConnectionId id, Http1Request request) {
        return raw->Dispatch(http_server, id, std::move(request));
      });
  if (!started.ok()) return started.status();
  server->http_ = *std::move(started);
  return server;
}

std::optional<Http1Answer> ProcessorServer::Dispatch(Http1Server& http,
                                                     Http1Server::ConnectionId id,
                                                     Http1Request request) {
  const bool close = !request.keep_alive;
  auto shared = std::make_shared<Http1Request>(std::move(request));
  const bool accepted = pool_.TrySubmit([this, &http, id, shared, close] {
    HttpReply reply;
    try {
      reply = Route(service_, *shared);
    } catch (const std::exception&) {
      reply = HttpReply{.status = 500};
    }
    http.Answer(id, {FormatHttp1Response(reply.status, reply.headers, reply.body, close), close});
  });
  if (accepted) return std::nullopt;
  // Every worker slot is taken: answer like the limiter's overflow.
  return Http1Answer{FormatHttp1Response(429, {{"Retry-After", "5"}}, "", close), close};
}

ProcessorServer::~ProcessorServer() { Stop(); }

int ProcessorServer::port() const { return http_->port(); }
int ProcessorServer::worker_threads() const { return pool_.threads(); }
int ProcessorServer::connections() const { return http_->connections(); }

void ProcessorServer::Stop() {
  // Waiting requests give up (503); with the loop gone their answers are dropped.
  service_.Shutdown();
  if (http_ != nullptr) http_->Stop();
  pool_.Stop();
}

}  // namespace rinha::processor
