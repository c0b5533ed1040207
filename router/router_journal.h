// The router's journal records (rinha.v1.RouterJournalRecord in proto/payments.proto) and how an
// earlier run's records are read back: an "accepted" record per payment acknowledged to an edge
// (Dispatcher::Take) and a "dispatched" record per POST about to leave (RouterCore's
// DispatchLog, implemented here over common/journal.h). A restart groups them by payment: what
// it owes, which processors it may be held by, and the requestedAt each would hold. Records of
// journals written before POSTs were journaled are bare rinha.v1.Payment messages; they still
// read, as payments that either processor may hold.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/journal.h"
#include "payments.pb.h"
#include "router/router_core.h"

namespace rinha::router {

std::string EncodeAcceptedRecord(const rinha::v1::Payment& payment);
std::string EncodeDispatchedRecord(std::string_view correlation_id, Target target,
                                   int64_t requested_at_ms);

// An earlier run's journal, read back: one RecoveredPayment per payment that has an "accepted"
// record, in the order of those records, with every record of it (its handles) and its last
// dispatch per processor. `orphans`: handles of records that tell of no payment to recover (a
// record that does not parse, a dispatch whose acceptance is gone because the ledger holds the
// payment): released by the caller. `unreadable` counts records that do not parse.
struct JournalReplay {
  std::vector<RecoveredPayment> payments;
  std::vector<uint64_t> orphans;
  int64_t unreadable = 0;
};
JournalReplay ReplayJournal(const std::vector<Journal::Record>& records);

// DispatchLog over the router's Journal: one append (one write(2)) per call.
// Threading: as Journal (thread-safe); the core calls it from the loop thread.
class JournalDispatchLog final : public DispatchLog {
 public:
  explicit JournalDispatchLog(Journal& journal) : journal_(journal) {}
  absl::StatusOr<uint64_t> Record(absl::Span<const Entry> entries) override;

 private:
  Journal& journal_;
};

}  // namespace rinha::router
