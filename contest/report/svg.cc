#include "contest/report/svg.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rinha::report {

std::string EscapeXml(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

LinearScale::LinearScale(double domain_lo, double domain_hi, double range_lo, double range_hi)
    : domain_lo_(domain_lo), domain_hi_(domain_hi), range_lo_(range_lo), range_hi_(range_hi) {
  if (!(domain_hi_ != domain_lo_) || !std::isfinite(domain_hi_ - domain_lo_)) {
    domain_lo_ = std::isfinite(domain_lo) ? domain_lo - 1 : -1;
    domain_hi_ = domain_lo_ + 2;
  }
}

double LinearScale::Map(double value) const {
  return range_lo_ + (value - domain_lo_) / (domain_hi_ - domain_lo_) * (range_hi_ - range_lo_);
}

LogScale::LogScale(double domain_lo, double domain_hi, double range_lo, double range_hi)
    : domain_lo_(domain_lo), domain_hi_(domain_hi), range_lo_(range_lo), range_hi_(range_hi) {
  if (!(domain_lo_ > 0) || !(domain_hi_ > domain_lo_) || !std::isfinite(domain_hi_)) {
    domain_lo_ = 1;
    domain_hi_ = 10;
  }
}

double LogScale::Map(double value) const {
  const double clamped = value > domain_lo_ ? value : domain_lo_;
  const double fraction = (std::log10(clamped) - std::log10(domain_lo_)) /
                          (std::log10(domain_hi_) - std::log10(domain_lo_));
  return range_lo_ + fraction * (range_hi_ - range_lo_);
}

namespace {

// The smallest step of 1, 2 or 5 x 10^k that covers `span` in at most `max_ticks - 1` steps.
double NiceStep(double span, int max_ticks) {
  const double raw = span / std::max(1, max_ticks - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double multiple : {1.0, 2.0, 5.0, 10.0}) {
    if (multiple * magnitude >= raw * (1 - 1e-9)) return multiple * magnitude;
  }
  return 10 * magnitude;
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int max_ticks) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) return ticks;
  max_ticks = std::max(2, max_ticks);
  if (lo == hi) return {lo};
  const double step = NiceStep(hi - lo, max_ticks);
  // Index arithmetic (not repeated addition) keeps ticks exact multiples of step.
  const double first = std::ceil(lo / step - 1e-9);
  const double last = std::floor(hi / step + 1e-9);
  for (double i = first; i <= last && static_cast<int>(ticks.size()) < max_ticks + 1; ++i) {
    double value = i * step;
    if (std::fabs(value) < step * 1e-9) value = 0;
    ticks.push_back(value);
  }
  return ticks;
}

double NiceCeiling(double max_value) {
  if (!(max_value > 0) || !std::isfinite(max_value)) return 1;
  const double magnitude = FloorPow10(max_value);
  for (double multiple : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (multiple * magnitude >= max_value * (1 - 1e-12)) return multiple * magnitude;
  }
  return 10 * magnitude;
}

double FloorPow10(double value) {
  double p = std::pow(10.0, std::floor(std::log10(value)));
  // log10 of an exact power of ten can land just below the integer.
  if (p * 10 <= value) p *= 10;
  return p;
}

double CeilPow10(double value) {
  const double floor = FloorPow10(value);
  return floor >= value ? floor : floor * 10;
}

std::vector<double> LogTicks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(lo > 0) || !(hi >= lo) || !std::isfinite(hi)) return ticks;
  for (double decade = CeilPow10(lo); decade <= hi * (1 + 1e-9); decade *= 10) {
    ticks.push_back(decade);
  }
  if (ticks.size() < 3) {
    ticks.clear();
    for (double decade = FloorPow10(lo); decade <= hi * (1 + 1e-9); decade *= 10) {
      for (double multiple : {1.0, 2.0, 5.0}) {
        const double value = decade * multiple;
        if (value >= lo * (1 - 1e-9) && value <= hi * (1 + 1e-9)) ticks.push_back(value);
      }
    }
  }
  return ticks;
}

std::string FormatTick(double value) {
  if (!std::isfinite(value)) return "?";
  const double rounded = std::round(value);
  if (std::fabs(value - rounded) < 1e-9 * std::max(1.0, std::fabs(value))) {
    const auto whole = static_cast<long long>(rounded);
    if (whole != 0 && whole % 1000 == 0) return absl::StrCat(whole / 1000, "k");
    return absl::StrCat(whole);
  }
  std::string text = absl::StrFormat("%.3f", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string FormatCoord(double value) {
  if (!std::isfinite(value)) return "0";
  std::string text = absl::StrFormat("%.1f", value);
  if (text == "-0.0") return "0.0";
  return text;
}

std::string PolylinePath(const std::vector<std::optional<Point>>& points) {
  std::string path;
  bool pen_down = false;
  for (size_t i = 0; i < points.size(); ++i) {
    if (!points[i].has_value()) {
      pen_down = false;
      continue;
    }
    if (!path.empty()) path.push_back(' ');
    absl::StrAppend(&path, pen_down ? "L" : "M", FormatCoord(points[i]->x), " ",
                    FormatCoord(points[i]->y));
    const bool isolated = !pen_down && (i + 1 == points.size() || !points[i + 1].has_value());
    // A lone point between gaps: a zero-length segment, drawn as a dot by round line caps.
    if (isolated) path += " l0 0";
    pen_down = true;
  }
  return path;
}

}  // namespace rinha::report
