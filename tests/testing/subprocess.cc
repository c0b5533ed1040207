#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace rinha::testing {
namespace {

absl::Status ErrnoError(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

// Waits (really, via a pidfd: no polling) until the child exits or `timeout` passes.
bool AwaitExit(pid_t pid, absl::Duration timeout) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return true;  // already reaped or no pidfd support: let waitpid decide
  pollfd p{pidfd, POLLIN, 0};
  const absl::Time deadline = absl::Now() + timeout;
  int rc;
  do {
    int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    rc = ::poll(&p, 1, ms < 0 ? 0 : ms);
  } while (rc < 0 && errno == EINTR);
  ::close(pidfd);
  return rc > 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Spawn(const std::string& program,
                                                              const Options& options) {
  // Everything the child needs is built before spawning: nothing runs between fork and exec.
  std::vector<std::string> argv_storage = {program};
  argv_storage.insert(argv_storage.end(), options.args.begin(), options.args.end());
  std::map<std::string, std::string> env_map;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    env_map[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  for (const auto& [key, value] : options.env) env_map[key] = value;
  std::vector<std::string> env_storage;
  for (const auto& [key, value] : env_map) env_storage.push_back(absl::StrCat(key, "=", value));
  std::vector<char*> argv, envp;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::unique_ptr<Subprocess> child(new Subprocess());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  auto close_all = [&] {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
  };
  // O_CLOEXEC keeps the pipes out of other children spawned concurrently; dup2 in the child
  // clears the flag on the copies it installs as stdout/stderr.
  if (options.capture_stdout) {
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoError("pipe2", errno);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  }
  if (options.capture_stderr) {
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
      int err = errno;
      close_all();
      return ErrnoError("pipe2", err);
    }
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  }
  int rc =
      ::posix_spawn(&child->pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    close_all();
    return ErrnoError(absl::StrCat("posix_spawn ", program), rc);
  }
  if (options.capture_stdout) {
    ::close(out_pipe[1]);
    child->stdout_.fd = out_pipe[0];
    child->StartReader(child->stdout_, &child->stdout_data_);
  }
  if (options.capture_stderr) {
    ::close(err_pipe[1]);
    child->stderr_.fd = err_pipe[0];
    child->StartReader(child->stderr_, &child->stderr_data_);
  }
  return child;
}

// A reader thread per captured stream drains the pipe continuously, so the child never blocks
// on a full pipe whatever the test reads.
void Subprocess::StartReader(Stream& stream, std::string* sink) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++open_streams_;
  }
  const bool is_stdout = &stream == &stdout_;
  stream.reader = std::thread([this, fd = stream.fd, sink, is_stdout] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mu_);
      output_cv_.notify_all();
      if (n <= 0) {
        --open_streams_;
        if (is_stdout) stdout_closed_ = true;
        return;
      }
      sink->append(buf, static_cast<size_t>(n));
    }
  });
}

Subprocess::~Subprocess() {
  if (!wait_status_.has_value()) Kill();
  JoinReaders();
}

void Subprocess::JoinReaders() {
  for (Stream* s : {&stdout_, &stderr_}) {
    if (s->reader.joinable()) s->reader.join();
    if (s->fd >= 0) ::close(s->fd);
    s->fd = -1;
  }
}

absl::StatusOr<std::string> Subprocess::ReadLineContaining(absl::string_view needle,
                                                           absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  for (;;) {
    // Consume complete lines in order.
    size_t eol;
    while ((eol = stdout_data_.find('\n', stdout_consumed_)) != std::string::npos) {
      std::string line = stdout_data_.substr(stdout_consumed_, eol - stdout_consumed_);
      stdout_consumed_ = eol + 1;
      if (absl::StrContains(line, needle)) return line;
    }
    if (stdout_closed_) {
      return absl::NotFoundError(absl::StrCat("stdout closed before a line containing '", needle,
                                              "'; output: ", stdout_data_));
    }
    const size_t seen = stdout_data_.size();
    auto changed = [this, seen]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return stdout_data_.size() != seen || stdout_closed_;
    };
    if (!output_cv_.wait_until(lock, deadline, changed)) {
      return absl::DeadlineExceededError(
          absl::StrCat("no line containing '", needle, "' in time; output: ", stdout_data_));
    }
  }
}

std::string Subprocess::output() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stdout_data_;
}

std::string Subprocess::stderr_output() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stderr_data_;
}

bool Subprocess::TryReap() {
  if (wait_status_.has_value()) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    wait_status_ = status;
    return true;
  }
  return false;
}

int Subprocess::Kill() {
  if (!wait_status_.has_value()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    wait_status_ = status;
  }
  return *wait_status_;
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  if (TryReap()) return *wait_status_;
  AwaitExit(pid_, timeout);
  if (TryReap()) return *wait_status_;
  return absl::DeadlineExceededError(absl::StrCat("pid ", pid_, " still running"));
}

absl::StatusOr<int> Subprocess::Terminate(absl::Duration timeout) {
  if (TryReap()) return *wait_status_;
  ::kill(pid_, SIGTERM);
  absl::StatusOr<int> status = Wait(timeout);
  if (status.ok()) return status;
  Kill();
  return absl::DeadlineExceededError(
      absl::StrCat("pid ", pid_, " ignored SIGTERM for ", absl::FormatDuration(timeout)));
}

absl::StatusOr<int> IntFieldAfter(absl::string_view line, absl::string_view key) {
  size_t at = line.find(key);
  if (at == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("no '", key, "' in '", line, "'"));
  }
  absl::string_view rest = line.substr(at + key.size());
  size_t end = 0;
  while (end < rest.size() && (absl::ascii_isdigit(rest[end]) || (end == 0 && rest[0] == '-'))) {
    ++end;
  }
  int value = 0;
  if (!absl::SimpleAtoi(rest.substr(0, end), &value)) {
    return absl::InvalidArgumentError(absl::StrCat("no integer after '", key, "' in '", line, "'"));
  }
  return value;
}

}  // namespace rinha::testing
