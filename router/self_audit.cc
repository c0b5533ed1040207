#include "router/self_audit.h"

#include <httplib.h>

#include <chrono>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/iso_time.h"
#include "common/json.h"
#include "common/log.h"
#include "common/money.h"

namespace rinha::router {
namespace {

int64_t FloorTo(int64_t value, int64_t step) {
  const int64_t q = value / step;
  return (value % step < 0 ? q - 1 : q) * step;
}

std::string Describe(const AuditTotals& ours, const AuditTotals& theirs) {
  return absl::StrFormat("ours %d / %s, theirs %d / %s", ours.requests, FormatCents(ours.cents),
                         theirs.requests, FormatCents(theirs.cents));
}

}  // namespace

absl::StatusOr<AuditTotals> ParseAdminSummary(std::string_view body) {
  AuditTotals totals;
  bool have_requests = false;
  bool have_amount = false;
  const absl::Status status =
      ParseJsonObject(body, [&](std::string_view key, const JsonValue& value) -> absl::Status {
        if (value.type != JsonType::kNumber) return absl::OkStatus();
        if (key == "totalRequests") {
          have_requests = absl::SimpleAtoi(absl::string_view(value.raw.data(), value.raw.size()),
                                           &totals.requests);
        } else if (key == "totalAmount") {
          absl::StatusOr<int64_t> cents = ParseDecimalCents(value.raw, CentsRounding::kHalfEven);
          if (cents.ok()) {
            totals.cents = *cents;
            have_amount = true;
          }
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  if (!have_requests || !have_amount) {
    return absl::InvalidArgumentError("admin summary without totalRequests and totalAmount");
  }
  return totals;
}

SelfAudit::SelfAudit(const SelfAuditConfig& config, AuditSource& source)
    : config_(config), source_(source) {}

SelfAudit::Verdict SelfAudit::Check(int64_t from_ms, int64_t to_ms, std::string* detail) {
  absl::StatusOr<std::array<AuditTotals, kTargets>> ours = source_.LedgerTotals(from_ms, to_ms);
  if (!ours.ok()) {
    *detail = absl::StrCat("ledger: ", ours.status().message());
    return Verdict::kError;
  }
  bool equal = true;
  std::string text;
  for (int t = 0; t < kTargets; ++t) {
    absl::StatusOr<AuditTotals> theirs =
        source_.ProcessorTotals(static_cast<Target>(t), from_ms, to_ms);
    if (!theirs.ok()) {
      *detail = absl::StrCat(std::string(TargetName(static_cast<Target>(t))), ": ",
                             theirs.status().message());
      return Verdict::kError;
    }
    equal = equal && (*ours)[t] == *theirs;
    absl::StrAppend(&text, t == 0 ? "" : "; ", std::string(TargetName(static_cast<Target>(t))), " ",
                    Describe((*ours)[t], *theirs));
  }
  *detail = std::move(text);
  return equal ? Verdict::kEqual : Verdict::kDifferent;
}

void SelfAudit::RunRound(int64_t now_ms) {
  const int64_t w = config_.window_ms;
  const int64_t newest_closed_from = FloorTo(now_ms - config_.settle_ms, w) - w;
  if (next_from_ms_ < 0) next_from_ms_ = newest_closed_from;
  // Behind (a slow round, a stalled machine): skip ahead rather than flood the processors.
  next_from_ms_ = std::max(next_from_ms_, newest_closed_from - 2 * w);
  int64_t checked = 0, errors = 0, found = 0, cleared = 0, abandoned = 0, last_end = -1;
  while (next_from_ms_ <= newest_closed_from) {
    const int64_t from = next_from_ms_;
    const int64_t to = from + w - 1;
    std::string detail;
    const Verdict v = Check(from, to, &detail);
    if (v == Verdict::kError) {
      ++errors;
      RINHA_LOG_WARNING("self-audit: window %s..%s not checked (%s); tried again next round",
                        FormatIsoMillis(from), FormatIsoMillis(to), detail);
      break;
    }
    ++checked;
    last_end = to;
    next_from_ms_ += w;
    if (v == Verdict::kDifferent) {
      ++found;
      open_.push_back(Open{from, to, now_ms});
      RINHA_LOG_ERROR("self-audit: window %s..%s differs from the processors: %s",
                      FormatIsoMillis(from), FormatIsoMillis(to), detail);
    }
  }
  // Mismatched windows again, oldest first, a few a round.
  size_t rechecks = std::min<size_t>(open_.size(), config_.max_rechecks_per_round);
  std::deque<Open> still;
  while (!open_.empty()) {
    Open o = open_.front();
    open_.pop_front();
    if (o.found_at_ms == now_ms || rechecks == 0) {  // found this round, or no budget left
      still.push_back(o);
      continue;
    }
    --rechecks;
    std::string detail;
    const Verdict v = Check(o.from_ms, o.to_ms, &detail);
    if (v == Verdict::kError) {
      ++errors;
      still.push_back(o);
      continue;
    }
    ++checked;
    if (v == Verdict::kEqual) {
      ++cleared;
      RINHA_LOG_WARNING(
          "self-audit: window %s..%s matches the processors now (%d s after it "
          "was found different)",
          FormatIsoMillis(o.from_ms), FormatIsoMillis(o.to_ms), (now_ms - o.found_at_ms) / 1000);
    } else if (now_ms - o.found_at_ms >= config_.max_recheck_age_ms) {
      ++abandoned;
      RINHA_LOG_ERROR("self-audit: window %s..%s still differs after %d s; no longer rechecked: %s",
                      FormatIsoMillis(o.from_ms), FormatIsoMillis(o.to_ms),
                      (now_ms - o.found_at_ms) / 1000, detail);
    } else {
      still.push_back(o);
    }
  }
  open_ = std::move(still);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.windows_checked += checked;
  stats_.errors += errors;
  stats_.mismatched_total += found;
  stats_.cleared_total += cleared;
  stats_.abandoned_total += abandoned;
  stats_.mismatched_now = static_cast<int64_t>(open_.size());
  if (last_end >= 0) stats_.last_window_end_ms = last_end;
}

SelfAuditStats SelfAudit::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

HttpAuditSource::HttpAuditSource(std::string default_url, std::string fallback_url,
                                 std::string admin_token, LedgerClient& ledger)
    : urls_{std::move(default_url), std::move(fallback_url)},
      admin_token_(std::move(admin_token)),
      ledger_(ledger) {}

absl::StatusOr<AuditTotals> HttpAuditSource::ProcessorTotals(Target target, int64_t from_ms,
                                                             int64_t to_ms) {
  httplib::Client client(urls_[static_cast<int>(target)]);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  const std::string path = absl::StrCat("/admin/payments-summary?from=", FormatIsoMillis(from_ms),
                                        "&to=", FormatIsoMillis(to_ms));
  httplib::Result r = client.Get(path.c_str(), httplib::Headers{{"X-Rinha-Token", admin_token_}});
  if (!r) return absl::UnavailableError(httplib::to_string(r.error()));
  if (r->status != 200) {
    return absl::UnavailableError(absl::StrCat("admin summary answered ", r->status));
  }
  return ParseAdminSummary(r->body);
}

absl::StatusOr<std::array<AuditTotals, kTargets>> HttpAuditSource::LedgerTotals(int64_t from_ms,
                                                                                int64_t to_ms) {
  absl::StatusOr<rinha::v1::SummaryResponse> s = ledger_.Summary(from_ms, to_ms, absl::Seconds(5));
  if (!s.ok()) return s.status();
  std::array<AuditTotals, kTargets> totals;
  totals[0] = {s->default_totals().total_requests(), s->default_totals().total_amount_cents()};
  totals[1] = {s->fallback_totals().total_requests(), s->fallback_totals().total_amount_cents()};
  return totals;
}

SelfAuditThread::SelfAuditThread(const SelfAuditConfig& config, std::unique_ptr<AuditSource> source,
                                 const Clock& clock)
    : config_(config),
      source_(std::move(source)),
      clock_(clock),
      audit_(config_, *source_),
      thread_([this] { Loop(); }) {}

SelfAuditThread::~SelfAuditThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void SelfAuditThread::Loop() {
  RINHA_LOG_INFO("self-audit: on (windows of %d s, checked %d s after they close)",
                 config_.window_ms / 1000, config_.settle_ms / 1000);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    audit_.RunRound(clock_.NowMillis());
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(config_.window_ms), [this] { return stop_; });
  }
}

}  // namespace rinha::router
