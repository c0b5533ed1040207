#include "contest/load/score.h"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <string_view>

namespace rinha::contest {
namespace {

absl::int128 Pow10(int n) {
  absl::int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

Decimal Rescale(const Decimal& d, int scale) {
  return Decimal{d.units * Pow10(scale - d.scale), scale};
}

Decimal Add(const Decimal& a, const Decimal& b) {
  const int scale = std::max(a.scale, b.scale);
  return Decimal{Rescale(a, scale).units + Rescale(b, scale).units, scale};
}

Decimal Negate(const Decimal& a) { return Decimal{-a.units, a.scale}; }

// cents x the processor's rate: scale 2 + rate_scale.
Decimal FeeAt(const ProcessorTotals& processor, absl::int128 cents) {
  return Decimal{cents * processor.rate_units, 2 + processor.rate_scale};
}
Decimal Fee(const ProcessorTotals& t) { return FeeAt(t, t.amount_cents); }

// value x percent / 100.
Decimal TimesPercent(const Decimal& value, int percent) {
  return Decimal{value.units * percent, value.scale + 2};
}

}  // namespace

std::string Decimal::ToString() const {
  const bool negative = units < 0;
  std::ostringstream text;
  text << (negative ? static_cast<absl::uint128>(-units) : static_cast<absl::uint128>(units));
  std::string digits = text.str();
  if (static_cast<int>(digits.size()) <= scale) {
    digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
  }
  std::string out = negative ? "-" : "";
  out += digits.substr(0, digits.size() - static_cast<size_t>(scale));
  std::string fraction = digits.substr(digits.size() - static_cast<size_t>(scale));
  fraction.erase(fraction.find_last_not_of('0') + 1);
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

double Decimal::ToDouble() const {
  // Through the text: exact to the double nearest to the decimal value.
  const std::string text = ToString();
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

int64_t RoundHalfUpCenti(double value) {
  // Shortest round-trip text (what JavaScript's Number -> string gives big.js), then decimal
  // half-up rounding to two places on the digits.
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  if (ec != std::errc()) return 0;
  std::string_view text(buf, static_cast<size_t>(end - buf));
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  const size_t dot = text.find('.');
  const std::string_view int_part = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  int64_t centi = 0;
  for (char c : int_part) centi = centi * 10 + (c - '0');
  for (size_t i = 0; i < 2; ++i) centi = centi * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  // big.js ROUND_HALF_UP rounds away from zero on ties.
  if (frac.size() > 2 && frac[2] >= '5') ++centi;
  return negative ? -centi : centi;
}

int BonusPercent(int64_t p99_centi_ms) {
  // The script: Math.max(new Big((11 - p_99) * 0.02).round(2).toNumber(), 0), p_99 a double.
  const double p99 = static_cast<double>(p99_centi_ms) / 100.0;
  const int64_t bonus_centi = RoundHalfUpCenti((11 - p99) * 0.02);
  return static_cast<int>(std::max<int64_t>(bonus_centi, 0));
}

Decimal Ceiling(int64_t successes, int64_t amount_cents, const ProcessorTotals& default_totals) {
  // The score's steps: gross, minus the fee at the default's rate, times (1 + bonus).
  const absl::int128 cents = absl::int128(successes) * amount_cents;
  const Decimal net = Add(Decimal{cents, 2}, Negate(FeeAt(default_totals, cents)));
  return TimesPercent(net, 100 + BonusPercent(kCeilingP99CentiMs));
}

Score ComputeScore(const ScoreInputs& in) {
  Score s;
  s.p99_centi_ms = RoundHalfUpCenti(in.p99_ms);
  s.bonus_percent = BonusPercent(s.p99_centi_ms);
  s.fine_percent = in.inconsistencies > 0 ? 35 : 0;
  s.gross =
      Decimal{absl::int128(in.default_totals.amount_cents) + in.fallback_totals.amount_cents, 2};
  s.default_fees = Fee(in.default_totals);
  s.fallback_fees = Fee(in.fallback_totals);
  s.fees = Add(s.default_fees, s.fallback_fees);
  s.net = Add(s.gross, Negate(s.fees));
  s.fine_total = TimesPercent(s.net, s.fine_percent);
  s.total_liquido = TimesPercent(s.net, 100 + s.bonus_percent - s.fine_percent);
  s.payments_held = in.default_totals.requests + in.fallback_totals.requests;
  s.lag = in.successes - s.payments_held;
  s.ceiling = Ceiling(in.successes, in.amount_cents, in.default_totals);
  return s;
}

std::optional<double> ShareOfCeiling(const Score& score) {
  if (score.ceiling.units <= 0) return std::nullopt;
  return score.total_liquido.ToDouble() / score.ceiling.ToDouble();
}

}  // namespace rinha::contest
