#include "contest/load/timeline.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace rinha::contest {
namespace {

// {from_s, default_delay, default_failing, fallback_delay, fallback_failing} at nominal length.
struct NominalStage {
  int from_s;
  int default_delay_ms;
  bool default_failing;
  int fallback_delay_ms;
  bool fallback_failing;
};

constexpr NominalStage kFinal[] = {
    {1, 0, false, 0, false},       {30, 1000, false, 0, false}, {60, 500, false, 0, false},
    {90, 2000, true, 1000, false}, {120, 5000, true, 5, false}, {150, 0, false, 5, true},
    {180, 100, false, 5, false},   {210, 50, false, 0, false},  {240, 103, false, 10, false},
    {270, 2000, false, 0, false},
};
constexpr NominalStage kPreview[] = {
    {1, 0, false, 0, false},      {10, 100, false, 0, false}, {20, 100, true, 0, false},
    {30, 2000, true, 1000, true}, {40, 20, false, 20, false}, {50, 0, false, 5000, false},
};
constexpr NominalStage kBothFail[] = {
    {1, 0, false, 0, false},   {60, 0, true, 0, true},      {80, 2000, false, 0, false},
    {120, 0, false, 0, false}, {180, 200, true, 200, true}, {200, 0, false, 0, false},
};
// Fault runs (nominal 60 s): phases in which a crash hurts in different ways.
constexpr NominalStage kFaults[] = {
    {1, 0, false, 0, false},     // normal
    {10, 800, false, 0, false},  // default slow but preferred: hundreds of POSTs in flight
    {25, 0, true, 0, true},      // both failing: the router's queue fills
    {35, 0, true, 0, false},     // default failing: everything goes to the fallback
    {45, 0, false, 0, false},    // recovery
};

std::vector<Stage> Scale(const std::vector<NominalStage>& nominal, int64_t nominal_s,
                         int64_t duration_s) {
  std::vector<Stage> stages;
  const int64_t end_ms = duration_s * 1000;
  for (const NominalStage& n : nominal) {
    Stage s;
    // Exact for the whole-second tables: from_s * 1000 * duration / nominal, rounded.
    s.from_ms = (static_cast<int64_t>(n.from_s) * 1000 * duration_s + nominal_s / 2) / nominal_s;
    s.default_delay_ms = n.default_delay_ms;
    s.default_failing = n.default_failing;
    s.fallback_delay_ms = n.fallback_delay_ms;
    s.fallback_failing = n.fallback_failing;
    stages.push_back(s);
  }
  for (size_t i = 0; i < stages.size(); ++i) {
    stages[i].to_ms = i + 1 < stages.size() ? stages[i + 1].from_ms : end_ms;
  }
  return stages;
}

}  // namespace

absl::StatusOr<TestShape> TestShapeByName(std::string_view name) {
  if (name == "final") return TestShape{"final", 300, 603, 2005};
  if (name == "preview") return TestShape{"preview", 60, 550, 1990};
  return absl::InvalidArgumentError(
      absl::StrCat("unknown test '", std::string(name), "' (final or preview)"));
}

absl::StatusOr<std::vector<Stage>> TimelineByName(std::string_view name, int64_t duration_s) {
  if (duration_s <= 0) return absl::InvalidArgumentError("duration must be positive");
  if (name == "none") return std::vector<Stage>{};
  if (name == "final") {
    return Scale({std::begin(kFinal), std::end(kFinal)}, 300, duration_s);
  }
  if (name == "preview") {
    return Scale({std::begin(kPreview), std::end(kPreview)}, 60, duration_s);
  }
  if (name == "reverse") {
    std::vector<NominalStage> reversed(std::begin(kFinal), std::end(kFinal));
    std::vector<NominalStage> configs(reversed.rbegin(), reversed.rend());
    for (size_t i = 0; i < reversed.size(); ++i) configs[i].from_s = reversed[i].from_s;
    return Scale(configs, 300, duration_s);
  }
  if (name == "both-fail") {
    return Scale({std::begin(kBothFail), std::end(kBothFail)}, 300, duration_s);
  }
  if (name == "faults") {
    return Scale({std::begin(kFaults), std::end(kFaults)}, 60, duration_s);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown timeline '", std::string(name),
                   "' (final, preview, reverse, both-fail, faults, none)"));
}

int VusAt(int64_t elapsed_ms, int64_t duration_ms, int max_vus) {
  if (max_vus <= 1 || duration_ms <= 0) return std::max(max_vus, 1);
  if (elapsed_ms <= 0) return 1;
  if (elapsed_ms >= duration_ms) return max_vus;
  return 1 + static_cast<int>(static_cast<int64_t>(max_vus - 1) * elapsed_ms / duration_ms);
}

int64_t RampTimeOfVu(int vus, int64_t duration_ms, int max_vus) {
  if (vus <= 1 || max_vus <= 1) return 0;
  // Smallest t with (max_vus - 1) * t / duration >= vus - 1: ceil((vus - 1) * duration / (max -
  // 1)).
  const int64_t steps = max_vus - 1;
  return (static_cast<int64_t>(vus - 1) * duration_ms + steps - 1) / steps;
}

}  // namespace rinha::contest
