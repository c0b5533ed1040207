#include "ledger/ledger_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/uuid.h"

namespace rinha::ledger {
namespace {

// The amount/processor CHECKs are a second line of defence: the writer validates before binding.
// One row per (id, processor): an id has a second row only for a detected double payment
// (double_payment = 1), which summaries count like any other row. recorded_at_ms: the ledger's
// wall clock when the row was stored (0: stored before the column existed), for the fault
// harnesses' record lag; no index reads it.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS settlements (
  correlation_id  TEXT    NOT NULL,
  amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
  processor       INTEGER NOT NULL CHECK (processor IN (1, 2)),
  requested_at_ms INTEGER NOT NULL,
  double_payment  INTEGER NOT NULL DEFAULT 0 CHECK (double_payment IN (0, 1)),
  recorded_at_ms  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (correlation_id, processor)
);
-- Covering index: a window summary is a range scan of this index alone, never of the table.
CREATE INDEX IF NOT EXISTS settlements_by_time
  ON settlements (requested_at_ms, processor, amount_cents);
)sql";

// Whether `settlements` exists in the schema before double payments (correlation_id alone was
// the primary key; no double_payment column).
constexpr const char* kIsOldSchemaSql =
    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settlements') "
    "AND NOT EXISTS (SELECT 1 FROM pragma_table_info('settlements') "
    "WHERE name = 'double_payment')";
constexpr const char* kMigrateBeginSql =
    "BEGIN IMMEDIATE;"
    "DROP INDEX IF EXISTS settlements_by_time;"
    "ALTER TABLE settlements RENAME TO settlements_before_double_payments;";
// Runs after kSchema has created the new table and its index.
constexpr const char* kMigrateEndSql =
    "INSERT INTO settlements (correlation_id, amount_cents, processor, requested_at_ms)"
    "  SELECT correlation_id, amount_cents, processor, requested_at_ms"
    "  FROM settlements_before_double_payments;"
    "DROP TABLE settlements_before_double_payments;"
    "COMMIT;";

// Whether `settlements` exists without recorded_at_ms (every schema before it); its rows get 0.
constexpr const char* kLacksRecordedAtSql =
    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settlements') "
    "AND NOT EXISTS (SELECT 1 FROM pragma_table_info('settlements') "
    "WHERE name = 'recorded_at_ms')";
constexpr const char* kAddRecordedAtSql =
    "ALTER TABLE settlements ADD COLUMN recorded_at_ms INTEGER NOT NULL DEFAULT 0";

// The first settlement of an id is stored unless the id has one already (with any processor);
// kLookupSql then tells a duplicate from a conflict.
constexpr const char* kInsertSql =
    "INSERT INTO settlements (correlation_id, amount_cents, processor, requested_at_ms, "
    "recorded_at_ms) SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS "
    "(SELECT 1 FROM settlements WHERE correlation_id = ?1 AND double_payment = 0) "
    "ON CONFLICT (correlation_id, processor) DO NOTHING";
// A double payment: one more row of the id, unless this processor's row is there already.
constexpr const char* kInsertDoubleSql =
    "INSERT INTO settlements (correlation_id, amount_cents, processor, requested_at_ms, "
    "double_payment, recorded_at_ms) VALUES (?1, ?2, ?3, ?4, 1, ?5) "
    "ON CONFLICT (correlation_id, processor) DO NOTHING";
// The id's rows, its first settlement first.
constexpr const char* kLookupSql =
    "SELECT processor, amount_cents, requested_at_ms FROM settlements WHERE correlation_id = ?1 "
    "ORDER BY double_payment";
constexpr const char* kPurgeSql = "DELETE FROM settlements";
// One pass over the index range with filtered aggregates: no GROUP BY sorter. SQLite's integer
// SUM raises "integer overflow" instead of wrapping or going to floating point.
constexpr const char* kSummarySql =
    "SELECT COUNT(*) FILTER (WHERE processor = 1),"
    "       COALESCE(SUM(amount_cents) FILTER (WHERE processor = 1), 0),"
    "       COUNT(*) FILTER (WHERE processor = 2),"
    "       COALESCE(SUM(amount_cents) FILTER (WHERE processor = 2), 0) "
    "FROM settlements WHERE requested_at_ms BETWEEN ?1 AND ?2";

