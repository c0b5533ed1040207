// The ledger's durable record of settled payments: SQLite in WAL mode behind a narrow interface.
// One writer thread owns the write connection and group-commits whatever is queued; summaries
// read through their own connection and never wait for the writer.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/metrics.h"

struct sqlite3;
struct sqlite3_stmt;

namespace rinha::ledger {

// Stored as these integers in SQLite; the values match rinha.v1.Processor on the wire.
enum class Processor : int32_t { kDefault = 1, kFallback = 2 };

struct Settlement {
  std::string correlation_id;  // canonical lower-case UUID text
  int64_t amount_cents = 0;
  Processor processor = Processor::kDefault;  // any other value is invalid
  int64_t requested_at_ms = 0;
  // A detected double payment: `processor` holds this id besides the processor of its first
  // settlement (the router found it there after failing over). Stored as a second row of the id,
  // counted in summaries like any other, so the summary equals what each processor holds.
  bool double_payment = false;
  // When the ledger stored the row: its clock's wall reading (Unix ms) as the row's transaction
  // began; 0 for rows stored before the column existed. Set by List; Settle ignores it.
  int64_t recorded_at_ms = 0;
};

// Rows are keyed by (correlation_id, processor): settling is idempotent per pair.
enum class SettleOutcome {
  kStored,     // durable now
  kDuplicate,  // already held with the same processor; nothing changed
  kConflict,   // unflagged, and already held (unflagged) with another processor: a bug upstream;
               // nothing changed
  kInvalid,    // malformed; not stored
};

struct Totals {
  int64_t count = 0;
  int64_t amount_cents = 0;
  friend bool operator==(const Totals&, const Totals&) = default;
};

struct SummaryTotals {
  Totals default_totals;
  Totals fallback_totals;
  friend bool operator==(const SummaryTotals&, const SummaryTotals&) = default;
};

// Inclusive bounds on requested_at_ms; a missing bound is unbounded.
struct SummaryRange {
  std::optional<int64_t> from_ms;
  std::optional<int64_t> to_ms;
};

// Null-terminated error text for a settlement that fails validation, or nullptr when valid.
const char* ValidateSettlement(const Settlement& s);

class LedgerStore {
 public:
  enum class Synchronous {
    // WAL + synchronous=NORMAL: a commit is in the OS page cache before it is acknowledged, so it
    // survives the process being killed (kill -9) but not a power loss or kernel crash.
    kNormal,
    // WAL + synchronous=FULL: every commit is fsynced before it is acknowledged; survives power
    // loss as well, at the cost of one fsync per group commit.
    kFull,
  };

  struct Options {
    Synchronous synchronous = Synchronous::kNormal;
    // Upper bound of settlements written in one transaction; more queued work waits for the next.
    int max_settlements_per_commit = 8192;
    // Observed in microseconds when set (they must outlive the store): each committed write
    // transaction, begin to commit, and each Summary query.
    metrics::Histogram* commit_duration = nullptr;
    metrics::Histogram* summary_duration = nullptr;
  };

  // What the store has done, as of the last committed transaction. Rows are counted once at
  // Open and then kept by the writer (stored rows added, a purge zeroes them), never counted
  // again in SQL.
  struct Stats {
    int64_t rows_default = 0;
    int64_t rows_fallback = 0;
    // Settlements received in committed transactions, by outcome.
    int64_t stored = 0;
    int64_t duplicate = 0;
    int64_t conflict = 0;
    int64_t invalid = 0;
    int64_t transactions = 0;  // write transactions committed (settlements and purges)
  };

  using SettleCallback = absl::AnyInvocable<void(absl::StatusOr<std::vector<SettleOutcome>>) &&>;
  using PurgeCallback = absl::AnyInvocable<void(absl::StatusOr<int64_t>) &&>;

  // Opens (creating if needed) the database at `path` and starts the writer thread. `clock`
  // stamps each stored row (its wall reading, once per transaction) and must outlive the store.
  static absl::StatusOr<std::unique_ptr<LedgerStore>> Open(const std::string& path,
                                                           const Options& options, Clock& clock);
  // Default options and the real clock (tools).
  static absl::StatusOr<std::unique_ptr<LedgerStore>> Open(const std::string& path) {
    return Open(path, Options(), RealClock::Get());
  }

  // Drains everything queued (callbacks run) and closes the connections.
  ~LedgerStore();
  LedgerStore(const LedgerStore&) = delete;
  LedgerStore& operator=(const LedgerStore&) = delete;

  // Any thread. Queues `batch` for the writer; `done` runs on the writer thread once the batch is
  // durable (one outcome per settlement, in order) or failed. `done` must not block.
  void Settle(std::vector<Settlement> batch, SettleCallback done);
  // Any thread. Deletes every settlement, ordered with the writes queued before it; `done` gets
  // the number of rows deleted, on the writer thread.
  void Purge(PurgeCallback done);

