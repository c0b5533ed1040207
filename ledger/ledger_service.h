// rinha.v1.Ledger: Settle is asynchronous, one call object per stream feeding the store's writer,
// its events run on the server's one polling thread (common/grpc_server.h) and its
// acknowledgements are started from the store's writer thread; the unary Summary/Purge/List/Get
// are synchronous, run by gRPC's sync threads (rare calls). Owns no threads.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "common/cq_tag.h"
#include "ledger/ledger_store.h"
#include "payments.grpc.pb.h"

namespace rinha::ledger {

// The one mapping from absl::Status to grpc::Status used by the ledger.
grpc::Status ToGrpcStatus(const absl::Status& status);

// An id's rows (LedgerStore::Get: its first settlement first) as the answer to Ledger/Get.
rinha::v1::PaymentStatus ToPaymentStatus(const std::vector<Settlement>& rows);

class LedgerService final
    : public rinha::v1::Ledger::WithAsyncMethod_Settle<rinha::v1::Ledger::Service> {
 public:
  struct Options {
    // Batches a stream may have read but not yet acknowledged; beyond it the stream stops
    // reading (HTTP/2 flow control then pushes back on the sender) so memory stays bounded.
    int max_unacked_batches_per_stream = 64;
  };

  // `store` must outlive the service and every RPC it started (shut the grpc::Server down first).
  LedgerService(LedgerStore& store, const Options& options) : store_(store), options_(options) {}
  explicit LedgerService(LedgerStore& store) : LedgerService(store, Options()) {}

  // Starts taking Settle streams on `cq` (the server's, after it started); each call then lives
  // until its stream is done. The store must run until the server has shut down and every
  // settlement handed to it has been answered (LedgerStore::Shutdown), and `cq` until then.
  void ServeSettle(grpc::ServerCompletionQueue* cq);
  // Returns once every Settle call object is gone: after the server's shutdown and the store's
  // (which answers every settlement), and before the queue's.
  void WaitForCalls() { live_calls_.WaitForNone(); }

  grpc::Status Summary(grpc::ServerContext* context, const rinha::v1::SummaryRequest* request,
                       rinha::v1::SummaryResponse* response) override;
  // Waits for the writer (the purge is ordered with the settlements queued before it).
  grpc::Status Purge(grpc::ServerContext* context, const rinha::v1::PurgeRequest* request,
                     rinha::v1::PurgeResponse* response) override;
  // A page of settlements in id order (read connection; never waits for the writer).
  grpc::Status List(grpc::ServerContext* context, const rinha::v1::ListRequest* request,
                    rinha::v1::ListResponse* response) override;
  static constexpr int kListPageSize = 10'000;
  // One payment's rows (read connection, like Summary): InvalidArgument unless the id is
  // canonical.
  grpc::Status Get(grpc::ServerContext* context, const rinha::v1::PaymentStatusRequest* request,
                   rinha::v1::PaymentStatus* response) override;

 private:
  LedgerStore& store_;
  const Options options_;
  LiveCalls live_calls_;
};

}  // namespace rinha::ledger
