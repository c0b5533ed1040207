// rinha.v1.Ledger over gRPC's callback API: a small reactor per Settle stream feeding the store's
// writer, and unary Summary/Purge/List/Get. Owns no threads; reactions run on gRPC's callback
// threads and settlement acknowledgements are started from the store's writer thread.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "ledger/ledger_store.h"
#include "payments.grpc.pb.h"

namespace rinha::ledger {

// The one mapping from absl::Status to grpc::Status used by the ledger.
grpc::Status ToGrpcStatus(const absl::Status& status);

// An id's rows (LedgerStore::Get: its first settlement first) as the answer to Ledger/Get.
rinha::v1::PaymentStatus ToPaymentStatus(const std::vector<Settlement>& rows);

class LedgerService final : public rinha::v1::Ledger::CallbackService {
 public:
  struct Options {
    // Batches a stream may have read but not yet acknowledged; beyond it the stream stops
    // reading (HTTP/2 flow control then pushes back on the sender) so memory stays bounded.
    int max_unacked_batches_per_stream = 64;
  };

  // `store` must outlive the service and every RPC it started (shut the grpc::Server down first).
  LedgerService(LedgerStore& store, const Options& options) : store_(store), options_(options) {}
  explicit LedgerService(LedgerStore& store) : LedgerService(store, Options()) {}

  grpc::ServerBidiReactor<rinha::v1::SettlementBatch, rinha::v1::SettlementAck>* Settle(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Summary(grpc::CallbackServerContext* context,
                                    const rinha::v1::SummaryRequest* request,
                                    rinha::v1::SummaryResponse* response) override;
  grpc::ServerUnaryReactor* Purge(grpc::CallbackServerContext* context,
                                  const rinha::v1::PurgeRequest* request,
                                  rinha::v1::PurgeResponse* response) override;
  // A page of settlements in id order (read connection; never waits for the writer).
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context,
                                 const rinha::v1::ListRequest* request,
                                 rinha::v1::ListResponse* response) override;
  static constexpr int kListPageSize = 10'000;
  // One payment's rows (read connection, inline like Summary): InvalidArgument unless the id is
  // canonical.
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const rinha::v1::PaymentStatusRequest* request,
                                rinha::v1::PaymentStatus* response) override;

 private:
  LedgerStore& store_;
  const Options options_;
};

}  // namespace rinha::ledger
