// The fate of every payment of a run, for fault harnesses: what the clients were told (the load's
// request log) against what each processor holds and what our ledger recorded, once the system
// is quiet. Pure functions; rinha-check does the I/O.
//
//   lost          answered 2xx, held by no processor
//   paid twice    held by both processors
//   paid twice, recorded  paid twice and both payments in the ledger (the router detected it)
//   unrecorded    held by a processor, and the ledger has no row for it under that processor
//   recorded, unpaid  a ledger row under a processor that does not hold the payment
//   paid, client saw a failure  held by a processor while the client got no 2xx (timeout, reset,
//                 503...): the contest's "caixa dois" when counted against the 2xx total. A
//                 client retrying with the same correlationId would be answered 202 and the
//                 payment still settled once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"

namespace rinha::contest {

// One line of rinha-load --requests_out.
struct LoggedRequest {
  int64_t start_us = 0;
  int64_t latency_us = 0;
  int status = 0;  // HTTP status; -1 timed out, -2 no answer
  std::string id;
  bool ok() const { return status == 200 || status == 201 || status == 202 || status == 204; }
};

absl::StatusOr<std::vector<LoggedRequest>> ParseRequestLog(std::string_view text);

enum class LedgerProcessor { kDefault = 1, kFallback = 2 };

// The processors the ledger recorded one id under: one row, or two when the router detected a
// double payment (the second row flagged double_payment).
struct LedgerRows {
  bool at_default = false;
  bool at_fallback = false;
  bool under(LedgerProcessor p) const {
    return p == LedgerProcessor::kDefault ? at_default : at_fallback;
  }
};

struct Holdings {
  absl::flat_hash_set<std::string> at_default;
  absl::flat_hash_set<std::string> at_fallback;
  absl::flat_hash_map<std::string, LedgerRows> ledger;
  void Record(const std::string& id, LedgerProcessor p) {
    LedgerRows& rows = ledger[id];
    (p == LedgerProcessor::kDefault ? rows.at_default : rows.at_fallback) = true;
  }
};

struct SettlementCheck {
  int64_t requests = 0;
  int64_t answered_2xx = 0;
  int64_t settled = 0;  // distinct ids held by a processor
  int64_t lost = 0;
  int64_t paid_twice = 0;
  int64_t paid_twice_recorded = 0;  // of paid_twice: both payments in the ledger
  int64_t unrecorded = 0;
  int64_t recorded_unpaid = 0;
  int64_t paid_client_failed = 0;
  int64_t foreign = 0;                // held by a processor but never sent by this load
  std::vector<std::string> examples;  // a few offending ids with what is wrong, for the log
  // The guarantee: nothing answered 2xx lost, nothing paid twice, the ledger exactly what the
  // processors hold.
  bool exact() const {
    return lost == 0 && paid_twice == 0 && unrecorded == 0 && recorded_unpaid == 0;
  }
};

SettlementCheck CheckSettlements(const std::vector<LoggedRequest>& requests,
                                 const Holdings& holdings);

// p99 (k6's interpolation) of the successful requests that started in [from_us, to_us), in ms;
// 0 when there are none. `count` gets how many there were.
double P99InWindowMs(const std::vector<LoggedRequest>& requests, int64_t from_us, int64_t to_us,
                     int64_t* count = nullptr);

}  // namespace rinha::contest
