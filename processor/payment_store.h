// The processor's payments table, in memory: one row per correlationId with the amount as the
// official's DECIMAL column holds it (cents and scale), the requestedAt as its TIMESTAMP column
// holds it (microseconds), and the admin summary over requestedAt.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "processor/dotnet_wire.h"

namespace rinha::processor {

struct Payment {
  std::string correlation_id;   // canonical lower-case UUID
  DecimalAmount amount;         // rounded to cents, with the scale it was sent with (at most 2)
  int64_t requested_at_us = 0;  // as the caller sent it, to the microsecond (Unix epoch)
  // The emulator's wall clock (Unix ms) when the row was inserted: not an official column, for the
  // crash and fault measurements (GET /admin/payments/ids?with=inserted_at).
  int64_t inserted_at_ms = 0;
};

struct PaymentTotals {
  int64_t count = 0;
  int64_t amount_cents = 0;
  // The largest scale among the rows summed (Postgres's SUM over a DECIMAL keeps it); 0 when
  // there are none (COALESCE(SUM(amount), 0)).
  int amount_scale = 0;
};

struct InsertedId {
  std::string correlation_id;
  int64_t inserted_at_ms = 0;
};

// Thread-safe; every request thread may call every method.
class PaymentStore {
 public:
  // AlreadyExists when the correlationId is stored (the processor's 422).
  absl::Status Insert(const Payment& payment);

  std::optional<Payment> Find(std::string_view correlation_id) const;

  // Rows with from_us <= requested_at_us <= to_us; every row when either bound is missing (the
  // official processor's query only filters when both are given).
  PaymentTotals Summarize(std::optional<int64_t> from_us, std::optional<int64_t> to_us) const;
  // The correlation ids of the same rows, sorted.
  std::vector<std::string> Ids(std::optional<int64_t> from_us, std::optional<int64_t> to_us) const;
  // The same rows' ids with their insert times, sorted by id.
  std::vector<InsertedId> InsertedIds(std::optional<int64_t> from_us,
                                      std::optional<int64_t> to_us) const;

  void Purge();

 private:
  struct Row {
    DecimalAmount amount;
    int64_t requested_at_us;
    int64_t inserted_at_ms;
  };

  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan, so absl::Mutex hand-offs
  // are invisible to the TSan build; pthread-based locks are intercepted.
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Row> rows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rinha::processor
