#include "common/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crc32c.h"
#include "common/log.h"

namespace rinha {
namespace {

constexpr size_t kHeaderBytes = 8;
// Far above any record of ours (a payment is under 100 bytes); a larger length read back is
// damage, not a record.
constexpr uint32_t kMaxPayloadBytes = 1 << 20;
constexpr std::string_view kSuffix = ".seg";

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

absl::Status ErrnoStatus(const char* what, const std::string& path, int error) {
  return absl::UnavailableError(absl::StrCat("journal: ", what, " ", path, ": ", strerror(error)));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  std::string data;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      return ErrnoStatus("read", path, error);
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return data;
}

// Writes all of `data`; on failure returns the errno.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

void SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

}  // namespace

Journal::Journal(const Options& options, int lock_fd)
    : dir_(options.dir),
      segment_bytes_(std::max<int64_t>(options.segment_bytes, 4096)),
      sync_(options.sync),
      lock_fd_(lock_fd) {}

Journal::~Journal() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) close(fd_);
  // A segment this run wrote whose records were all released goes too.
  auto it = live_.find(current_);
  if (it != live_.end() && it->second == 0) DeleteSegmentLocked(current_);
  close(lock_fd_);  // releases the lock
}

std::string Journal::SegmentPath(Handle segment) const {
  return absl::StrFormat("%s/%016x%s", dir_, segment, kSuffix);
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const Options& options,
                                                       std::vector<Record>* recovered) {
  if (options.dir.empty()) return absl::InvalidArgumentError("journal: no directory");
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("journal: cannot create ", options.dir, ": ", error.message()));
  }
  const std::string lock_path = options.dir + "/LOCK";
  const int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return ErrnoStatus("open", lock_path, errno);
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int lock_error = errno;
    close(lock_fd);
    return lock_error == EWOULDBLOCK
               ? absl::FailedPreconditionError(
                     absl::StrCat("journal: ", options.dir, " is in use by another process"))
               : ErrnoStatus("lock", lock_path, lock_error);
  }
  std::unique_ptr<Journal> journal(new Journal(options, lock_fd));
  std::lock_guard<std::mutex> lock(journal->mu_);
  if (absl::Status s = journal->Recover(recovered); !s.ok()) return s;
  return journal;
}

absl::Status Journal::Recover(std::vector<Record>* recovered) {
  std::vector<Handle> segments;
  DIR* dir = opendir(dir_.c_str());
  if (dir == nullptr) return ErrnoStatus("list", dir_, errno);
  while (dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name.size() != 16 + kSuffix.size() || name.substr(16) != kSuffix) continue;
    const std::string digits(name.substr(0, 16));
    char* end = nullptr;
    const uint64_t number = std::strtoull(digits.c_str(), &end, 16);
    if (end == digits.c_str() + 16) segments.push_back(number);
  }
  closedir(dir);
  std::sort(segments.begin(), segments.end());

  for (Handle segment : segments) {
    next_segment_ = std::max(next_segment_, segment + 1);
    const std::string path = SegmentPath(segment);
    absl::StatusOr<std::string> data = ReadWholeFile(path);
    if (!data.ok()) return data.status();
    int64_t records = 0;
    size_t pos = 0;
    while (data->size() - pos >= kHeaderBytes) {
      const uint32_t length = GetU32(data->data() + pos);
      const uint32_t crc = GetU32(data->data() + pos + 4);
      if (length == 0 || length > kMaxPayloadBytes || data->size() - pos - kHeaderBytes < length) {
        break;
      }
      std::string_view payload(data->data() + pos + kHeaderBytes, length);
      if (Crc32c(payload) != crc) break;
      recovered->push_back(Record{segment, std::string(payload)});
      ++records;
      pos += kHeaderBytes + length;
    }
    if (pos != data->size()) {
      RINHA_LOG_WARNING(
          "journal: %s ends with %d bytes that are not a whole record (a write cut "
          "short by a crash); ignored",
          path, data->size() - pos);
    }
    if (records == 0) {
      unlink(path.c_str());
      continue;
    }
    live_[segment] = records;
    stats_.live += records;
  }
  stats_.segments = static_cast<int64_t>(live_.size());
  return absl::OkStatus();
}

