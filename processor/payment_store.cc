#include "processor/payment_store.h"

#include <algorithm>
#include <utility>

namespace rinha::processor {
namespace {

bool InWindow(int64_t at_us, std::optional<int64_t> from_us, std::optional<int64_t> to_us) {
  if (!from_us.has_value() || !to_us.has_value()) return true;
  return *from_us <= at_us && at_us <= *to_us;
}

}  // namespace

absl::Status PaymentStore::Insert(const Payment& payment) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool inserted =
      rows_
          .try_emplace(payment.correlation_id,
                       Row{payment.amount, payment.requested_at_us, payment.inserted_at_ms})
          .second;
  if (!inserted) return absl::AlreadyExistsError("correlationId already processed");
  return absl::OkStatus();
}

std::optional<Payment> PaymentStore::Find(std::string_view correlation_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rows_.find(absl::string_view(correlation_id.data(), correlation_id.size()));
  if (it == rows_.end()) return std::nullopt;
  return Payment{it->first, it->second.amount, it->second.requested_at_us,
                 it->second.inserted_at_ms};
}

PaymentTotals PaymentStore::Summarize(std::optional<int64_t> from_us,
                                      std::optional<int64_t> to_us) const {
  PaymentTotals totals;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, row] : rows_) {
    if (!InWindow(row.requested_at_us, from_us, to_us)) continue;
    ++totals.count;
    totals.amount_cents += row.amount.cents;
    totals.amount_scale = std::max(totals.amount_scale, row.amount.scale);
  }
  return totals;
}

std::vector<std::string> PaymentStore::Ids(std::optional<int64_t> from_us,
                                           std::optional<int64_t> to_us) const {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, row] : rows_) {
      if (InWindow(row.requested_at_us, from_us, to_us)) ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<InsertedId> PaymentStore::InsertedIds(std::optional<int64_t> from_us,
                                                  std::optional<int64_t> to_us) const {
  std::vector<InsertedId> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, row] : rows_) {
      if (InWindow(row.requested_at_us, from_us, to_us)) ids.push_back({id, row.inserted_at_ms});
    }
  }
  std::sort(ids.begin(), ids.end(), [](const InsertedId& a, const InsertedId& b) {
    return a.correlation_id < b.correlation_id;
  });
  return ids;
}

void PaymentStore::Purge() {
  std::lock_guard<std::mutex> lock(mu_);
  rows_.clear();
}

}  // namespace rinha::processor
