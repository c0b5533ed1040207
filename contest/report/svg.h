// Pure building blocks of the report's SVG charts: scales, tick choice, number formatting,
// polyline paths with gaps, and XML/HTML escaping. No I/O, so each piece is unit-tested.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace rinha::report {

// Escapes &, <, >, " and ' for text and attribute values of HTML and SVG.
std::string EscapeXml(absl::string_view text);

// Maps a data interval onto a pixel interval (range may be inverted, as y axes are).
class LinearScale {
 public:
  // A degenerate domain (lo == hi) is widened by 1 on each side so nothing divides by zero.
  LinearScale(double domain_lo, double domain_hi, double range_lo, double range_hi);
  double Map(double value) const;
  double domain_lo() const { return domain_lo_; }
  double domain_hi() const { return domain_hi_; }

 private:
  double domain_lo_, domain_hi_, range_lo_, range_hi_;
};

// Logarithmic (base 10) scale for latencies; values at or below 0 map to the bottom (domain_lo),
// the caller marks them as clipped.
class LogScale {
 public:
  // Requires 0 < domain_lo < domain_hi; otherwise falls back to [1, 10].
  LogScale(double domain_lo, double domain_hi, double range_lo, double range_hi);
  double Map(double value) const;
  double domain_lo() const { return domain_lo_; }
  double domain_hi() const { return domain_hi_; }

 private:
  double domain_lo_, domain_hi_, range_lo_, range_hi_;
};

// "Nice" tick values covering [lo, hi] with steps of 1, 2 or 5 x 10^k, at most `max_ticks`
// (>= 2) of them, first >= lo and last <= hi. Empty if lo > hi or either is not finite.
std::vector<double> NiceTicks(double lo, double hi, int max_ticks);

// Upper end of a linear axis starting at 0: the smallest "nice" number (1, 2, 2.5, 5 x 10^k)
// >= max_value; 1 when max_value <= 0.
double NiceCeiling(double max_value);

// Decades 10^k within [lo, hi] for a log axis (lo > 0); when that gives fewer than 3 ticks, the
// 2x and 5x values are added too.
std::vector<double> LogTicks(double lo, double hi);

// The smallest power of ten <= value and the largest >= value (value > 0).
double FloorPow10(double value);
double CeilPow10(double value);

// Short tick label: integers without decimals ("250"), thousands as "12k" when the value is a
// whole number of thousands, otherwise up to 3 significant decimals ("0.5", "0.25").
std::string FormatTick(double value);

// A pixel coordinate for an SVG attribute: one decimal, "-0.0" normalised, non-finite as 0.
std::string FormatCoord(double value);

struct Point {
  double x = 0;
  double y = 0;
};

// SVG path data of a polyline through the points; an absent point breaks the line (a new "M"
// starts after it). Empty when no point is present.
std::string PolylinePath(const std::vector<std::optional<Point>>& points);

}  // namespace rinha::report