constexpr const char* kListSql =
    "SELECT correlation_id, amount_cents, processor, requested_at_ms, double_payment, "
    "recorded_at_ms FROM settlements WHERE correlation_id > ?1 ORDER BY correlation_id, processor "
    "LIMIT ?2";
// The rest of one id's rows, after a page that ended inside them.
constexpr const char* kListRestSql =
    "SELECT correlation_id, amount_cents, processor, requested_at_ms, double_payment, "
    "recorded_at_ms FROM settlements WHERE correlation_id = ?1 AND processor > ?2 ORDER BY "
    "processor";
// One id's rows, its first settlement first (as kLookupSql orders them), read like a List page.
constexpr const char* kGetSql =
    "SELECT correlation_id, amount_cents, processor, requested_at_ms, double_payment, "
    "recorded_at_ms FROM settlements WHERE correlation_id = ?1 ORDER BY double_payment, processor";
// Once, at Open: the writer keeps the counts from then on.
constexpr const char* kRowsSql = "SELECT processor, COUNT(*) FROM settlements GROUP BY processor";

absl::Status SqliteError(sqlite3* db, absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", db ? sqlite3_errmsg(db) : "out of memory"));
}

absl::Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    absl::Status status = absl::InternalError(absl::StrCat(sql, ": ", err ? err : "?"));
    sqlite3_free(err);
    return status;
  }
  return absl::OkStatus();
}

absl::Status Prepare(sqlite3* db, const char* sql, sqlite3_stmt** stmt) {
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK) {
    return SqliteError(db, absl::StrCat("prepare ", sql));
  }
  return absl::OkStatus();
}

// Runs a statement that returns no rows, then resets it for reuse.
absl::Status StepDone(sqlite3* db, sqlite3_stmt* stmt) {
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE) return SqliteError(db, sqlite3_sql(stmt));
  return absl::OkStatus();
}

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  // NOMUTEX: each connection has one owner (the writer thread, or whoever holds read_mu_).
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, absl::StrCat("open ", path));
    sqlite3_close(db);
    return status;
  }
  // Only an external process could hold the write lock; wait for it rather than fail.
  sqlite3_busy_timeout(db, 5000);
  return db;
}

// Whether a one-value query answers 1.
absl::StatusOr<bool> QueryFlag(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (absl::Status s = Prepare(db, sql, &stmt); !s.ok()) return s;
  const int rc = sqlite3_step(stmt);
  const bool flag = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 1;
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) return SqliteError(db, sql);
  return flag;
}

// Creates the schema, or brings an older database to it: the schema before double payments
// (every row kept, as a first settlement) in one transaction, and any schema before
// recorded_at_ms (a column added, 0 in the rows already there).
absl::Status CreateOrMigrateSchema(sqlite3* db) {
  absl::StatusOr<bool> old = QueryFlag(db, kIsOldSchemaSql);
  if (!old.ok()) return old.status();
  if (!*old) {
    // Adds the column to a table of the schema before it: CREATE IF NOT EXISTS keeps the table
    // as it is.
    absl::StatusOr<bool> lacks_recorded_at = QueryFlag(db, kLacksRecordedAtSql);
    if (!lacks_recorded_at.ok()) return lacks_recorded_at.status();
    if (*lacks_recorded_at) {
      RINHA_LOG_WARNING("ledger: adding recorded_at_ms to the settlements table");
      if (absl::Status s = Exec(db, kAddRecordedAtSql); !s.ok()) return s;
    }
    return Exec(db, kSchema);
  }
  RINHA_LOG_WARNING("ledger: migrating the settlements table to one row per (id, processor)");
  absl::Status status = Exec(db, kMigrateBeginSql);
  if (status.ok()) status = Exec(db, kSchema);
  if (status.ok()) status = Exec(db, kMigrateEndSql);
  if (!status.ok() && !sqlite3_get_autocommit(db)) (void)Exec(db, "ROLLBACK");
  return status;
}

