#include "processor/payment_store.h"

#include <algorithm>
#include <utility>

namespace rinha::processor {

absl::Status PaymentStore::Insert(const Payment& payment) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool inserted =
      rows_.try_emplace(payment.correlation_id, Row{payment.amount_cents, payment.requested_at_ms})
          .second;
  if (!inserted) return absl::AlreadyExistsError("correlationId already processed");
  return absl::OkStatus();
}

std::optional<Payment> PaymentStore::Find(std::string_view correlation_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rows_.find(absl::string_view(correlation_id.data(), correlation_id.size()));
  if (it == rows_.end()) return std::nullopt;
  return Payment{it->first, it->second.amount_cents, it->second.requested_at_ms};
}

PaymentTotals PaymentStore::Summarize(std::optional<int64_t> from_ms,
                                      std::optional<int64_t> to_ms) const {
  const bool filtered = from_ms.has_value() && to_ms.has_value();
  PaymentTotals totals;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, row] : rows_) {
    if (filtered && (row.requested_at_ms < *from_ms || row.requested_at_ms > *to_ms)) continue;
    ++totals.count;
    totals.amount_cents += row.amount_cents;
  }
  return totals;
}

std::vector<std::string> PaymentStore::Ids(std::optional<int64_t> from_ms,
                                           std::optional<int64_t> to_ms) const {
  const bool filtered = from_ms.has_value() && to_ms.has_value();
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, row] : rows_) {
      if (filtered && (row.requested_at_ms < *from_ms || row.requested_at_ms > *to_ms)) continue;
      ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void PaymentStore::Purge() {
  std::lock_guard<std::mutex> lock(mu_);
  rows_.clear();
}

}  // namespace rinha::processor
