#include "common/shard.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace rinha {

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

int ShardOf(std::string_view canonical_correlation_id, int shards) {
  if (shards <= 1) return 0;
  return static_cast<int>(Fnv1a64(canonical_correlation_id) % static_cast<uint64_t>(shards));
}

absl::StatusOr<std::vector<std::string>> ParseTargetList(std::string_view list) {
  if (list.empty()) return absl::InvalidArgumentError("empty list of targets");
  // Debian's Abseil has its own string_view, not std::string_view.
  const absl::string_view text(list.data(), list.size());
  std::vector<std::string> targets = absl::StrSplit(text, ',');
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("target ", i, " of '", text, "' is empty (a stray comma?)"));
    }
  }
  return targets;
}

}  // namespace rinha
