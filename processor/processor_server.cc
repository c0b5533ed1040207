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
    if (path == "/admin/configurations/fault") return service.AdminSetFault(token, request.body);
  }
  return HttpReply{.status = 404};
}

ProcessorServer::ProcessorServer(Clock& clock, const ServerOptions& options)
    : service_(clock, options.processor), pool_(options.threads) {}

absl::StatusOr<std::unique_ptr<ProcessorServer>> ProcessorServer::Start(
    Clock& clock, const ServerOptions& options) {
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
  if (absl::Status fault = ValidateFault(p.initial_fault); !fault.ok()) return fault;
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
  if (p.initial_fault.mode == FaultMode::kRefuse) {
    server->http_->Refuse(absl::ToChronoMilliseconds(p.initial_fault.duration));
  }
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
    if (reply.delivery == Delivery::kWhole) {
      http.Answer(id, {FormatHttp1Response(reply.status, reply.headers, reply.body, close), close});
    } else {
      AnswerFaultily(http, id, reply, close);
    }
  });
  if (accepted) return std::nullopt;
  // Every worker slot is taken: answer like the limiter's overflow.
  return Http1Answer{FormatHttp1Response(429, {{"Retry-After", "5"}}, "", close), close};
}

void ProcessorServer::AnswerFaultily(Http1Server& http, Http1Server::ConnectionId id,
                                     const HttpReply& reply, bool close) {
  // Formatted for the connection as requested (keep-alive or not), then broken: the client must
  // learn of the fault from the bytes, not from a Connection: close.
  const std::string response = FormatHttp1Response(reply.status, reply.headers, reply.body, close);
  const size_t head = response.find("\r\n\r\n") + 4;
  switch (reply.delivery) {
    case Delivery::kResetInHead:
      // Cut inside the status line: the client cannot tell what was decided ("HTTP/1.1 ").
      http.Answer(id, {response.substr(0, 9), true, false, /*reset=*/true});
      return;
    case Delivery::kTruncatedBody:
      http.Answer(id, {response.substr(0, head + reply.body.size() / 2), /*close=*/true});
      return;
    case Delivery::kDripHead:
      // Holds this worker thread (not a limiter slot) for the whole drip, as a slow server would
      // hold its own.
      for (size_t i = 0; i + 1 < head; ++i) {
        http.Answer(id, {response.substr(i, 1), false, /*partial=*/true});
        if (!service_.Pause(reply.pace)) {
          http.Answer(id, {"", /*close=*/true});  // stopping
          return;
        }
      }
      http.Answer(id, {response.substr(head - 1), close});
      return;
    case Delivery::kThenRefuse:
      http.Answer(id, {response, close});
      http.Refuse(absl::ToChronoMilliseconds(reply.pace));
      return;
    case Delivery::kWhole:
      break;
  }
  http.Answer(id, {response, close});
}

ProcessorServer::~ProcessorServer() { Stop(); }

int ProcessorServer::port() const { return http_->port(); }
int ProcessorServer::worker_threads() const { return pool_.threads(); }
int ProcessorServer::connections() const { return http_->connections(); }
bool ProcessorServer::listening() const { return http_->listening(); }

void ProcessorServer::Stop() {
  // Waiting requests give up (503); with the loop gone their answers are dropped.
  service_.Shutdown();
  if (http_ != nullptr) http_->Stop();
  pool_.Stop();
}

}  // namespace rinha::processor
