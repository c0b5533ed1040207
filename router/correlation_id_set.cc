#include "router/correlation_id_set.h"

#include "common/uuid.h"

namespace rinha::router {

bool ParseCanonicalUuid(std::string_view id, absl::uint128* out) {
  if (!IsCanonicalUuid(id)) return false;
  uint64_t high = 0;
  uint64_t low = 0;
  int nibbles = 0;
  for (char c : id) {
    if (c == '-') continue;
    const uint64_t v =
        (c <= '9') ? static_cast<uint64_t>(c - '0') : static_cast<uint64_t>(c - 'a' + 10);
    if (nibbles < 16) {
      high = (high << 4) | v;
    } else {
      low = (low << 4) | v;
    }
    ++nibbles;
  }
  *out = absl::MakeUint128(high, low);
  return true;
}

CorrelationIdSet::InsertResult CorrelationIdSet::Insert(std::string_view id) {
  if (Contains(id)) return InsertResult::kDuplicate;
  if (size() >= max_ids_) return InsertResult::kFull;
  absl::uint128 key;
  if (ParseCanonicalUuid(id, &key)) {
    uuids_.insert(key);
  } else {
    others_.emplace(id);
  }
  return InsertResult::kNew;
}

bool CorrelationIdSet::Contains(std::string_view id) const {
  absl::uint128 key;
  if (ParseCanonicalUuid(id, &key)) return uuids_.contains(key);
  return others_.contains(std::string(id));
}

void CorrelationIdSet::Erase(std::string_view id) {
  absl::uint128 key;
  if (ParseCanonicalUuid(id, &key)) {
    uuids_.erase(key);
  } else {
    others_.erase(std::string(id));
  }
}

int64_t CorrelationIdSet::Clear() {
  const int64_t n = size();
  // Release the memory too: a purge starts a new run.
  absl::flat_hash_set<absl::uint128>().swap(uuids_);
  absl::flat_hash_set<std::string>().swap(others_);
  return n;
}

}  // namespace rinha::router
