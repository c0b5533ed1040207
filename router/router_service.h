// rinha.v1.Router. Submit is asynchronous: one call object per stream hands each batch to the
// Dispatcher and acknowledges it once the dispatcher has journaled and taken it (or says
// RETRY_LATER); its events run on the server's one polling thread (common/grpc_server.h) and its
// acknowledgements are started from the dispatcher's loop. Stats, Status and Purge are
// synchronous, run by gRPC's sync threads (rare calls).
#pragma once

#include "common/cq_tag.h"
#include "common/journal.h"
#include "payments.grpc.pb.h"
#include "router/dispatcher.h"
#include "router/ledger_client.h"

namespace rinha::router {

class RouterService final
    : public rinha::v1::Router::WithAsyncMethod_Submit<rinha::v1::Router::Service> {
 public:
  // All must outlive the service and every RPC it started; `journal` may be null.
  RouterService(Dispatcher& dispatcher, LedgerClient& ledger, const Journal* journal = nullptr)
      : dispatcher_(dispatcher), ledger_(ledger), journal_(journal) {}

  // Starts taking Submit streams on `cq` (the server's, after it started); each call then lives
  // until its stream is done. The dispatcher must run until the server has shut down and every
  // batch handed to it has been answered (Dispatcher::Stop), and `cq` until then.
  void ServeSubmit(grpc::ServerCompletionQueue* cq);
  // Returns once every Submit call object is gone: after the server's shutdown and the
  // dispatcher's (which answers every batch), and before the queue's.
  void WaitForCalls() { live_calls_.WaitForNone(); }

  grpc::Status Stats(grpc::ServerContext* context, const rinha::v1::RouterStatsRequest* request,
                     rinha::v1::RouterStatsResponse* response) override;
  // Answered from the dispatcher's loop (well under a millisecond).
  grpc::Status Status(grpc::ServerContext* context, const rinha::v1::PaymentStatusRequest* request,
                      rinha::v1::PaymentStatus* response) override;
  // Waits (well under a millisecond) for the dispatcher's loop to clear its memory.
  grpc::Status Purge(grpc::ServerContext* context, const rinha::v1::PurgeRequest* request,
                     rinha::v1::PurgeResponse* response) override;

 private:
  Dispatcher& dispatcher_;
  LedgerClient& ledger_;
  const Journal* const journal_;
  LiveCalls live_calls_;
};

}  // namespace rinha::router
