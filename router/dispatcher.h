// The router's event loop: one thread that owns the RouterCore and the HttpTransport, takes
// payments from gRPC threads through a small inbox, and runs the core whenever a payment
// arrives, an HTTP call ends or a timer is due. Nothing else touches the core.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "payments.pb.h"
#include "router/http_transport.h"
#include "router/router_config.h"
#include "router/router_core.h"

namespace rinha::router {

class Dispatcher {
 public:
  // `sink` receives settlements on the loop thread and must outlive the dispatcher.
  static absl::StatusOr<std::unique_ptr<Dispatcher>> Start(const RouterConfig& config,
                                                           SettlementSink& sink, Clock& clock);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Any thread. Returns once every payment of the batch is in the router's memory (the loop
  // deduplicates and sends them). Never blocks on the network.
  void Submit(const rinha::v1::PaymentBatch& batch);

  // Any thread but the loop's. Forgets the ids of settled payments; returns how many.
  int64_t Purge();

  // Any thread. A snapshot taken by the loop at its last iteration.
  RouterCoreStats Stats() const;

  // Stops the loop; payments still pending are dropped (they are lost with the process anyway).
  void Stop();

 private:
  Dispatcher(const RouterConfig& config, SettlementSink& sink, Clock& clock);
  void Loop();
  // Logs a one-line summary (loop thread), at most every kReportIntervalMs while busy.
  void Report(int64_t now_ms);
  static constexpr int64_t kReportIntervalMs = 1000;
  int64_t last_reported_settled_[2] = {0, 0};  // loop thread only

  const RouterConfig config_;
  SettlementSink& sink_;
  Clock& clock_;
  std::unique_ptr<HttpTransport> transport_;  // loop thread only (but Wake)
  std::unique_ptr<RouterCore> core_;          // loop thread only
  std::thread thread_;

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with TSan, so hand-offs
  // through it would be invisible to the TSan build. Guards everything below.
  mutable std::mutex mu_;
  std::condition_variable purged_;
  struct Arrival {
    std::string id;
    int64_t amount_cents;
    int64_t received_us;
  };
  std::vector<Arrival> inbox_;
  bool stop_ = false;
  uint64_t purges_requested_ = 0;
  uint64_t purges_done_ = 0;
  int64_t last_purge_count_ = 0;
  RouterCoreStats stats_;
};

}  // namespace rinha::router
