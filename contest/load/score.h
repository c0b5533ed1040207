// The official score (contest.md, rinha-final.js handleSummary) from the processors' totals, the
// p99 and the audit's inconsistency count, in exact decimal arithmetic: money never passes
// through floating point; only the p99 rounding imitates JavaScript's doubles, as the official
// script rounds them.
#pragma once

#include <cstdint>
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
};

// Rounds like big.js round(2) (half up) applied to the shortest text of the double, which is what
// `new Big(x).round(2)` does in the official script. Returns hundredths (2.545 -> 255).
int64_t RoundHalfUpCenti(double value);

// The official bonus: max(round2((11 - p99) * 0.02), 0) with the p99 already rounded, computed in
// doubles like the script, returned as a whole percentage (p99 2.55 ms -> 17).
int BonusPercent(int64_t p99_centi_ms);

Score ComputeScore(const ScoreInputs& in);

}  // namespace rinha::contest