  // Blocking conveniences over Settle/Purge (tests, benchmarks, tools). Never call them from
  // the writer thread, i.e. from inside a callback.
  absl::StatusOr<std::vector<SettleOutcome>> SettleAndWait(std::vector<Settlement> batch);
  absl::StatusOr<int64_t> PurgeAndWait();

  // Any thread; reads a consistent snapshot through the read connection and never waits for the
  // writer. Fails (OutOfRange) if a sum would overflow int64.
  absl::StatusOr<SummaryTotals> Summary(const SummaryRange& range) const;

  // Any thread; like Summary, through the read connection. Settlements whose correlation id
  // sorts after `after` ("" = from the first), in (id, processor) order: `limit` of them, plus
  // the rest of the last id's rows (a double payment has two), so that an id is never split
  // across pages; fewer than `limit` only at the end.
  absl::StatusOr<std::vector<Settlement>> List(const std::string& after, int limit) const;

  // Any thread; like Summary, through the read connection. The rows of one correlation id, its
  // first settlement first (then a detected double payment's row); empty when it has none.
  absl::StatusOr<std::vector<Settlement>> Get(const std::string& correlation_id) const;

  // Any thread; lock-free reads.
  Stats stats() const;

  // Stops accepting work, commits what is queued, runs its callbacks and joins the writer.
  // Later Settle/Purge calls fail with Unavailable. Idempotent; any thread but the writer.
  void Shutdown();

 private:
  struct Work {
    // Exactly one of the two is set.
    std::vector<Settlement> batch;
    SettleCallback settle_done;
    PurgeCallback purge_done;
    // Filled by the writer before the commit; delivered after it.
    std::vector<SettleOutcome> outcomes;
    int64_t deleted = 0;
  };

  LedgerStore(sqlite3* write_db, sqlite3* read_db, Clock& clock);
  absl::Status PrepareStatements();
  // Before the writer starts: the rows per processor, into rows_.
  absl::Status CountRows();
  void Enqueue(Work work);
  void WriterLoop();
  // Writer thread only: applies one group of work inside one transaction.
  absl::Status ApplyGroup(std::vector<Work>& group);
  absl::Status ApplySettlements(Work& work, int64_t now_ms);
  absl::Status ApplyPurge(Work& work);
  // Writer thread, after a commit: the group's outcomes and rows into the stats.
  void CountCommitted(const std::vector<Work>& group);

  Clock& clock_;  // read by the writer thread only
  // Owned by the writer thread after Open() returns.
  sqlite3* const write_db_;
  sqlite3_stmt* insert_stmt_ = nullptr;
  sqlite3_stmt* insert_double_stmt_ = nullptr;
  sqlite3_stmt* lookup_stmt_ = nullptr;
  sqlite3_stmt* purge_stmt_ = nullptr;
  sqlite3_stmt* begin_stmt_ = nullptr;
  sqlite3_stmt* commit_stmt_ = nullptr;
  sqlite3_stmt* rollback_stmt_ = nullptr;
  int max_settlements_per_commit_ = 8192;
  metrics::Histogram* commit_duration_ = nullptr;
  metrics::Histogram* summary_duration_ = nullptr;

  // Written by the writer thread only (and by Open before it starts), read by any.
  std::array<std::atomic<int64_t>, 2> rows_{};  // [processor - 1]
  std::atomic<int64_t> stored_{0};
  std::atomic<int64_t> duplicate_{0};
  std::atomic<int64_t> conflict_{0};
  std::atomic<int64_t> invalid_{0};
  std::atomic<int64_t> transactions_{0};

  // std::mutex rather than absl::Mutex throughout the ledger: Debian's Abseil is not built with
  // TSan, so absl::Mutex hand-offs are invisible to the TSan build and every guarded field looks
  // racy; std::mutex and std::condition_variable go through pthread, which TSan intercepts.
  // The read connection is used by one summary at a time.
  mutable std::mutex read_mu_;
  sqlite3* const read_db_;
  sqlite3_stmt* summary_stmt_ ABSL_GUARDED_BY(read_mu_) = nullptr;
  sqlite3_stmt* list_stmt_ ABSL_GUARDED_BY(read_mu_) = nullptr;
  sqlite3_stmt* list_rest_stmt_ ABSL_GUARDED_BY(read_mu_) = nullptr;
  sqlite3_stmt* get_stmt_ ABSL_GUARDED_BY(read_mu_) = nullptr;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // signalled on new work and on shutdown
  std::deque<Work> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;

  std::mutex join_mu_;
  std::thread writer_;
};

}  // namespace rinha::ledger