const char* ProcessorName(Processor p) {
  switch (p) {
    case Processor::kDefault:
      return "default";
    case Processor::kFallback:
      return "fallback";
  }
  return "unknown";
}

// A one-shot hand-off from the writer thread to a blocked caller (see the std::mutex note in the
// header for why not absl::Notification).
template <typename T>
class OneShot {
 public:
  void Set(T value) {
    std::lock_guard<std::mutex> lock(mu_);
    value_ = std::move(value);
    set_ = true;
    cv_.notify_all();
  }
  T Take() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return set_; });
    return std::move(value_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
  T value_;
};

}  // namespace

const char* ValidateSettlement(const Settlement& s) {
  if (!IsCanonicalUuid(s.correlation_id)) return "correlation id is not a canonical UUID";
  if (s.amount_cents <= 0) return "amount is not positive";
  if (s.processor != Processor::kDefault && s.processor != Processor::kFallback) {
    return "unknown processor";
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<LedgerStore>> LedgerStore::Open(const std::string& path,
                                                               const Options& options,
                                                               Clock& clock) {
  absl::StatusOr<sqlite3*> write_db =
      OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!write_db.ok()) return write_db.status();
  auto close_write = absl::MakeCleanup([&] { sqlite3_close(*write_db); });

  // journal_mode=WAL is persistent in the file; the others are per connection.
  sqlite3_stmt* stmt = nullptr;
  if (absl::Status s = Prepare(*write_db, "PRAGMA journal_mode=WAL", &stmt); !s.ok()) return s;
  bool wal = sqlite3_step(stmt) == SQLITE_ROW &&
             std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal";
  sqlite3_finalize(stmt);
  if (!wal) return absl::FailedPreconditionError(absl::StrCat(path, ": cannot enable WAL mode"));
  const char* sync = options.synchronous == Synchronous::kFull ? "PRAGMA synchronous=FULL"
                                                               : "PRAGMA synchronous=NORMAL";
  // The id index takes random inserts; 4 MiB keeps its hot pages of a contest-sized run cached.
  for (const char* sql : {sync, "PRAGMA cache_size=-4096", "PRAGMA temp_store=MEMORY"}) {
    if (absl::Status s = Exec(*write_db, sql); !s.ok()) return s;
  }
  if (absl::Status s = CreateOrMigrateSchema(*write_db); !s.ok()) return s;

  absl::StatusOr<sqlite3*> read_db = OpenConnection(path, SQLITE_OPEN_READONLY);
  if (!read_db.ok()) return read_db.status();
  // The covering index is ~21 bytes a row (2.1 MiB per 100,000): with SQLite's 2 MiB default an
  // unbounded summary re-reads pages from the OS every time. 8 MiB is a cap, not an allocation.
  if (absl::Status s = Exec(*read_db, "PRAGMA cache_size=-8192"); !s.ok()) {
    sqlite3_close(*read_db);
    return s;
  }
  std::move(close_write).Cancel();

  std::unique_ptr<LedgerStore> store(new LedgerStore(*write_db, *read_db, clock));
  store->max_settlements_per_commit_ = std::max(1, options.max_settlements_per_commit);
  store->commit_duration_ = options.commit_duration;
  store->summary_duration_ = options.summary_duration;
  if (absl::Status s = store->PrepareStatements(); !s.ok()) return s;
  if (absl::Status s = store->CountRows(); !s.ok()) return s;
  // The writer starts last: from here on only it touches write_db_ and its statements.
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

LedgerStore::LedgerStore(sqlite3* write_db, sqlite3* read_db, Clock& clock)
    : clock_(clock), write_db_(write_db), read_db_(read_db) {}

absl::Status LedgerStore::PrepareStatements() {
  for (auto [sql, stmt] :
       {std::pair{kInsertSql, &insert_stmt_}, std::pair{kInsertDoubleSql, &insert_double_stmt_},
        std::pair{kLookupSql, &lookup_stmt_}, std::pair{kPurgeSql, &purge_stmt_},
        std::pair{"BEGIN IMMEDIATE", &begin_stmt_}, std::pair{"COMMIT", &commit_stmt_},
        std::pair{"ROLLBACK", &rollback_stmt_}}) {
    if (absl::Status s = Prepare(write_db_, sql, stmt); !s.ok()) return s;
  }
  std::lock_guard<std::mutex> lock(read_mu_);
  if (absl::Status s = Prepare(read_db_, kListSql, &list_stmt_); !s.ok()) return s;
  if (absl::Status s = Prepare(read_db_, kListRestSql, &list_rest_stmt_); !s.ok()) return s;
  if (absl::Status s = Prepare(read_db_, kGetSql, &get_stmt_); !s.ok()) return s;
  return Prepare(read_db_, kSummarySql, &summary_stmt_);
}

absl::Status LedgerStore::CountRows() {
  sqlite3_stmt* stmt = nullptr;
  if (absl::Status s = Prepare(write_db_, kRowsSql, &stmt); !s.ok()) return s;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const int processor = sqlite3_column_int(stmt, 0);
    // The schema's CHECK admits 1 and 2 only.
    if (processor == 1 || processor == 2) rows_[processor - 1] = sqlite3_column_int64(stmt, 1);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return SqliteError(write_db_, "count rows");
  return absl::OkStatus();
}

LedgerStore::~LedgerStore() {
  Shutdown();
  for (sqlite3_stmt* stmt : {insert_stmt_, insert_double_stmt_, lookup_stmt_, purge_stmt_,
                             begin_stmt_, commit_stmt_, rollback_stmt_}) {
    sqlite3_finalize(stmt);
  }
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    sqlite3_finalize(summary_stmt_);
    summary_stmt_ = nullptr;
    sqlite3_finalize(list_stmt_);
    list_stmt_ = nullptr;
    sqlite3_finalize(list_rest_stmt_);
    list_rest_stmt_ = nullptr;
    sqlite3_finalize(get_stmt_);
    get_stmt_ = nullptr;
  }
  sqlite3_close(read_db_);
  sqlite3_close(write_db_);
}

void LedgerStore::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
    queue_cv_.notify_all();
  }
  // A concurrent second caller waits here until the writer is gone.
  std::lock_guard<std::mutex> join_lock(join_mu_);
  if (writer_.joinable()) writer_.join();
}

