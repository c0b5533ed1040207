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
//
// And how quickly the ledger caught up (RecordLag): per payment a processor holds and the ledger
// recorded under it, the ledger's recorded_at_ms minus the processor's insertedAtMs (both wall
// clocks of the one machine the harnesses run on).
#pragma once

#include <cstdint>
#include <optional>
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
// double payment (the second row flagged double_payment); and when the ledger stored each row
// (its wall clock, Unix ms; 0 when it did not say).
struct LedgerRows {
  bool at_default = false;
  bool at_fallback = false;
  int64_t recorded_at_default_ms = 0;
  int64_t recorded_at_fallback_ms = 0;
  bool under(LedgerProcessor p) const {
    return p == LedgerProcessor::kDefault ? at_default : at_fallback;
  }
  int64_t recorded_at_ms(LedgerProcessor p) const {
    return p == LedgerProcessor::kDefault ? recorded_at_default_ms : recorded_at_fallback_ms;
  }
};

struct Holdings {
  absl::flat_hash_set<std::string> at_default;
  absl::flat_hash_set<std::string> at_fallback;
  // When the processor inserted an id it holds (its wall clock, Unix ms), where it said so.
  absl::flat_hash_map<std::string, int64_t> inserted_at_default;
  absl::flat_hash_map<std::string, int64_t> inserted_at_fallback;
  absl::flat_hash_map<std::string, LedgerRows> ledger;

  // Processor p holds id, inserted at inserted_at_ms (0: not said).
  void Hold(const std::string& id, LedgerProcessor p, int64_t inserted_at_ms = 0) {
    const bool is_default = p == LedgerProcessor::kDefault;
    (is_default ? at_default : at_fallback).insert(id);
    if (inserted_at_ms > 0) {
      (is_default ? inserted_at_default : inserted_at_fallback)[id] = inserted_at_ms;
    }
  }
  // The ledger has a row of id under p, stored at recorded_at_ms (0: not said).
  void Record(const std::string& id, LedgerProcessor p, int64_t recorded_at_ms = 0) {
    LedgerRows& rows = ledger[id];
    if (p == LedgerProcessor::kDefault) {
      rows.at_default = true;
      rows.recorded_at_default_ms = recorded_at_ms;
    } else {
      rows.at_fallback = true;
      rows.recorded_at_fallback_ms = recorded_at_ms;
    }
  }
};

// One payment a processor holds, as our emulator's GET /admin/payments/ids answers.
struct HeldPayment {
  std::string id;
  int64_t inserted_at_ms = 0;  // 0: the answer did not say
};

// The answer of GET /admin/payments/ids: a JSON array of correlation id strings, or (with
// ?with=inserted_at) of {"correlationId": "...", "insertedAtMs": N} objects; both shapes are
// accepted, element by element, and unknown members ignored. InvalidArgument otherwise.
absl::StatusOr<std::vector<HeldPayment>> ParseProcessorIds(std::string_view json);

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

// How long after a processor held a payment the ledger recorded it. A sample is one (id,
// processor) that processor holds and the ledger recorded under it, both times known:
// recorded_at_ms - insertedAtMs.
struct RecordLag {
  int64_t samples = 0;
  int64_t p50_ms = 0;  // k6's interpolation, rounded to the ms; 0 without samples
  int64_t p99_ms = 0;
  int64_t max_ms = 0;
  // Only with a ready time (the wall-clock ms at which a killed service was back): over the
  // payments a processor inserted at or before it (held at ready)...
  bool has_ready = false;
  int64_t held_at_ready = 0;
  // ...those the ledger never recorded under that processor,
  int64_t held_at_ready_unrecorded = 0;
  // ...and how long after ready the last of the recorded ones was recorded: max(0, recorded_at
  // - ready) over them, i.e. the ledger equalled what the processors held at ready this long
  // after ready (0: already then). Rows without a recorded time are left out.
  int64_t recorded_after_ready_max_ms = 0;
};

RecordLag MeasureRecordLag(const Holdings& holdings, std::optional<int64_t> ready_at_ms);

// p99 (k6's interpolation) of the successful requests that started in [from_us, to_us), in ms;
// 0 when there are none. `count` gets how many there were.
double P99InWindowMs(const std::vector<LoggedRequest>& requests, int64_t from_us, int64_t to_us,
                     int64_t* count = nullptr);

}  // namespace rinha::contest