absl::Status Journal::StartSegmentLocked() {
  if (fd_ >= 0) {
    if (sync_ == Sync::kData) fdatasync(fd_);
    close(fd_);
    fd_ = -1;
    auto it = live_.find(current_);
    if (it != live_.end() && it->second == 0) DeleteSegmentLocked(current_);
  }
  const Handle segment = next_segment_++;
  const std::string path = SegmentPath(segment);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", path, errno);
  if (sync_ == Sync::kData) SyncDirectory(dir_);
  fd_ = fd;
  current_ = segment;
  current_size_ = 0;
  live_[segment] = 0;
  ++stats_.segments;
  return absl::OkStatus();
}

void Journal::DeleteSegmentLocked(Handle segment) {
  live_.erase(segment);
  --stats_.segments;
  const std::string path = SegmentPath(segment);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    RINHA_LOG_WARNING("journal: cannot delete %s: %s", path, strerror(errno));
  }
}

absl::StatusOr<Journal::Handle> Journal::Append(absl::Span<const std::string_view> payloads) {
  std::string buffer;
  size_t total = 0;
  for (std::string_view p : payloads) total += kHeaderBytes + p.size();
  buffer.reserve(total);
  for (std::string_view p : payloads) {
    if (p.empty() || p.size() > kMaxPayloadBytes) {
      return absl::InvalidArgumentError("journal: record empty or too large");
    }
    PutU32(buffer, static_cast<uint32_t>(p.size()));
    PutU32(buffer, Crc32c(p));
    buffer.append(p);
  }
  if (payloads.empty()) return absl::InvalidArgumentError("journal: nothing to append");

  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0 || current_size_ >= segment_bytes_) {
    if (absl::Status s = StartSegmentLocked(); !s.ok()) {
      ++stats_.write_errors;
      return s;
    }
  }
  int error = WriteAll(fd_, buffer);
  if (error == 0 && sync_ == Sync::kData && fdatasync(fd_) != 0) error = errno;
  if (error != 0) {
    ++stats_.write_errors;
    // Cut a partial record back, so that later records are not hidden behind it; if that fails
    // too, leave this segment (its torn tail ends it) and start a new one next time.
    if (ftruncate(fd_, current_size_) != 0) {
      close(fd_);
      fd_ = -1;
      auto it = live_.find(current_);
      if (it != live_.end() && it->second == 0) DeleteSegmentLocked(current_);
    }
    return ErrnoStatus("append to", SegmentPath(current_), error);
  }
  current_size_ += static_cast<int64_t>(buffer.size());
  const int64_t n = static_cast<int64_t>(payloads.size());
  live_[current_] += n;
  stats_.live += n;
  stats_.appended += n;
  stats_.bytes_written += static_cast<int64_t>(buffer.size());
  return current_;
}

void Journal::Release(Handle handle, int64_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(handle);
  if (it == live_.end() || it->second < count) {
    RINHA_LOG_ERROR("journal: release of %d records of segment %d, which holds %d (a bug)", count,
                    handle, it == live_.end() ? 0 : it->second);
    if (it == live_.end()) return;
    count = it->second;
  }
  it->second -= count;
  stats_.live -= count;
  if (it->second == 0 && !(fd_ >= 0 && handle == current_)) DeleteSegmentLocked(handle);
}

absl::StatusOr<Journal::Sync> Journal::ParseSync(std::string_view text) {
  if (text == "none") return Sync::kNone;
  if (text == "data") return Sync::kData;
  return absl::InvalidArgumentError(
      absl::StrCat("journal sync must be none or data, got '", std::string(text), "'"));
}

Journal::Stats Journal::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace rinha
