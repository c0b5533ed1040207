#include "edge/sharding.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rinha::edge {
namespace {

constexpr char kShardPrefix[] = "shard-";
constexpr size_t kShardPrefixLength = sizeof(kShardPrefix) - 1;

// Whether `dir` holds a journal segment (common/journal.h: <16 hex digits>.seg).
bool HoldsSegments(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && absl::EndsWith(name, ".seg")) return true;
  }
  return false;
}

}  // namespace

std::string ShardJournalDir(const std::string& dir, int shard, int shards) {
  if (dir.empty() || shards <= 1) return dir;
  return absl::StrCat(dir, "/", kShardPrefix, shard);
}

absl::Status CheckJournalLayout(const std::string& dir, int shards) {
  if (dir.empty()) return absl::OkStatus();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return absl::OkStatus();
  if (shards > 1 && HoldsSegments(dir)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the journal in ", dir,
                     " was written with one router; start with one --router target "
                     "until it has drained"));
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory(ec) || !absl::StartsWith(name, kShardPrefix)) continue;
    int shard = -1;
    const std::string number = name.substr(kShardPrefixLength);
    if (!number.empty() && number.find_first_not_of("0123456789") == std::string::npos &&
        number.size() < 6) {
      shard = std::stoi(number);
    }
    const bool used = shards > 1 && shard >= 0 && shard < shards;
    if (!used && HoldsSegments(entry.path())) {
      return absl::FailedPreconditionError(
          absl::StrCat("the journal in ", entry.path().string(),
                       " was written with another number of router "
                       "shards than ",
                       shards,
                       "; start with the --router list it was written with until it "
                       "has drained"));
    }
  }
  return absl::OkStatus();
}

void AddSummary(const rinha::v1::SummaryResponse& shard, rinha::v1::SummaryResponse* total) {
  const auto add = [](const rinha::v1::ProcessorTotals& from, rinha::v1::ProcessorTotals* to) {
    to->set_total_requests(to->total_requests() + from.total_requests());
    to->set_total_amount_cents(to->total_amount_cents() + from.total_amount_cents());
  };
  add(shard.default_totals(), total->mutable_default_totals());
  add(shard.fallback_totals(), total->mutable_fallback_totals());
}

}  // namespace rinha::edge
