#include "edge/edge_server.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/bounded_httplib_server.h"
#include "common/httplib_listener.h"
#include "common/log.h"
#include "edge/payment_codec.h"

namespace rinha::edge {
namespace {

constexpr char kJson[] = "application/json";

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args;
  // gRPC's default reconnect backoff grows to 120 s; a restarted router must be found again
  // within about a second. GRPC_ARG_MIN_RECONNECT_BACKOFF_MS stays unset: gRPC core takes it as
  // the connect timeout (at least 100 ms), and a connect plus HTTP/2 handshake slower than that
  // on a loaded machine failed the summary with 503. A peer that is down still fails at once:
  // its address refuses the connection.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

std::chrono::system_clock::time_point Deadline(absl::Duration d) {
  return std::chrono::system_clock::now() + absl::ToChronoNanoseconds(d);
}

void SetError(httplib::Response& res, int status, absl::string_view message) {
  res.status = status;
  res.set_content(ErrorJson(message), kJson);
}

std::optional<std::string_view> Param(const httplib::Request& req, const char* key) {
  auto it = req.params.find(key);
  if (it == req.params.end()) return std::nullopt;
  return std::string_view(it->second);
}

bool IsKnownPath(const std::string& path) {
  return path == "/payments" || path == "/payments-summary" || path == "/purge-payments";
}

}  // namespace

EdgeServer::EdgeServer(const EdgeServerOptions& options, Clock& clock)
    : options_(options), clock_(clock) {}

EdgeServer::~EdgeServer() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<EdgeServer>> EdgeServer::Start(const EdgeServerOptions& options,
                                                              Clock& clock) {
  std::unique_ptr<EdgeServer> edge(new EdgeServer(options, clock));
  std::shared_ptr<grpc::Channel> router_channel = MakeChannel(options.router_target);
  edge->router_ = rinha::v1::Router::NewStub(router_channel);
  edge->ledger_ = rinha::v1::Ledger::NewStub(MakeChannel(options.ledger_target));
  absl::StatusOr<std::unique_ptr<RouterStream>> stream =
      RouterStream::Start(router_channel, options.stream);
  if (!stream.ok()) return stream.status();
  edge->stream_ = *std::move(stream);

  BoundedHttplibLimits limits;
  limits.threads = options.threads;
  limits.request_timeout = absl::ToChronoMilliseconds(options.request_timeout);
  limits.keep_alive_timeout = absl::ToChronoMilliseconds(options.keep_alive_timeout);
  limits.write_timeout = absl::ToChronoMilliseconds(options.write_timeout);
  limits.max_request_bytes = options.max_head_bytes + options.max_body_bytes;
  limits.refusal_body = ErrorJson("busy: every connection slot is taken");
  edge->http_ = std::make_unique<BoundedHttplibServer>(limits);
  BoundedHttplibServer& http = *edge->http_;
  http.set_tcp_nodelay(true);
  http.set_payload_max_length(options.max_body_bytes);
  int listen_fd = -1;
  // Replaces the library's defaults (which add SO_REUSEPORT: a second edge on a busy port would
  // then start silently instead of failing). Captures the fd to raise the listen backlog.
  http.set_socket_options([&listen_fd](int fd) {
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    listen_fd = fd;
  });
  edge->InstallHandlers();

  const int port = options.port == 0
                       ? http.bind_to_any_port(options.host)
                       : (http.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port <= 0 || listen_fd < 0) {
    edge->stream_->Shutdown(absl::ZeroDuration());
    return absl::UnavailableError(
        absl::StrCat("edge: cannot listen on ", options.host, ":", options.port));
  }
  // Debian's build listens with a backlog of 5; listen() again on the bound socket raises it.
  if (::listen(listen_fd, options.listen_backlog) != 0) {
    RINHA_LOG_WARNING("edge: could not raise the listen backlog to %d", options.listen_backlog);
  }
  edge->port_ = port;
  edge->listener_ = HttplibListener::Start(http, options.before_listen);
  if (!edge->listener_->running()) {
    edge->stream_->Shutdown(absl::ZeroDuration());
    return absl::InternalError("edge: the HTTP server stopped as it started");
  }
  return edge;
}

BoundedHttplibStats EdgeServer::http_stats() const { return http_->stats(); }

void EdgeServer::InstallHandlers() {
  httplib::Server& http = *http_;

  // The hot path: parse, validate, hand over, answer. No logging, no waiting on the network.
  http.Post("/payments", [this](const httplib::Request& req, httplib::Response& res) {
    rinha::v1::Payment payment;
    const absl::Status decoded = DecodePayment(req.body, &payment);
    if (!decoded.ok()) {
      SetError(res, HttpStatusForDecodeError(decoded), decoded.message());
      return;
    }
    payment.set_accepted_at_ms(clock_.NowMillis());
    if (!stream_->Enqueue(std::move(payment))) {
      SetError(res, 503, "too many payments pending");
      return;
    }
    res.status = 202;
  });

  http.Get("/payments-summary", [this](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<rinha::v1::SummaryRequest> request =
        ParseSummaryQuery(Param(req, "from"), Param(req, "to"));
    if (!request.ok()) {
      SetError(res, 400, request.status().message());
      return;
    }
    grpc::ClientContext context;
    context.set_deadline(Deadline(options_.summary_deadline));
    // A ledger that is restarting is waited for (within the deadline) rather than failed at once:
    // an audit that reads an error counts zeros.
    context.set_wait_for_ready(true);
    rinha::v1::SummaryResponse summary;
    const grpc::Status status = ledger_->Summary(&context, *request, &summary);
    if (!status.ok()) {
      SetError(res, 503, absl::StrCat("ledger: ", status.error_message()));
      return;
    }
    std::string body;
    AppendSummaryJson(summary, &body);
    res.status = 200;
    res.set_content(std::move(body), kJson);
  });

  http.Post("/purge-payments", [this](const httplib::Request&, httplib::Response& res) {
    rinha::v1::PurgeRequest request;
    rinha::v1::PurgeResponse response;
    grpc::ClientContext ledger_context;
    ledger_context.set_deadline(Deadline(options_.purge_deadline));
    grpc::Status status = ledger_->Purge(&ledger_context, request, &response);
    if (!status.ok()) {
      SetError(res, 503, absl::StrCat("ledger: ", status.error_message()));
      return;
    }
    grpc::ClientContext router_context;
    router_context.set_deadline(Deadline(options_.purge_deadline));
    status = router_->Purge(&router_context, request, &response);
    if (!status.ok()) {
      SetError(res, 503, absl::StrCat("router: ", status.error_message()));
      return;
    }
    res.status = 200;
    res.set_content(R"({"message":"purged"})", kJson);
  });

  // Registered last, so they match only what the handlers above did not: a known path with
  // the wrong method is 405, anything else 404.
  const auto fallback = [](const httplib::Request& req, httplib::Response& res) {
    if (IsKnownPath(req.path)) {
      res.set_header("Allow", req.path == "/payments-summary" ? "GET" : "POST");
      SetError(res, 405, "method not allowed");
    } else {
      SetError(res, 404, "not found");
    }
  };
  http.Get(".*", fallback);
  http.Post(".*", fallback);
  http.Put(".*", fallback);
  http.Patch(".*", fallback);
  http.Delete(".*", fallback);
  http.Options(".*", fallback);
}

void EdgeServer::Shutdown(absl::Duration drain) {
  if (shut_down_) return;
  shut_down_ = true;
  if (listener_ != nullptr) listener_->Stop();
  if (stream_ != nullptr) stream_->Shutdown(drain);
}

}  // namespace rinha::edge
