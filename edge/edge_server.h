// The edge process minus main(): the contest's HTTP API (cpp-httplib, tuned for latency) in
// front of the router stream (POST /payments) and the ledger (GET /payments-summary), plus
// GET /payments/{id} (router, ledger, then this edge's own queue) and GET /metrics.
//
// Router shards (docs/design.md, "Beyond one host"): with K router targets, a payment goes to
// shard ShardOf(id, K) (common/shard.h) over that shard's own stream and journal; the summary is
// the sum of every shard's ledger (all must answer), a purge reaches every router and ledger,
// and GET /payments/{id} asks the id's shard. With one target it is the edge without shards.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "edge/edge_metrics.h"
#include "edge/router_stream.h"
#include "payments.grpc.pb.h"

namespace rinha {
class BoundedHttplibServer;
struct BoundedHttplibStats;
class HttplibListener;
}  // namespace rinha

namespace rinha::edge {

struct EdgeServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;  // 0: any free port (see EdgeServer::port())
  // gRPC targets, e.g. "unix:/run/rinha/router.sock" or "127.0.0.1:50051": one router per shard,
  // in shard order, and ledger_targets[i] the ledger of shard i (as many). Every edge must list
  // the shards in the same order.
  std::vector<std::string> router_targets = {"unix:/run/rinha/router.sock"};
  std::vector<std::string> ledger_targets = {"unix:/run/rinha/ledger.sock"};
  // HTTP threads: connections served at once (cpp-httplib holds a thread per open connection;
  // an idle one costs nothing: it waits in poll()). A connection beyond them is answered 503
  // and closed at once, unread, instead of waiting for a thread (common/bounded_httplib_server.h).
  // The load balancer keeps 2 connections per edge; the rest absorbs test clients and bursts.
  int threads = 32;
  int listen_backlog = 4096;
  // Request bodies above this get 413. A payment body is under 100 bytes.
  size_t max_body_bytes = 4096;
  // Head and body of one request must arrive within this, from its first byte (on a new
  // connection: from the accept). A slower request is cut off (400, connection closed): a client
  // dripping a request holds a thread for at most this long. The load balancer sends whole
  // requests, so only a client talking to the edge directly ever meets it.
  absl::Duration request_timeout = absl::Seconds(2);
  // Bytes of one request's head; with max_body_bytes, the most read for one request.
  size_t max_head_bytes = 8192;
  absl::Duration write_timeout = absl::Seconds(5);  // an answer the client does not read
  // An idle keep-alive connection is closed after this. Keep it longer than the load
  // balancer's own upstream idle timeout, so that the balancer, not the edge, closes idle
  // connections (otherwise a POST may race a close and fail). Shutdown closes idle connections
  // at once.
  absl::Duration keep_alive_timeout = absl::Seconds(60);
  absl::Duration summary_deadline = absl::Milliseconds(1200);
  absl::Duration purge_deadline = absl::Seconds(5);
  // GET /payments/{id}: the deadline of each of its two calls (router, then ledger), and how
  // many may run at once; one more is answered 503 at once. A status call holds its
  // connection's thread while it waits, so the bound keeps threads for POST /payments.
  absl::Duration status_deadline = absl::Milliseconds(300);
  int max_status_calls = 4;
  // Every shard's stream; with several shards each journals in ShardJournalDir(journal_dir, i).
  RouterStream::Options stream;
  // Runs on the HTTP thread before it starts accepting. Tests delay the start through it, to
  // make a stop that races the start certain rather than lucky.
  std::function<void()> before_listen;
};

class EdgeServer {
 public:
  // Creates the channels (they connect lazily: the routers and ledgers may start later), binds
  // the HTTP port and starts serving; returns once the port accepts. Fails when the address
  // cannot be bound, the target lists are empty or of different lengths, or a journal cannot be
  // opened or was written with another number of shards (edge/sharding.h).
  static absl::StatusOr<std::unique_ptr<EdgeServer>> Start(const EdgeServerOptions& options,
                                                           Clock& clock);
  ~EdgeServer();  // Shutdown(absl::ZeroDuration())
  EdgeServer(const EdgeServer&) = delete;
  EdgeServer& operator=(const EdgeServer&) = delete;

  int port() const { return port_; }
  int shards() const { return static_cast<int>(shards_.size()); }
  RouterStream& router_stream(int shard = 0) { return *shards_[shard].stream; }
  const metrics::Registry& registry() const { return *registry_; }
  // The HTTP front's counters (busy threads, refused connections, cut-off requests).
  BoundedHttplibStats http_stats() const;

  // Stops the HTTP server (in-flight requests finish; idle keep-alive connections are closed),
  // then gives the router stream up to
  // `drain` to deliver what was accepted. Idempotent; not from an HTTP handler.
  void Shutdown(absl::Duration drain);

 private:
  EdgeServer(const EdgeServerOptions& options, Clock& clock);
  void InstallHandlers();
  // GET /payments/{id}, on the request's HTTP thread: status code and JSON body.
  std::pair<int, std::string> AnswerPaymentStatus(std::string_view raw_id);
  // Asks every shard's ledger at once and adds the answers up; the first failure (by shard)
  // when one did not answer within the summary deadline.
  grpc::Status SummaryOfAllShards(const rinha::v1::SummaryRequest& request,
                                  rinha::v1::SummaryResponse* total);
  // "ledger" with one shard, "ledger 1" (its index) with several: for error messages.
  std::string ServiceName(const char* service, size_t shard) const;
  // Stops every stream started so far at once (a failed start).
  void StopStreams();
  // The values other components own, for the scrape.
  EdgeState State() const;

  const EdgeServerOptions options_;
  Clock& clock_;
  // Declared first: destroyed last, after everything its callbacks read.
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<EdgeMetrics> metrics_;
  // One per router shard, in shard order.
  struct Shard {
    std::shared_ptr<grpc::Channel> router_channel;
    std::unique_ptr<rinha::v1::Router::Stub> router;
    std::unique_ptr<rinha::v1::Ledger::Stub> ledger;
    std::unique_ptr<RouterStream> stream;
  };
  std::vector<Shard> shards_;
  std::unique_ptr<BoundedHttplibServer> http_;
  std::unique_ptr<HttplibListener> listener_;
  int port_ = 0;
  std::atomic<int> status_calls_{0};  // GET /payments/{id} running now
  bool shut_down_ = false;
};

}  // namespace rinha::edge
