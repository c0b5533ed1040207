// The correlation ids the router has taken responsibility for since the last purge, so a payment
// resent by an edge or repeated by a client is never paid twice. Canonical UUIDs are kept as
// 128-bit keys (about 17-20 bytes per id with the table's slack: 100k ids are about 2 MB);
// anything else (never sent by our edge) is kept as text.
//
// Not thread-safe: used by the router's event-loop thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"

namespace rinha::router {

class CorrelationIdSet {
 public:
  enum class InsertResult { kNew, kDuplicate, kFull };

  explicit CorrelationIdSet(int64_t max_ids) : max_ids_(max_ids) {}

  InsertResult Insert(std::string_view id);
  bool Contains(std::string_view id) const;
  // Forgets one id (a payment the router gave back).
  void Erase(std::string_view id);
  // Forgets every id; returns how many there were.
  int64_t Clear();
  int64_t size() const { return static_cast<int64_t>(uuids_.size() + others_.size()); }

 private:
  const int64_t max_ids_;
  absl::flat_hash_set<absl::uint128> uuids_;
  absl::flat_hash_set<std::string> others_;
};

// The 128 bits of a canonical UUID text; false when `id` is not canonical.
bool ParseCanonicalUuid(std::string_view id, absl::uint128* out);

}  // namespace rinha::router