void LedgerStore::Enqueue(Work work) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(std::move(work));
      queue_cv_.notify_one();
      return;
    }
  }
  absl::Status unavailable = absl::UnavailableError("ledger store is shutting down");
  if (work.settle_done) std::move(work.settle_done)(unavailable);
  if (work.purge_done) std::move(work.purge_done)(unavailable);
}

void LedgerStore::Settle(std::vector<Settlement> batch, SettleCallback done) {
  Work work;
  work.batch = std::move(batch);
  work.settle_done = std::move(done);
  Enqueue(std::move(work));
}

void LedgerStore::Purge(PurgeCallback done) {
  Work work;
  work.purge_done = std::move(done);
  Enqueue(std::move(work));
}

absl::StatusOr<std::vector<SettleOutcome>> LedgerStore::SettleAndWait(
    std::vector<Settlement> batch) {
  OneShot<absl::StatusOr<std::vector<SettleOutcome>>> result;
  Settle(std::move(batch),
         [&](absl::StatusOr<std::vector<SettleOutcome>> r) { result.Set(std::move(r)); });
  return result.Take();
}

absl::StatusOr<int64_t> LedgerStore::PurgeAndWait() {
  OneShot<absl::StatusOr<int64_t>> result;
  Purge([&](absl::StatusOr<int64_t> r) { result.Set(std::move(r)); });
  return result.Take();
}

