#include "processor/processor_server.h"

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace rinha::processor {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

// Request.Query[name]: names in any case; several values read as one joined by ','.
std::optional<std::string> QueryValue(const Http1Request& request, std::string_view name) {
  std::optional<std::string> value;
  for (const auto& [key, v] : request.query) {
    if (Lower(key) != name) continue;
    value = value.has_value() ? absl::StrCat(*value, ",", v) : v;
  }
  return value;
}

std::optional<std::string_view> View(const std::optional<std::string>& s) {
  if (!s.has_value()) return std::nullopt;
  return std::string_view(*s);
}

HttpReply MethodNotAllowed(std::string_view allow) {
  return HttpReply{.status = 405, .headers = {{"Allow", std::string(allow)}}};
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

// The head (through its blank line) and the framed body, apart, for the fault modes.
struct Framed {
  std::string head;
  std::string body;
};

Framed Frame(const HttpReply& reply, bool close) {
  Framed out;
  absl::StrAppend(&out.head, "HTTP/1.1 ", reply.status, " ", Reason(reply.status), "\r\n");
  if (!reply.content_type.empty() && !reply.body.empty()) {
    absl::StrAppend(&out.head, "Content-Type: ", reply.content_type, "\r\n");
  }
  for (const auto& [name, value] : reply.headers) {
    absl::StrAppend(&out.head, name, ": ", value, "\r\n");
  }
  if (reply.status == 204) {
    // No body and no length.
  } else if (reply.body.empty()) {
    out.head += "Content-Length: 0\r\n";
  } else {
    out.head += "Transfer-Encoding: chunked\r\n";
    out.body = absl::StrCat(absl::Hex(reply.body.size()), "\r\n", reply.body, "\r\n0\r\n\r\n");
  }
  if (close) out.head += "Connection: close\r\n";
  out.head += "\r\n";
  return out;
}

}  // namespace

std::string FormatReply(const HttpReply& reply, bool close) {
  Framed framed = Frame(reply, close);
  return framed.head + framed.body;
}

HttpReply Route(ProcessorService& service, const Http1Request& request) {
  const std::string_view method = request.method;
  std::string_view path = request.path;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::string lower = Lower(path);
  const std::optional<std::string_view> token = request.Header("X-Rinha-Token");
  const std::optional<std::string_view> content_type = request.Header("Content-Type");
  const std::string_view body = request.body;

  if (lower == "/payments") {
    if (method == "POST") return service.PostPayment(body, content_type);
    return MethodNotAllowed("POST");
  }
  if (lower == "/payments/service-health") {
    if (method == "GET") return service.GetHealth();
    return MethodNotAllowed("GET");
  }
  if (lower == "/admin/payments-summary") {
    if (method != "GET") return MethodNotAllowed("GET");
    return service.AdminSummary(token, View(QueryValue(request, "from")),
                                View(QueryValue(request, "to")));
  }
  if (lower == "/admin/payments/ids") {  // an emulator extra
    if (method != "GET") return MethodNotAllowed("GET");
    return service.AdminPaymentIds(token, View(QueryValue(request, "from")),
                                   View(QueryValue(request, "to")),
                                   View(QueryValue(request, "with")));
  }
  if (lower == "/admin/health-calls") {  // an emulator extra
    if (method != "GET") return MethodNotAllowed("GET");
    return service.AdminHealthCalls(token);
  }
  if (lower == "/admin/purge-payments") {
    if (method == "POST") return service.AdminPurge(token);
    return MethodNotAllowed("POST");
  }
  constexpr std::string_view kConfigurations = "/admin/configurations/";
  if (lower.rfind(kConfigurations, 0) == 0) {
    const std::string_view what = std::string_view(lower).substr(kConfigurations.size());
    if (what == "token" || what == "delay" || what == "failure" || what == "fault") {
      if (method != "PUT") return MethodNotAllowed("PUT");
      if (what == "token") return service.AdminSetToken(token, body, content_type);
      if (what == "delay") return service.AdminSetDelay(token, body, content_type);
      if (what == "failure") return service.AdminSetFailure(token, body, content_type);
      return service.AdminSetFault(token, body);  // an emulator extra
    }
  }
  // GET /payments/{id}: any one non-empty segment; the Guid binding judges it (400).
  constexpr std::string_view kPayments = "/payments/";
  if (lower.rfind(kPayments, 0) == 0 && lower.size() > kPayments.size() &&
      lower.find('/', kPayments.size()) == std::string::npos) {
    if (method == "GET") return service.GetPayment(path.substr(kPayments.size()));
    return MethodNotAllowed("GET");
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
      http.Answer(id, {FormatReply(reply, close), close});
    } else {
      AnswerFaultily(http, id, reply, close);
    }
  });
  if (accepted) return std::nullopt;
  // Every worker slot is taken: answer like the limiter's overflow.
  return Http1Answer{FormatReply(service_.TooManyRequests(), close), close};
}

void ProcessorServer::AnswerFaultily(Http1Server& http, Http1Server::ConnectionId id,
                                     const HttpReply& reply, bool close) {
  // Formatted for the connection as requested (keep-alive or not), then broken: the client must
  // learn of the fault from the bytes, not from a Connection: close.
  const Framed framed = Frame(reply, close);
  const std::string response = framed.head + framed.body;
  const size_t head = framed.head.size();
  switch (reply.delivery) {
    case Delivery::kResetInHead:
      // Cut inside the status line: the client cannot tell what was decided ("HTTP/1.1 ").
      http.Answer(id, {response.substr(0, 9), true, false, /*reset=*/true});
      return;
    case Delivery::kTruncatedBody: {
      // The chunk's size line and half its data: the chunk, and so the body, never ends.
      const size_t size_line = framed.body.find("\r\n") + 2;
      http.Answer(id, {response.substr(0, head + size_line + reply.body.size() / 2),
                       /*close=*/true});
      return;
    }
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
