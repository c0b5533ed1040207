// An append-only journal on local disk for promises a process makes before the next hop has
// taken them: an edge journals a payment before it answers 202, the router before it
// acknowledges a batch. A record is written with one write(2) before the promise is made; from
// then on it is in the kernel's page cache, which survives the death of the process (kill -9,
// OOM kill) though not a power loss or kernel crash, unless Options::sync asks for fdatasync.
// Each record is released once the next hop holds it durably; a segment file is deleted once
// every record in it is released, so the journal holds about what is in flight.
//
// On disk: <dir>/<16 hex digits>.seg, numbered in order of creation, each a run of records
//   [u32 payload length, little endian][u32 CRC-32C of the payload, little endian][payload].
// A record cut short by a crash during its write, or damaged, ends its segment: it was never
// promised (the write did not return), and anything after it in that segment is ignored.
// New records never go to a segment of an earlier run.
//
// Threading: thread-safe. One process per directory: Open takes an exclusive lock on
// <dir>/LOCK, so two processes configured with one directory fail loudly instead of mixing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace rinha {

class Journal {
 public:
  enum class Sync {
    // write(2) only: survives the process dying, not the machine. A few microseconds.
    kNone,
    // fdatasync after every append: survives power loss; costs a disk flush per append.
    kData,
  };

  struct Options {
    std::string dir;
    // A new segment is started once the current one has reached this size. Records are
    // released per segment (a count), so a restart reads back every record of a segment that
    // still holds a live one: small segments keep that, and the disk held, small. 64 KiB is
    // about 1,000 payments, a second or two of contest traffic.
    int64_t segment_bytes = 64 << 10;
    Sync sync = Sync::kNone;
  };

  // Where a record lives: its segment's number. Release() takes it.
  using Handle = uint64_t;

  struct Record {
    Handle handle = 0;
    std::string payload;
  };

  struct Stats {
    int64_t segments = 0;       // segment files on disk
    int64_t live = 0;           // records appended or recovered and not yet released
    int64_t appended = 0;       // records appended by this process
    int64_t bytes_written = 0;  // by this process
    int64_t write_errors = 0;   // failed appends (disk full, I/O error)
  };

  // Creates the directory when missing, takes its lock and reads back every record of every
  // segment that earlier runs left with unreleased records into *recovered, oldest first
  // (released records that share a segment with unreleased ones come back too: the caller's next
  // hop must deduplicate). They stay live (their segments stay on disk) until released.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const Options& options,
                                                       std::vector<Record>* recovered);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends the records with one write(2) (and one fdatasync with Sync::kData); they share the
  // returned handle. On error nothing was appended: a partial write is cut back, and the next
  // append goes to a fresh segment if that fails too. Empty payloads are not allowed.
  absl::StatusOr<Handle> Append(absl::Span<const std::string_view> payloads);
  absl::StatusOr<Handle> Append(std::string_view payload) {
    return Append(absl::Span<const std::string_view>(&payload, 1));
  }

  // `count` records of segment `handle` are no longer needed. A segment no longer written to is
  // deleted as its last record is released.
  void Release(Handle handle, int64_t count = 1);

  Stats stats() const;
  const std::string& dir() const { return dir_; }

  // "none" or "data" (the services' --journal_sync flag) -> Sync; InvalidArgument otherwise.
  static absl::StatusOr<Sync> ParseSync(std::string_view text);

 private:
  Journal(const Options& options, int lock_fd);
  absl::Status Recover(std::vector<Record>* recovered);
  // mu_ held. Starts segment `next_segment_`.
  absl::Status StartSegmentLocked();
  void DeleteSegmentLocked(Handle segment);
  std::string SegmentPath(Handle segment) const;

  const std::string dir_;
  const int64_t segment_bytes_;
  const Sync sync_;
  const int lock_fd_;

  mutable std::mutex mu_;  // guards everything below
  int fd_ = -1;            // the segment being written, or -1 (none yet, or broken)
  Handle current_ = 0;     // its number
  int64_t current_size_ = 0;
  Handle next_segment_ = 1;
  std::map<Handle, int64_t> live_;  // live records per segment on disk
  Stats stats_;
};

}  // namespace rinha
