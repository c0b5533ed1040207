#include "contest/runner/compose_limits.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "contest/runner/yaml_subset.h"

namespace rinha::contest {
namespace {

// Splits "12.345" into an integer scaled by 10^max_decimals; false on anything else.
bool ParseFixedPoint(absl::string_view text, int max_decimals, int64_t* scaled) {
  if (text.empty()) return false;
  int64_t whole = 0;
  size_t i = 0;
  for (; i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i])); ++i) {
    whole = whole * 10 + (text[i] - '0');
    if (whole > (int64_t{1} << 40)) return false;
  }
  if (i == 0) return false;
  int64_t fraction = 0;
  int decimals = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    const size_t first = i;
    for (; i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i])); ++i) {
      if (++decimals > max_decimals) return false;
      fraction = fraction * 10 + (text[i] - '0');
    }
    if (i == first) return false;
  }
  if (i != text.size()) return false;
  for (int d = decimals; d < max_decimals; ++d) fraction *= 10;
  int64_t scale = 1;
  for (int d = 0; d < max_decimals; ++d) scale *= 10;
  *scaled = whole * scale + fraction;
  return true;
}

}  // namespace

absl::StatusOr<int64_t> ParseCpuMillis(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  int64_t millis = 0;
  if (!ParseFixedPoint(text, 3, &millis) || millis <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cpus \"", text, "\" is not a positive number with at most 3 decimals"));
  }
  return millis;
}

absl::StatusOr<int64_t> ParseMemoryBytes(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  const auto error = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory \"", text, "\" is not a size like 30MB, 512m, 1.5g or 1048576 (bytes)"));
  };
  size_t number_end = 0;
  while (number_end < text.size() &&
         (absl::ascii_isdigit(static_cast<unsigned char>(text[number_end])) ||
          text[number_end] == '.')) {
    ++number_end;
  }
  std::string unit =
      absl::AsciiStrToLower(absl::StripLeadingAsciiWhitespace(text.substr(number_end)));
  int shift = 0;
  if (!unit.empty()) {
    switch (unit[0]) {
      case 'b':
        shift = 0;
        break;
      case 'k':
        shift = 10;
        break;
      case 'm':
        shift = 20;
        break;
      case 'g':
        shift = 30;
        break;
      case 't':
        shift = 40;
        break;
      default:
        return error();
    }
    const absl::string_view rest = absl::string_view(unit).substr(1);
    if (unit[0] == 'b' ? !rest.empty() : !(rest.empty() || rest == "b" || rest == "ib")) {
      return error();
    }
  }
  // Nine decimals cover every fraction that can matter up to TiB.
  int64_t nano_units = 0;
  if (!ParseFixedPoint(text.substr(0, number_end), 9, &nano_units)) return error();
  const long double bytes = static_cast<long double>(nano_units) / 1e9L * std::ldexp(1.0L, shift);
  if (bytes < 1 || bytes > 9.0e18L) return error();
  return static_cast<int64_t>(std::floor(bytes));
}

absl::StatusOr<std::vector<ServiceLimits>> ReadComposeLimits(absl::string_view yaml) {
  auto document = ParseYamlSubset(yaml);
  if (!document.ok()) return document.status();
  const YamlNode* services = (*document)->Find("services");
  if (services == nullptr || services->kind != YamlNode::Kind::kMap || services->map.empty()) {
    return absl::InvalidArgumentError("no `services:` map in the compose file");
  }
  std::vector<ServiceLimits> result;
  std::vector<std::string> problems;
  for (const auto& [name, service] : services->map) {
    // A service with profiles starts only when one is asked for (`--profile monitoring`); the
    // contest runs `docker compose up` without any, so it is outside the budget.
    if (service->Find("profiles") != nullptr) continue;
    const YamlNode* limits = nullptr;
    if (const YamlNode* deploy = service->Find("deploy")) {
      if (const YamlNode* resources = deploy->Find("resources")) limits = resources->Find("limits");
    }
    ServiceLimits entry{name};
    const auto read = [&](absl::string_view key, auto parse, int64_t* out) {
      const YamlNode* value = limits == nullptr ? nullptr : limits->Find(key);
      if (value == nullptr || value->kind != YamlNode::Kind::kScalar) {
        problems.push_back(
            absl::StrCat(entry.name, ": deploy.resources.limits.", key, " is missing"));
        return;
      }
      auto parsed = parse(value->scalar);
      if (!parsed.ok()) {
        problems.push_back(absl::StrCat(entry.name, ": ", parsed.status().message()));
        return;
      }
      *out = *parsed;
    };
    read("cpus", ParseCpuMillis, &entry.cpu_millis);
    read("memory", ParseMemoryBytes, &entry.memory_bytes);
    result.push_back(std::move(entry));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  return result;
}

Totals SumLimits(const std::vector<ServiceLimits>& services) {
  Totals totals;
  for (const auto& service : services) {
    totals.cpu_millis += service.cpu_millis;
    totals.memory_bytes += service.memory_bytes;
  }
  return totals;
}

absl::Status CheckBudget(const Totals& totals, const Budget& budget) {
  if (totals.cpu_millis <= budget.cpu_millis && totals.memory_bytes <= budget.memory_bytes) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrFormat(
      "limits total %s CPU / %.2f MB (%d bytes), over the budget of %s CPU / %.2f MB",
      FormatCpu(totals.cpu_millis), static_cast<double>(totals.memory_bytes) / (1 << 20),
      totals.memory_bytes, FormatCpu(budget.cpu_millis),
      static_cast<double>(budget.memory_bytes) / (1 << 20)));
}

std::string FormatCpu(int64_t cpu_millis) {
  std::string text = absl::StrFormat("%d.%03d", cpu_millis / 1000, cpu_millis % 1000);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace rinha::contest
