// The edge's side of router shards (docs/design.md, "Beyond one host"): where each shard's
// journal lives, a check that the journals on disk were written with the same number of shards,
// and the sum of the shards' ledger summaries. A payment's shard is common/shard.h's ShardOf.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "payments.pb.h"

namespace rinha::edge {

// The journal directory of shard `shard` of `shards`: `dir` itself with one shard (the layout of
// an edge without shards, so that its journals recover unchanged), `dir`/shard-<i> otherwise.
// Empty when `dir` is empty (no journal).
std::string ShardJournalDir(const std::string& dir, int shard, int shards);

// Whether the journals under `dir` can be read back with `shards` shards: FailedPrecondition
// when a journal holds records (segment files) where this layout would not look, i.e. the edge
// last ran with another number of shards. Reading such a journal with a different layout would
// send a payment to a shard other than the one that may already hold it, which could pay it
// twice; the edge refuses to start instead, and the operator starts it with its old --router
// list until the journal has drained. OK when `dir` is empty or missing.
absl::Status CheckJournalLayout(const std::string& dir, int shards);

// Adds one shard's ledger summary to `total` (requests and cents, per processor). Shards hold
// disjoint sets of payments, so the sum is the whole system's summary, exact when every shard
// answered (the edge fails the request when one did not, rather than omit it).
void AddSummary(const rinha::v1::SummaryResponse& shard, rinha::v1::SummaryResponse* total);

}  // namespace rinha::edge