void LedgerStore::WriterLoop() {
  for (;;) {
    std::vector<Work> group;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(
          lock, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued has been committed
      size_t settlements = 0;
      while (!queue_.empty() &&
             (group.empty() || settlements + queue_.front().batch.size() <=
                                   static_cast<size_t>(max_settlements_per_commit_))) {
        settlements += queue_.front().batch.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    absl::Status status = ApplyGroup(group);
    if (status.ok()) {
      CountCommitted(group);  // before the callbacks: whoever is told "durable" sees the counts
    } else {
      RINHA_LOG_ERROR("ledger commit failed: %s", status.ToString());
    }
    // Callbacks run only now: nothing is acknowledged before its transaction is durable.
    for (Work& work : group) {
      if (work.settle_done) {
        if (status.ok()) {
          std::move(work.settle_done)(std::move(work.outcomes));
        } else {
          std::move(work.settle_done)(status);
        }
      } else if (work.purge_done) {
        if (status.ok()) {
          std::move(work.purge_done)(work.deleted);
        } else {
          std::move(work.purge_done)(status);
        }
      }
    }
  }
}

absl::Status LedgerStore::ApplyGroup(std::vector<Work>& group) {
  const int64_t start_us = SteadyMicros();
  if (absl::Status s = StepDone(write_db_, begin_stmt_); !s.ok()) return s;
  // One reading per transaction: its rows become durable together.
  const int64_t now_ms = clock_.NowMillis();
  absl::Status status;
  for (Work& work : group) {
    status = work.settle_done ? ApplySettlements(work, now_ms) : ApplyPurge(work);
    if (!status.ok()) break;
  }
  if (status.ok()) status = StepDone(write_db_, commit_stmt_);
  if (status.ok() && commit_duration_ != nullptr) {
    commit_duration_->Observe(SteadyMicros() - start_us);
  }
  if (!status.ok() && !sqlite3_get_autocommit(write_db_)) {
    if (absl::Status s = StepDone(write_db_, rollback_stmt_); !s.ok()) {
      RINHA_LOG_ERROR("ledger rollback failed: %s", s.ToString());
    }
  }
  return status;
}

absl::Status LedgerStore::ApplySettlements(Work& work, int64_t now_ms) {
  work.outcomes.reserve(work.batch.size());
  int invalid = 0;
  const char* first_invalid_reason = nullptr;
  for (const Settlement& s : work.batch) {
    if (const char* reason = ValidateSettlement(s)) {
      if (invalid++ == 0) first_invalid_reason = reason;
      work.outcomes.push_back(SettleOutcome::kInvalid);
      continue;
    }
    sqlite3_stmt* insert = s.double_payment ? insert_double_stmt_ : insert_stmt_;
    sqlite3_bind_text(insert, 1, s.correlation_id.data(), static_cast<int>(s.correlation_id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(insert, 2, s.amount_cents);
    sqlite3_bind_int(insert, 3, static_cast<int>(s.processor));
    sqlite3_bind_int64(insert, 4, s.requested_at_ms);
    sqlite3_bind_int64(insert, 5, now_ms);
    if (absl::Status st = StepDone(write_db_, insert); !st.ok()) return st;
    if (sqlite3_changes(write_db_) == 1) {
      if (s.double_payment) {
        RINHA_LOG_WARNING("ledger: double payment recorded: %s is held by %s as well",
                          s.correlation_id, ProcessorName(s.processor));
      }
      work.outcomes.push_back(SettleOutcome::kStored);
      continue;
    }
    // The id is already held: tell a harmless retry (this processor's row is there) from an
    // upstream bug (only another processor's).
    sqlite3_bind_text(lookup_stmt_, 1, s.correlation_id.data(),
                      static_cast<int>(s.correlation_id.size()), SQLITE_STATIC);
    bool found = false;
    bool same = false;
    Processor first_processor = Processor::kDefault;
    int64_t stored_amount = 0;
    int64_t stored_requested_at = 0;
    int rc;
    while ((rc = sqlite3_step(lookup_stmt_)) == SQLITE_ROW) {
      const auto processor = static_cast<Processor>(sqlite3_column_int(lookup_stmt_, 0));
      if (!found || processor == s.processor) {
        first_processor = processor;
        stored_amount = sqlite3_column_int64(lookup_stmt_, 1);
        stored_requested_at = sqlite3_column_int64(lookup_stmt_, 2);
      }
      found = true;
      if (processor == s.processor) {
        same = true;
        break;
      }
    }
    if (!found || (rc != SQLITE_ROW && rc != SQLITE_DONE)) {
      absl::Status st = SqliteError(write_db_, "lookup after conflicting insert");
      sqlite3_reset(lookup_stmt_);
      return st;
    }
    sqlite3_reset(lookup_stmt_);
    if (!same) {
      RINHA_LOG_ERROR(
          "SETTLEMENT CONFLICT (upstream bug): %s already settled by %s (amount=%d "
          "requested_at=%d),"
          " now claimed by %s (amount=%d requested_at=%d); kept the original",
          s.correlation_id, ProcessorName(first_processor), stored_amount, stored_requested_at,
          ProcessorName(s.processor), s.amount_cents, s.requested_at_ms);
      work.outcomes.push_back(SettleOutcome::kConflict);
      continue;
    }
    if (stored_amount != s.amount_cents || stored_requested_at != s.requested_at_ms) {
      RINHA_LOG_WARNING(
          "duplicate settlement %s differs from the stored one: amount %d vs %d, requested_at %d vs"
          " %d; kept the original",
          s.correlation_id, s.amount_cents, stored_amount, s.requested_at_ms, stored_requested_at);
    }
    work.outcomes.push_back(SettleOutcome::kDuplicate);
  }
  if (invalid > 0) {
    RINHA_LOG_WARNING("rejected %d invalid settlement(s) of %d in a batch; first: %s", invalid,
                      work.batch.size(), first_invalid_reason);
  }
  return absl::OkStatus();
}

absl::Status LedgerStore::ApplyPurge(Work& work) {
  if (absl::Status s = StepDone(write_db_, purge_stmt_); !s.ok()) return s;
  work.deleted = sqlite3_changes64(write_db_);
  return absl::OkStatus();
}

void LedgerStore::CountCommitted(const std::vector<Work>& group) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  std::array<int64_t, 2> rows = {rows_[0].load(kRelaxed), rows_[1].load(kRelaxed)};
  std::array<int64_t, 4> outcomes{};  // SettleOutcome order
  for (const Work& work : group) {
    if (!work.settle_done) {  // a purge, ordered with the settlements around it
      rows = {0, 0};
      continue;
    }
    for (size_t i = 0; i < work.outcomes.size(); ++i) {
      const SettleOutcome outcome = work.outcomes[i];
      ++outcomes[static_cast<size_t>(outcome)];
      // Stored implies valid: the processor is 1 or 2.
      if (outcome == SettleOutcome::kStored) {
        ++rows[static_cast<size_t>(work.batch[i].processor) - 1];
      }
    }
  }
  rows_[0].store(rows[0], kRelaxed);
  rows_[1].store(rows[1], kRelaxed);
  stored_.fetch_add(outcomes[static_cast<size_t>(SettleOutcome::kStored)], kRelaxed);
  duplicate_.fetch_add(outcomes[static_cast<size_t>(SettleOutcome::kDuplicate)], kRelaxed);
  conflict_.fetch_add(outcomes[static_cast<size_t>(SettleOutcome::kConflict)], kRelaxed);
  invalid_.fetch_add(outcomes[static_cast<size_t>(SettleOutcome::kInvalid)], kRelaxed);
  transactions_.fetch_add(1, kRelaxed);
}

LedgerStore::Stats LedgerStore::stats() const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  Stats s;
  s.rows_default = rows_[0].load(kRelaxed);
  s.rows_fallback = rows_[1].load(kRelaxed);
  s.stored = stored_.load(kRelaxed);
  s.duplicate = duplicate_.load(kRelaxed);
  s.conflict = conflict_.load(kRelaxed);
  s.invalid = invalid_.load(kRelaxed);
  s.transactions = transactions_.load(kRelaxed);
  return s;
}

absl::StatusOr<SummaryTotals> LedgerStore::Summary(const SummaryRange& range) const {
  const int64_t start_us = SteadyMicros();
  // After the lock is released: a summary's time includes its wait for the read connection.
  auto observe = absl::MakeCleanup([this, start_us] {
    if (summary_duration_ != nullptr) summary_duration_->Observe(SteadyMicros() - start_us);
  });
  std::lock_guard<std::mutex> lock(read_mu_);
  sqlite3_bind_int64(summary_stmt_, 1, range.from_ms.value_or(std::numeric_limits<int64_t>::min()));
  sqlite3_bind_int64(summary_stmt_, 2, range.to_ms.value_or(std::numeric_limits<int64_t>::max()));
  auto reset =
      absl::MakeCleanup([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { sqlite3_reset(summary_stmt_); });
  int rc = sqlite3_step(summary_stmt_);
  if (rc != SQLITE_ROW) {
    absl::string_view message = sqlite3_errmsg(read_db_);
    if (absl::StrContains(message, "overflow")) {
      return absl::OutOfRangeError(absl::StrCat("summary: ", message));
    }
    return SqliteError(read_db_, "summary");
  }
  SummaryTotals totals;
  totals.default_totals = {sqlite3_column_int64(summary_stmt_, 0),
                           sqlite3_column_int64(summary_stmt_, 1)};
  totals.fallback_totals = {sqlite3_column_int64(summary_stmt_, 2),
                            sqlite3_column_int64(summary_stmt_, 3)};
  return totals;
}

namespace {

// Appends the rows of a bound list statement to `out`, then resets it.
absl::Status ReadSettlements(sqlite3* db, sqlite3_stmt* stmt, std::vector<Settlement>* out) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Settlement s;
    const unsigned char* id = sqlite3_column_text(stmt, 0);
    s.correlation_id.assign(reinterpret_cast<const char*>(id),
                            static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
    s.amount_cents = sqlite3_column_int64(stmt, 1);
    s.processor = static_cast<Processor>(sqlite3_column_int(stmt, 2));
    s.requested_at_ms = sqlite3_column_int64(stmt, 3);
    s.double_payment = sqlite3_column_int(stmt, 4) != 0;
    s.recorded_at_ms = sqlite3_column_int64(stmt, 5);
    out->push_back(std::move(s));
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc != SQLITE_DONE) return SqliteError(db, "list");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Settlement>> LedgerStore::List(const std::string& after,
                                                          int limit) const {
  std::lock_guard<std::mutex> lock(read_mu_);
  // One read transaction for both statements: the page and its completion see one snapshot.
  if (absl::Status s = Exec(read_db_, "BEGIN"); !s.ok()) return s;
  auto end = absl::MakeCleanup(
      [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { (void)Exec(read_db_, "COMMIT"); });
  std::vector<Settlement> out;
  sqlite3_bind_text(list_stmt_, 1, after.data(), static_cast<int>(after.size()), SQLITE_STATIC);
  sqlite3_bind_int(list_stmt_, 2, limit);
  if (absl::Status s = ReadSettlements(read_db_, list_stmt_, &out); !s.ok()) return s;
  if (!out.empty() && static_cast<int>(out.size()) == limit) {
    // The page may have ended inside an id's rows: never split one across pages.
    const Settlement last = out.back();
    sqlite3_bind_text(list_rest_stmt_, 1, last.correlation_id.data(),
                      static_cast<int>(last.correlation_id.size()), SQLITE_STATIC);
    sqlite3_bind_int(list_rest_stmt_, 2, static_cast<int>(last.processor));
    if (absl::Status s = ReadSettlements(read_db_, list_rest_stmt_, &out); !s.ok()) return s;
  }
  return out;
}

absl::StatusOr<std::vector<Settlement>> LedgerStore::Get(const std::string& correlation_id) const {
  std::lock_guard<std::mutex> lock(read_mu_);
  std::vector<Settlement> out;
  sqlite3_bind_text(get_stmt_, 1, correlation_id.data(), static_cast<int>(correlation_id.size()),
                    SQLITE_STATIC);
  if (absl::Status s = ReadSettlements(read_db_, get_stmt_, &out); !s.ok()) return s;
  return out;
}

}  // namespace rinha::ledger
