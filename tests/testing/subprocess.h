// A child process for tests that exercise a real binary: spawn with arguments and environment,
// read its stdout line by line (e.g. a "listening ... port=N" readiness line), then kill -9 it or
// terminate it gracefully and collect the exit status.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rinha::testing {

class Subprocess {
 public:
  struct Options {
    // argv[1..]; argv[0] is the program path.
    std::vector<std::string> args;
    // Added to (or overriding) the test's own environment.
    std::vector<std::pair<std::string, std::string>> env;
    // true: stdout goes to a pipe read by ReadLineContaining/output(); false: the test's stdout.
    bool capture_stdout = true;
    // true: stderr is captured like stdout (into stderr_output()); false: the test's stderr, so
    // the child's logs show up in the test log.
    bool capture_stderr = false;
  };

  // Starts `program` (a path; no PATH lookup). The child dies with SIGKILL when the Subprocess
  // is destroyed while it still runs.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Spawn(const std::string& program,
                                                           const Options& options);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // Waits until a complete stdout line containing `needle` arrives (lines are consumed in order;
  // earlier lines stay in output()). NotFound when the child closes stdout first,
  // DeadlineExceeded after `timeout`.
  absl::StatusOr<std::string> ReadLineContaining(absl::string_view needle,
                                                 absl::Duration timeout = absl::Seconds(30));

  // Everything read from stdout / stderr so far (when captured).
  std::string output() const;
  std::string stderr_output() const;

  // SIGKILL, then reaps the child. Returns the wait status (see <sys/wait.h>).
  int Kill();
  // SIGTERM, waits up to `timeout` for the exit, then SIGKILL. Returns the wait status, or
  // DeadlineExceeded if SIGKILL was needed.
  absl::StatusOr<int> Terminate(absl::Duration timeout = absl::Seconds(30));
  // Waits for the child to exit by itself. DeadlineExceeded after `timeout` (child left running).
  absl::StatusOr<int> Wait(absl::Duration timeout = absl::Seconds(30));

 private:
  struct Stream {
    int fd = -1;
    std::thread reader;
  };

  Subprocess() = default;
  void StartReader(Stream& stream, std::string* sink);
  // Non-blocking reap; true once the child has been reaped (status in wait_status_).
  bool TryReap();
  void JoinReaders();

  pid_t pid_ = -1;
  std::optional<int> wait_status_;  // set once reaped
  Stream stdout_;
  Stream stderr_;

  // std::mutex, not absl::Mutex: Debian's Abseil is uninstrumented, so TSan would not see it.
  mutable std::mutex mu_;
  std::condition_variable output_cv_;  // signalled when output arrives or stdout closes
  std::string stdout_data_ ABSL_GUARDED_BY(mu_);
  std::string stderr_data_ ABSL_GUARDED_BY(mu_);
  size_t stdout_consumed_ ABSL_GUARDED_BY(mu_) = 0;  // offset of the first unread line
  int open_streams_ ABSL_GUARDED_BY(mu_) = 0;
  bool stdout_closed_ ABSL_GUARDED_BY(mu_) = false;
};

// Parses the integer after `key` (e.g. "tcp_port=") in `line`; InvalidArgument when absent.
absl::StatusOr<int> IntFieldAfter(absl::string_view line, absl::string_view key);

}  // namespace rinha::testing
