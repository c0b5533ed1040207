#include "edge/edge_server.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/bounded_httplib_server.h"
#include "common/clock.h"
#include "common/grpc_channel.h"
#include "common/httplib_listener.h"
#include "common/log.h"
#include "common/shard.h"
#include "edge/payment_codec.h"
#include "edge/sharding.h"

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
  // A name is looked up again after a failed connect at most this often (gRPC's default, 30 s,
  // would keep a router restarted at a new address, as a Swarm task is under DNS round robin,
  // away for up to half a minute).
  args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 1000);
  AddNetworkKeepalive(target, &args);
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

// The request this HTTP thread is answering, stamped when its handler starts (the request has
// been read whole). cpp-httplib serves one request at a time per thread and calls the logger on
// that thread once the answer is written, which reads and clears the stamp.
struct RequestStamp {
  int64_t start_us = -1;  // -1: no handler ran
  EdgeMetrics::Route route = EdgeMetrics::Route::kOther;
};
constinit thread_local RequestStamp t_request;

// Every handler's first statement.
void Stamp(EdgeMetrics::Route route) { t_request = {SteadyMicros(), route}; }

// Takes one of `limit` places; released on destruction.
class CallSlot {
 public:
  CallSlot(std::atomic<int>& in_use, int limit) : in_use_(in_use) {
    taken_ = in_use_.fetch_add(1, std::memory_order_relaxed) < limit;
    if (!taken_) in_use_.fetch_sub(1, std::memory_order_relaxed);
  }
  ~CallSlot() {
    if (taken_) in_use_.fetch_sub(1, std::memory_order_relaxed);
  }
  CallSlot(const CallSlot&) = delete;
  CallSlot& operator=(const CallSlot&) = delete;
  bool taken() const { return taken_; }

 private:
  std::atomic<int>& in_use_;
  bool taken_ = false;
};

}  // namespace

EdgeServer::EdgeServer(const EdgeServerOptions& options, Clock& clock)
    : options_(options), clock_(clock) {}

EdgeServer::~EdgeServer() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<EdgeServer>> EdgeServer::Start(const EdgeServerOptions& options,
                                                              Clock& clock) {
  std::unique_ptr<EdgeServer> edge(new EdgeServer(options, clock));
  edge->registry_ = std::make_unique<metrics::Registry>();
  metrics::AddProcessMetrics(*edge->registry_);
  edge->metrics_ = std::make_unique<EdgeMetrics>(*edge->registry_);
  const size_t shards = options.router_targets.size();
  if (shards == 0 || options.ledger_targets.size() != shards) {
    return absl::InvalidArgumentError(absl::StrCat("edge: one ledger per router shard: ", shards,
                                                   " routers, ", options.ledger_targets.size(),
                                                   " ledgers"));
  }
  if (absl::Status layout =
          CheckJournalLayout(options.stream.journal_dir, static_cast<int>(shards));
      !layout.ok()) {
    return layout;
  }
  edge->shards_.resize(shards);
  for (size_t i = 0; i < shards; ++i) {
    Shard& shard = edge->shards_[i];
    shard.router_channel = MakeChannel(options.router_targets[i]);
    shard.router = rinha::v1::Router::NewStub(shard.router_channel);
    shard.ledger = rinha::v1::Ledger::NewStub(MakeChannel(options.ledger_targets[i]));
    RouterStream::Options stream_options = options.stream;
    stream_options.journal_dir =
        ShardJournalDir(options.stream.journal_dir, static_cast<int>(i), static_cast<int>(shards));
    if (shards > 1) stream_options.name = absl::StrCat(stream_options.name, " ", i);
    absl::StatusOr<std::unique_ptr<RouterStream>> stream =
        RouterStream::Start(shard.router_channel, stream_options);
    if (!stream.ok()) {
      edge->StopStreams();
      return stream.status();
    }
    shard.stream = *std::move(stream);
  }

  BoundedHttplibLimits limits;
  limits.threads = options.threads;
  limits.request_timeout = absl::ToChronoMilliseconds(options.request_timeout);
  limits.keep_alive_timeout = absl::ToChronoMilliseconds(options.keep_alive_timeout);
  limits.write_timeout = absl::ToChronoMilliseconds(options.write_timeout);
  limits.max_request_bytes = options.max_head_bytes + options.max_body_bytes;
  limits.refusal_body = ErrorJson("busy: every connection slot is taken");
  edge->http_ = std::make_unique<BoundedHttplibServer>(limits);
  EdgeServer* raw = edge.get();
  edge->metrics_->AddStateMetrics([raw]() { return raw->State(); });
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
    edge->StopStreams();
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
    edge->StopStreams();
    return absl::InternalError("edge: the HTTP server stopped as it started");
  }
  return edge;
}

BoundedHttplibStats EdgeServer::http_stats() const { return http_->stats(); }

