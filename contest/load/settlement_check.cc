#include "contest/load/settlement_check.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "contest/load/latency.h"

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
