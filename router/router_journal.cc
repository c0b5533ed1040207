#include "router/router_journal.h"

#include <utility>

#include "absl/container/flat_hash_map.h"

namespace rinha::router {

std::string EncodeAcceptedRecord(const rinha::v1::Payment& payment) {
  rinha::v1::RouterJournalRecord record;
  *record.mutable_accepted() = payment;
  return record.SerializeAsString();
}

std::string EncodeDispatchedRecord(std::string_view correlation_id, Target target,
                                   int64_t requested_at_ms) {
  rinha::v1::RouterJournalRecord record;
  rinha::v1::Dispatch* d = record.mutable_dispatched();
  d->set_correlation_id(std::string(correlation_id));
  d->set_processor(ToProto(target));
  d->set_requested_at_ms(requested_at_ms);
  return record.SerializeAsString();
}

JournalReplay ReplayJournal(const std::vector<Journal::Record>& records) {
  JournalReplay replay;
  absl::flat_hash_map<std::string, size_t> index;  // correlation id -> replay.payments
  // Dispatches met before their payment's acceptance (cannot happen in one journal, whose
  // records are in order; kept for robustness): applied once it is known.
  std::vector<std::pair<rinha::v1::Dispatch, uint64_t>> early;
  auto apply = [&](const rinha::v1::Dispatch& d, uint64_t handle) -> bool {
    auto it = index.find(d.correlation_id());
    if (it == index.end()) return false;
    RecoveredPayment& p = replay.payments[it->second];
    p.journal_handles.push_back(handle);
    if (d.processor() == rinha::v1::PROCESSOR_DEFAULT) {
      p.sent_at_ms[static_cast<int>(Target::kDefault)] = d.requested_at_ms();
    } else if (d.processor() == rinha::v1::PROCESSOR_FALLBACK) {
      p.sent_at_ms[static_cast<int>(Target::kFallback)] = d.requested_at_ms();
    }
    return true;
  };
  for (const Journal::Record& record : records) {
    rinha::v1::RouterJournalRecord r;
    rinha::v1::Payment payment;
    bool sends_known = true;
    if (!r.ParseFromString(record.payload)) {
      ++replay.unreadable;
      replay.orphans.push_back(record.handle);
      continue;
    }
    if (r.has_dispatched()) {
      if (!apply(r.dispatched(), record.handle)) early.emplace_back(r.dispatched(), record.handle);
      continue;
    }
    if (r.has_accepted()) {
      payment = r.accepted();
    } else if (payment.ParseFromString(record.payload) && !payment.correlation_id().empty()) {
      sends_known = false;  // a bare Payment: a journal of an earlier version
    } else {
      ++replay.unreadable;
      replay.orphans.push_back(record.handle);
      continue;
    }
    auto [it, inserted] = index.try_emplace(payment.correlation_id(), replay.payments.size());
    if (!inserted) {
      // Journaled twice (an edge resent it): one payment, every record released with it.
      RecoveredPayment& p = replay.payments[it->second];
      p.journal_handles.push_back(record.handle);
      p.sends_known = p.sends_known && sends_known;
      continue;
    }
    RecoveredPayment p;
    p.correlation_id = payment.correlation_id();
    p.amount_cents = payment.amount_cents();
    p.journal_handles.push_back(record.handle);
    p.sends_known = sends_known;
    replay.payments.push_back(std::move(p));
  }
  for (const auto& [dispatch, handle] : early) {
    if (!apply(dispatch, handle)) replay.orphans.push_back(handle);
  }
  return replay;
}

absl::StatusOr<uint64_t> JournalDispatchLog::Record(absl::Span<const Entry> entries) {
  std::vector<std::string> records;
  records.reserve(entries.size());
  for (const Entry& e : entries) {
    records.push_back(EncodeDispatchedRecord(e.correlation_id, e.target, e.requested_at_ms));
  }
  std::vector<std::string_view> views(records.begin(), records.end());
  return journal_.Append(views);
}

}  // namespace rinha::router
