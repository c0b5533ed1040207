// The official score (contest.md, rinha-final.js handleSummary) from the processors' totals, the
// p99 and the audit's inconsistency count, and the run's ceiling, in exact decimal arithmetic:
// money never passes through floating point; only the p99 rounding imitates JavaScript's doubles,
// as the official script rounds them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/numeric/int128.h"

namespace rinha::contest {

// units / 10^scale, exact.
struct Decimal {
  absl::int128 units = 0;
  int scale = 0;

  // Shortest exact text, as a JSON number: "1949876.384625", "0", "-3.5".
  std::string ToString() const;
  double ToDouble() const;
};

// One processor's admin summary over the teardown window.
struct ProcessorTotals {
  int64_t requests = 0;
  int64_t amount_cents = 0;
  // feePerTransaction: rate_units / 10^rate_scale (0.07 -> 7, 2).
  int64_t rate_units = 0;
  int rate_scale = 0;
};

struct ScoreInputs {
  ProcessorTotals default_totals;
  ProcessorTotals fallback_totals;
  double p99_ms = 0;  // unrounded, over the successful POSTs
  int64_t inconsistencies = 0;
  int64_t successes = 0;  // POSTs answered 200/201/202/204 within the timeout
  int64_t failures = 0;
  // The test's payment amount (20.05 in the final, 19.90 in the preview), for the ceiling.
  int64_t amount_cents = 0;
};

struct Score {
  int64_t p99_centi_ms = 0;  // p99 rounded to 2 decimals, in hundredths of a millisecond
  int bonus_percent = 0;     // 17 means +17 %
  int fine_percent = 0;      // 0 or 35
  Decimal gross;             // total_bruto
  Decimal default_fees;
  Decimal fallback_fees;
  Decimal fees;               // total_taxas
  Decimal net;                // gross - fees (before bonus and fine)
  Decimal fine_total;         // net x fine
  Decimal total_liquido;      // net x (1 + bonus - fine): the score
  int64_t payments_held = 0;  // default + fallback requests
  int64_t lag = 0;            // successes - payments_held (negative: "caixa dois")
  Decimal ceiling;            // Ceiling(successes, amount, default's rate)
};

// Rounds like big.js round(2) (half up) applied to the shortest text of the double, which is what
// `new Big(x).round(2)` does in the official script. Returns hundredths (2.545 -> 255).
int64_t RoundHalfUpCenti(double value);

// The official bonus: max(round2((11 - p99) * 0.02), 0) with the p99 already rounded, computed in
// doubles like the script, returned as a whole percentage (p99 2.55 ms -> 17).
int BonusPercent(int64_t p99_centi_ms);

// The p99 the ceiling is scored at: 1 ms, a bonus of 20 %.
inline constexpr int64_t kCeilingP99CentiMs = 100;

// The most a run can score, given how many payments it was answered 2xx for: every one of them
// at the test's amount, settled at the default's fee, with the bonus of kCeilingP99CentiMs and no
// fine: successes x amount x (1 - default rate) x 1.20, in the score's exact arithmetic (the
// final's 90,645 payments of 20.05 at 7 % -> 2028254.391). A p99 under 1 ms earns more than
// 20 %, so a score can pass it.
Decimal Ceiling(int64_t successes, int64_t amount_cents, const ProcessorTotals& default_totals);

Score ComputeScore(const ScoreInputs& in);

// The score as a share of the run's ceiling (0.9807 for 98.07 %); absent while the ceiling is not
// positive (no successful POST).
std::optional<double> ShareOfCeiling(const Score& score);

}  // namespace rinha::contest
