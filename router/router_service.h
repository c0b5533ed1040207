// rinha.v1.Router over gRPC's callback API: a small reactor per Submit stream hands each batch
// to the Dispatcher and acknowledges it once the dispatcher has journaled and taken it (or says
// RETRY_LATER); Stats and Purge are unary.
#pragma once

#include "common/journal.h"
#include "payments.grpc.pb.h"
#include "router/dispatcher.h"
#include "router/ledger_client.h"

namespace rinha::router {

class RouterService final : public rinha::v1::Router::CallbackService {
 public:
  // All must outlive the service and every RPC it started; `journal` may be null.
  RouterService(Dispatcher& dispatcher, LedgerClient& ledger, const Journal* journal = nullptr)
      : dispatcher_(dispatcher), ledger_(ledger), journal_(journal) {}

  grpc::ServerBidiReactor<rinha::v1::PaymentBatch, rinha::v1::PaymentAck>* Submit(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* context,
                                  const rinha::v1::RouterStatsRequest* request,
                                  rinha::v1::RouterStatsResponse* response) override;
  // Answered from the dispatcher's loop (well under a millisecond).
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const rinha::v1::PaymentStatusRequest* request,
                                   rinha::v1::PaymentStatus* response) override;
  // Waits (well under a millisecond) for the dispatcher's loop to clear its memory.
  grpc::ServerUnaryReactor* Purge(grpc::CallbackServerContext* context,
                                  const rinha::v1::PurgeRequest* request,
                                  rinha::v1::PurgeResponse* response) override;

 private:
  Dispatcher& dispatcher_;
  LedgerClient& ledger_;
  const Journal* const journal_;
};

}  // namespace rinha::router
