// Small helpers shared by the ledger tests: a self-removing temporary directory and
// deterministic canonical correlation ids.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace rinha::ledger::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "ledger_test_XXXXXX";
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The n-th test correlation id, canonical lower-case UUID text.
inline std::string Uuid(uint64_t n) {
  return absl::StrFormat("%08x-0000-4000-8000-%012x", static_cast<uint32_t>(n >> 48),
                         n & 0xffffffffffffULL);
}

// Debian's gRPC, protobuf and Abseil are not built with TSan, so TSan cannot see the
// synchronisation inside gRPC (completion queues, callback executor) and reports every hand-off
// between gRPC threads as a race, in gRPC's own header code as much as in ours. Tests that run
// a gRPC server or client skip themselves in the TSan build; the release and ASan/UBSan builds
// run them, and the store's own threading is covered by TSan in ledger_store_test.
#if defined(__SANITIZE_THREAD__)
#define RINHA_SKIP_GRPC_UNDER_TSAN() \
  GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented (see ledger_test_util.h)"
#else
#define RINHA_SKIP_GRPC_UNDER_TSAN() static_cast<void>(0)
#endif

// absl::Notification's interface on std::mutex: Debian's Abseil is not built with TSan, so its
// hand-offs would be invisible to the TSan build (see ledger_store.h).
class Notification {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  void WaitForNotification() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return notified_; });
  }
  bool WaitForNotificationWithTimeout(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return notified_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace rinha::ledger::testing