EdgeState EdgeServer::State() const {
  EdgeState state;
  const BoundedHttplibStats http = http_->stats();
  state.busy_threads = http.busy;
  state.refused_connections = http.refused;
  state.request_timeouts = http.request_timeouts;
  // Shards add up; the stream is up while every shard's is.
  state.router_stream_up = true;
  for (const Shard& shard : shards_) {
    const RouterStream::Stats stream = shard.stream->stats();
    state.unacknowledged += stream.stream.pending;
    state.refused_queue_full += stream.queue_full;
    state.refused_journal += stream.journal_errors;
    state.journal_live += stream.journal.live;
    state.journal_segments += stream.journal.segments;
    state.journal_written_bytes += stream.journal.bytes_written;
    // A stream opens before its channel connects (and a broken channel ends it): up is both.
    state.router_stream_up = state.router_stream_up && stream.stream.open &&
                             shard.router_channel->GetState(false) == GRPC_CHANNEL_READY;
    state.router_streams_opened += stream.stream.streams;
  }
  return state;
}

std::pair<int, std::string> EdgeServer::AnswerPaymentStatus(std::string_view raw_id) {
  using rinha::v1::PaymentStatus;
  absl::StatusOr<std::string> id = ParsePaymentId(raw_id);
  if (!id.ok()) return {400, ErrorJson(id.status().message())};
  CallSlot slot(status_calls_, options_.max_status_calls);
  if (!slot.taken()) return {503, ErrorJson("busy: too many status requests at once")};
  auto answer = [&id](PaymentStage stage, const PaymentStatus& details) {
    std::string body;
    AppendPaymentStatusJson(*id, stage, details, &body);
    return std::pair<int, std::string>(200, std::move(body));
  };
  const Shard& shard = shards_[ShardOf(*id, static_cast<int>(shards_.size()))];
  const RouterStream& stream = *shard.stream;
  // Asked first, and again last: the router may take the payment while the others are asked.
  const bool held_before = stream.Holds(*id);
  rinha::v1::PaymentStatusRequest request;
  request.set_correlation_id(*id);

  PaymentStatus routed;
  grpc::ClientContext router_context;
  router_context.set_deadline(Deadline(options_.status_deadline));
  const grpc::Status router_status = shard.router->Status(&router_context, request, &routed);
  if (!router_status.ok()) {
    // Still true, and all this edge can tell while the router is away.
    if (held_before || stream.Holds(*id)) return answer(PaymentStage::kAccepted, PaymentStatus());
    return {503, ErrorJson(absl::StrCat("router unavailable: ", router_status.error_message()))};
  }
  if (std::optional<PaymentStage> pending = PendingStage(routed.state())) {
    return answer(*pending, routed);
  }

  PaymentStatus recorded;
  grpc::ClientContext ledger_context;
  ledger_context.set_deadline(Deadline(options_.status_deadline));
  const grpc::Status ledger_status = shard.ledger->Get(&ledger_context, request, &recorded);
  const auto ledger_unreachable = [&ledger_status]() {
    return std::pair<int, std::string>(
        503, ErrorJson(absl::StrCat("ledger unavailable: ", ledger_status.error_message())));
  };
  if (ledger_status.ok() && recorded.state() == PaymentStatus::STATE_SETTLED) {
    return answer(PaymentStage::kSettled, recorded);
  }
  if (routed.state() == PaymentStatus::STATE_SETTLED) {
    // Paid at a processor; without the ledger, whether it is recorded yet is unknown.
    return ledger_status.ok() ? answer(PaymentStage::kSettling, routed) : ledger_unreachable();
  }
  // The router has not taken it (yet).
  if (held_before || stream.Holds(*id)) return answer(PaymentStage::kAccepted, PaymentStatus());
  if (!ledger_status.ok()) return ledger_unreachable();
  return {404, ErrorJson("unknown payment")};
}

