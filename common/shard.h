// Which router shard owns a payment: a stable hash of its canonical correlation id, modulo the
// number of shards. Every edge computes the same answer for the same id, whatever its build or
// host, so a payment retried through another edge reaches the same shard (and is deduplicated
// there). The function is fixed forever for the data it placed: a shard's journal and ledger hold
// the ids that hash to it, so changing it (or the number of shards) moves ids away from their
// records. Resharding is not supported; see docs/design.md ("Beyond one host").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace rinha {

// FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime 0x100000001b3), over the bytes as
// given. Chosen for being specified in a few lines, the same everywhere, and spreading UUIDs
// evenly; nothing here needs resistance to chosen keys (an id is the client's own payment).
uint64_t Fnv1a64(std::string_view bytes);

// The shard of a payment: Fnv1a64 of its canonical id (36 lower-case characters, as the edge
// writes it) modulo `shards`. `shards` >= 1; with 1, always 0.
int ShardOf(std::string_view canonical_correlation_id, int shards);

// A comma-separated list of gRPC targets ("unix:/a.sock" or "host:port"), one per shard, in
// shard order: "t0,t1,...". InvalidArgument when it is empty or an element is empty (a stray
// comma would otherwise shift every shard after it).
absl::StatusOr<std::vector<std::string>> ParseTargetList(std::string_view list);

}  // namespace rinha
