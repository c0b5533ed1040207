// The processor's payments table, in memory: exact cents, one row per correlationId, and the
// admin summary over requestedAt.
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

namespace rinha::processor {

struct Payment {
  std::string correlation_id;  // canonical lower-case UUID
  int64_t amount_cents = 0;
  int64_t requested_at_ms = 0;  // as the caller sent it
};

struct PaymentTotals {
  int64_t count = 0;
  int64_t amount_cents = 0;
};

// Thread-safe; every request thread may call every method.
class PaymentStore {
 public:
  // AlreadyExists when the correlationId is stored (the processor's 422).
  absl::Status Insert(const Payment& payment);

  std::optional<Payment> Find(std::string_view correlation_id) const;

  // Rows with from_ms <= requested_at_ms <= to_ms; every row when either bound is missing (the
  // official processor's query only filters when both are given).
  PaymentTotals Summarize(std::optional<int64_t> from_ms, std::optional<int64_t> to_ms) const;
  // The correlation ids of the same rows, sorted.
  std::vector<std::string> Ids(std::optional<int64_t> from_ms, std::optional<int64_t> to_ms) const;

  void Purge();

 private:
  struct Row {
    int64_t amount_cents;
    int64_t requested_at_ms;
  };

  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan, so absl::Mutex hand-offs
  // are invisible to the TSan build; pthread-based locks are intercepted.
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Row> rows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rinha::processor