void EdgeServer::InstallHandlers() {
  httplib::Server& http = *http_;
  using Route = EdgeMetrics::Route;

  // Every answer written is counted, and timed from its handler's Stamp when one ran.
  http.set_logger(
      [metrics = metrics_.get()](const httplib::Request& req, const httplib::Response& res) {
        const RequestStamp stamp = std::exchange(t_request, RequestStamp());
        if (stamp.start_us < 0) {
          metrics->OnAnswered(EdgeMetrics::RouteOf(req.path), res.status, -1);
        } else {
          metrics->OnAnswered(stamp.route, res.status, SteadyMicros() - stamp.start_us);
        }
      });

  // The hot path: parse, validate, hand over, answer. No logging, no waiting on the network.
  http.Post("/payments", [this](const httplib::Request& req, httplib::Response& res) {
    Stamp(Route::kPayments);
    rinha::v1::Payment payment;
    const absl::Status decoded = DecodePayment(req.body, &payment);
    if (!decoded.ok()) {
      SetError(res, HttpStatusForDecodeError(decoded), decoded.message());
      return;
    }
    payment.set_accepted_at_ms(clock_.NowMillis());
    RouterStream& stream =
        *shards_[ShardOf(payment.correlation_id(), static_cast<int>(shards_.size()))].stream;
    if (!stream.Enqueue(std::move(payment))) {
      SetError(res, 503, "too many payments pending");
      return;
    }
    res.status = 202;
  });

  // Where one payment is. Never on the hot path: it waits (within its deadlines) on this
  // request's own thread, and at most max_status_calls run at once.
  http.Get(R"(/payments/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    Stamp(Route::kPaymentStatus);
    const auto [status, body] = AnswerPaymentStatus(req.matches[1].str());
    res.status = status;
    res.set_content(body, kJson);
  });

  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    Stamp(Route::kOther);
    res.status = 200;
    res.set_content(registry_->Render(), metrics::kContentType);
  });

  http.Get("/payments-summary", [this](const httplib::Request& req, httplib::Response& res) {
    Stamp(Route::kSummary);
    absl::StatusOr<rinha::v1::SummaryRequest> request =
        ParseSummaryQuery(Param(req, "from"), Param(req, "to"));
    if (!request.ok()) {
      SetError(res, 400, request.status().message());
      return;
    }
    rinha::v1::SummaryResponse summary;
    const grpc::Status status = SummaryOfAllShards(*request, &summary);
    if (!status.ok()) {
      SetError(res, 503, status.error_message());
      return;
    }
    std::string body;
    AppendSummaryJson(summary, &body);
    res.status = 200;
    res.set_content(std::move(body), kJson);
  });

  http.Post("/purge-payments", [this](const httplib::Request&, httplib::Response& res) {
    Stamp(Route::kPurge);
    // Every ledger, then every router (as with one shard: the records first, then the
    // routers' memory of ids). A failure stops there with 503; a purge again finishes it.
    rinha::v1::PurgeRequest request;
    rinha::v1::PurgeResponse response;
    for (size_t i = 0; i < shards_.size(); ++i) {
      grpc::ClientContext context;
      context.set_deadline(Deadline(options_.purge_deadline));
      const grpc::Status status = shards_[i].ledger->Purge(&context, request, &response);
      if (!status.ok()) {
        SetError(res, 503, absl::StrCat(ServiceName("ledger", i), ": ", status.error_message()));
        return;
      }
    }
    for (size_t i = 0; i < shards_.size(); ++i) {
      grpc::ClientContext context;
      context.set_deadline(Deadline(options_.purge_deadline));
      const grpc::Status status = shards_[i].router->Purge(&context, request, &response);
      if (!status.ok()) {
        SetError(res, 503, absl::StrCat(ServiceName("router", i), ": ", status.error_message()));
        return;
      }
    }
    res.status = 200;
    res.set_content(R"({"message":"purged"})", kJson);
  });

  // Registered last, so they match only what the handlers above did not: a known path with
  // the wrong method is 405, anything else 404.
  const auto fallback = [](const httplib::Request& req, httplib::Response& res) {
    const Route route = EdgeMetrics::RouteOf(req.path);
    Stamp(route);
    const bool is_metrics = req.path == "/metrics";
    if (route != Route::kOther || is_metrics) {
      const bool get_only =
          route == Route::kSummary || route == Route::kPaymentStatus || is_metrics;
      res.set_header("Allow", get_only ? "GET" : "POST");
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

grpc::Status EdgeServer::SummaryOfAllShards(const rinha::v1::SummaryRequest& request,
                                            rinha::v1::SummaryResponse* total) {
  // Blocking calls, one shard after the other, all within one deadline. Not the callback API
  // (async()): its first use starts gRPC's callback polling threads in this process for good,
  // and they then wake up for the payment streams' traffic too (the profile of 7 Dec: 22 % of the
  // edges' CPU at 536 payments/s, for a call made every 10 s).
  const auto deadline = Deadline(options_.summary_deadline);
  for (size_t i = 0; i < shards_.size(); ++i) {
    grpc::ClientContext context;
    context.set_deadline(deadline);
    // A ledger that is restarting is waited for (within the deadline) rather than failed at
    // once: an audit that reads an error counts zeros.
    context.set_wait_for_ready(true);
    rinha::v1::SummaryResponse response;
    const grpc::Status status = shards_[i].ledger->Summary(&context, request, &response);
    if (!status.ok()) {
      return grpc::Status(status.error_code(),
                          absl::StrCat(ServiceName("ledger", i), ": ", status.error_message()));
    }
    AddSummary(response, total);
  }
  return grpc::Status::OK;
}

std::string EdgeServer::ServiceName(const char* service, size_t shard) const {
  return shards_.size() == 1 ? std::string(service) : absl::StrCat(service, " ", shard);
}

void EdgeServer::StopStreams() {
  for (Shard& shard : shards_) {
    if (shard.stream != nullptr) shard.stream->Shutdown(absl::ZeroDuration());
  }
}

void EdgeServer::Shutdown(absl::Duration drain) {
  if (shut_down_) return;
  shut_down_ = true;
  if (listener_ != nullptr) listener_->Stop();
  // Every shard drains at once, within the same `drain`.
  std::vector<std::thread> drains;
  for (Shard& shard : shards_) {
    if (shard.stream == nullptr) continue;
    if (shards_.size() == 1) {
      shard.stream->Shutdown(drain);
    } else {
      drains.emplace_back([&shard, drain] { shard.stream->Shutdown(drain); });
    }
  }
  for (std::thread& t : drains) t.join();
}

}  // namespace rinha::edge
