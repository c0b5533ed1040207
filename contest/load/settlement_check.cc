#include "contest/load/settlement_check.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "contest/load/latency.h"
#include "contest/report/json_reader.h"

namespace rinha::contest {
namespace {

constexpr size_t kMaxExamples = 10;

template <typename T>
bool ParseInt(absl::string_view s, T* out) {
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return error == std::errc() && end == s.data() + s.size();
}

void Example(SettlementCheck& check, std::string_view what, std::string_view id) {
  if (check.examples.size() < kMaxExamples) {
    check.examples.push_back(std::string(what) + " " + std::string(id));
  }
}

}  // namespace

absl::StatusOr<std::vector<LoggedRequest>> ParseRequestLog(std::string_view text) {
  std::vector<LoggedRequest> out;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_number;
    if (line.empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    LoggedRequest r;
    if (fields.size() != 4 || !ParseInt(fields[0], &r.start_us) ||
        !ParseInt(fields[1], &r.latency_us) || !ParseInt(fields[2], &r.status) ||
        fields[3].size() != 36) {
      return absl::InvalidArgumentError(
          absl::StrCat("request log line ", line_number, ": '", line, "'"));
    }
    r.id = std::string(fields[3].data(), fields[3].size());
    out.push_back(std::move(r));
  }
  return out;
}

SettlementCheck CheckSettlements(const std::vector<LoggedRequest>& requests,
                                 const Holdings& holdings) {
  SettlementCheck check;
  check.requests = static_cast<int64_t>(requests.size());
  absl::flat_hash_set<std::string> sent;
  absl::flat_hash_set<std::string> ok;
  for (const LoggedRequest& r : requests) {
    sent.insert(r.id);
    if (r.ok()) ok.insert(r.id);
  }
  check.answered_2xx = static_cast<int64_t>(ok.size());

  absl::flat_hash_set<std::string> held;
  for (const auto* side : {&holdings.at_default, &holdings.at_fallback}) {
    held.insert(side->begin(), side->end());
  }
  check.settled = static_cast<int64_t>(held.size());
  for (const std::string& id : holdings.at_default) {
    if (holdings.at_fallback.contains(id)) {
      ++check.paid_twice;
      auto it = holdings.ledger.find(id);
      if (it != holdings.ledger.end() && it->second.at_default && it->second.at_fallback) {
        ++check.paid_twice_recorded;
      }
      Example(check, "paid twice:", id);
    }
  }
  for (const std::string& id : ok) {
    if (!held.contains(id)) {
      ++check.lost;
      Example(check, "lost:", id);
    }
  }
  const auto holds = [&](LedgerProcessor p, const std::string& id) {
    return (p == LedgerProcessor::kDefault ? holdings.at_default : holdings.at_fallback)
        .contains(id);
  };
  constexpr LedgerProcessor kBoth[] = {LedgerProcessor::kDefault, LedgerProcessor::kFallback};
  for (const std::string& id : held) {
    auto it = holdings.ledger.find(id);
    for (LedgerProcessor p : kBoth) {
      if (holds(p, id) && (it == holdings.ledger.end() || !it->second.under(p))) {
        ++check.unrecorded;
        Example(check, "unrecorded:", id);
        break;
      }
    }
    if (!sent.contains(id)) {
      ++check.foreign;
    } else if (!ok.contains(id)) {
      ++check.paid_client_failed;
    }
  }
  for (const auto& [id, rows] : holdings.ledger) {
    for (LedgerProcessor p : kBoth) {
      if (rows.under(p) && !holds(p, id)) {
        ++check.recorded_unpaid;
        Example(check, "recorded, unpaid:", id);
        break;
      }
    }
  }
  return check;
}

absl::StatusOr<std::vector<HeldPayment>> ParseProcessorIds(std::string_view json) {
  absl::StatusOr<report::Json> parsed =
      report::ParseJson(absl::string_view(json.data(), json.size()));
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_array()) {
    return absl::InvalidArgumentError("processor ids: expected a JSON array");
  }
  std::vector<HeldPayment> out;
  out.reserve(parsed->items().size());
  for (size_t i = 0; i < parsed->items().size(); ++i) {
    const report::Json& item = parsed->items()[i];
    HeldPayment held;
    if (item.is_string()) {
      held.id = item.string();
    } else if (const report::Json* id = item.Find("correlationId");
               id != nullptr && id->is_string()) {
      held.id = id->string();
      const report::Json* at = item.Find("insertedAtMs");
      // An absent or odd time leaves the payment held, its time unknown.
      if (at != nullptr && at->is_number() && at->number() > 0 && at->number() < 9.0e15 &&
          at->number() == std::floor(at->number())) {
        held.inserted_at_ms = static_cast<int64_t>(at->number());
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "processor ids[", i, "]: expected an id string or an object with a correlationId"));
    }
    out.push_back(std::move(held));
  }
  return out;
}

RecordLag MeasureRecordLag(const Holdings& holdings, std::optional<int64_t> ready_at_ms) {
  RecordLag lag;
  lag.has_ready = ready_at_ms.has_value();
  std::vector<int64_t> samples_ns;
  int64_t max_lag_ms = 0;
  int64_t after_ready_ms = 0;
  for (LedgerProcessor p : {LedgerProcessor::kDefault, LedgerProcessor::kFallback}) {
    const auto& held = p == LedgerProcessor::kDefault ? holdings.at_default : holdings.at_fallback;
    const auto& inserted = p == LedgerProcessor::kDefault ? holdings.inserted_at_default
                                                          : holdings.inserted_at_fallback;
    for (const std::string& id : held) {
      const auto in = inserted.find(id);
      const int64_t inserted_at = in == inserted.end() ? 0 : in->second;
      const auto row = holdings.ledger.find(id);
      const bool recorded = row != holdings.ledger.end() && row->second.under(p);
      const int64_t recorded_at = recorded ? row->second.recorded_at_ms(p) : 0;
      if (inserted_at > 0 && recorded_at > 0) {
        const int64_t ms = recorded_at - inserted_at;
        max_lag_ms = samples_ns.empty() ? ms : std::max(max_lag_ms, ms);
        samples_ns.push_back(ms * 1'000'000);
      }
      if (!ready_at_ms.has_value() || inserted_at <= 0 || inserted_at > *ready_at_ms) continue;
      ++lag.held_at_ready;
      if (!recorded) {
        ++lag.held_at_ready_unrecorded;
      } else if (recorded_at > 0) {
        after_ready_ms = std::max(after_ready_ms, recorded_at - *ready_at_ms);
      }
    }
  }
  lag.samples = static_cast<int64_t>(samples_ns.size());
  lag.p50_ms = std::llround(PercentileMs(samples_ns, 0.50));
  lag.p99_ms = std::llround(PercentileMs(samples_ns, 0.99));
  lag.max_ms = max_lag_ms;
  lag.recorded_after_ready_max_ms = after_ready_ms;
  return lag;
}

double P99InWindowMs(const std::vector<LoggedRequest>& requests, int64_t from_us, int64_t to_us,
                     int64_t* count) {
  std::vector<int64_t> samples_ns;
  for (const LoggedRequest& r : requests) {
    if (r.ok() && r.start_us >= from_us && r.start_us < to_us) {
      samples_ns.push_back(r.latency_us * 1000);
    }
  }
  if (count != nullptr) *count = static_cast<int64_t>(samples_ns.size());
  return PercentileMs(samples_ns, 0.99);
}

}  // namespace rinha::contest
