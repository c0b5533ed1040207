// The payment-processor binary as a process: flags, the readiness line, a payment, SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/testing/wait.h"

extern char** environ;

namespace rinha::processor {
namespace {

// Reads the child's stdout until a full line arrives or `timeout` passes.
std::string ReadLine(int fd, absl::Duration timeout) {
  std::string line;
  const absl::Time deadline = absl::Now() + timeout;
  while (line.empty() || line.back() != '\n') {
    pollfd p{fd, POLLIN, 0};
    const int left_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0) break;
    char c;
    if (read(fd, &c, 1) != 1) break;
    line.push_back(c);
  }
  return line;
}

struct Child {
  pid_t pid = -1;
  int port = 0;
  int stdout_fd = -1;
};

// Starts the binary with `args` and extra environment `env`; waits for its readiness line.
Child StartProcessor(const std::vector<std::string>& flags,
                     const std::vector<std::string>& env = {}) {
  Child child;
  int out[2];
  if (pipe(out) != 0) return child;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args = {PAYMENT_PROCESSOR_BINARY};
  for (const std::string& flag : flags) args.push_back(flag);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = env;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  std::vector<char*> envp;
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int spawned = posix_spawn(&child.pid, PAYMENT_PROCESSOR_BINARY, &actions, nullptr,
                                  argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  child.stdout_fd = out[0];
  if (spawned != 0) {
    child.pid = -1;
    return child;
  }
  const std::string line = ReadLine(out[0], absl::Seconds(20));
  const std::string prefix = "payment-processor listening port=";
  if (line.rfind(prefix, 0) == 0) {
    absl::SimpleAtoi(line.substr(prefix.size(), line.size() - prefix.size() - 1), &child.port);
  }
  return child;
}

// SIGTERM, then the exit status (-1 when it did not exit in time).
int Terminate(const Child& child) {
  kill(child.pid, SIGTERM);
  int status = -1;
  const bool exited = testing::WaitUntil(
      [&] { return waitpid(child.pid, &status, WNOHANG) == child.pid; }, absl::Seconds(20));
  close(child.stdout_fd);
  if (!exited) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

constexpr char kPayment[] =
    R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20.05,)"
    R"("requestedAt":"2025-07-15T12:34:56.000Z"})";

TEST(ProcessorBinaryTest, ServesAPaymentAndItsSummaryThenExitsCleanlyOnSigterm) {
  const Child child = StartProcessor({"--listen=127.0.0.1:0", "--fee=0.10", "--token=tok",
                                      "--threads=8", "--keep_alive_timeout_s=1"});
  ASSERT_GT(child.pid, 0);
  ASSERT_GT(child.port, 0);

  httplib::Client client("127.0.0.1", child.port);
  httplib::Result paid = client.Post("/payments", kPayment, "application/json");
  ASSERT_TRUE(paid);
  EXPECT_EQ(paid->status, 200);
  httplib::Result summary = client.Get("/admin/payments-summary", {{"X-Rinha-Token", "tok"}});
  ASSERT_TRUE(summary);
  EXPECT_EQ(
      summary->body,
      R"({"totalAmount":20.05,"totalRequests":1,"totalFee":2.0050,"feePerTransaction":0.10})");
  EXPECT_EQ(Terminate(child), 0);
}

TEST(ProcessorBinaryTest, EnvironmentConfiguresFlagsTheCommandLineDoesNotGive) {
  const Child child = StartProcessor(
      {"--listen=127.0.0.1:0", "--threads=8", "--fee=0.10"},
      {"PROCESSOR_TOKEN=envtok", "PROCESSOR_FEE=0.05", "PROCESSOR_INITIAL_FAILURE=true"});
  ASSERT_GT(child.pid, 0);
  ASSERT_GT(child.port, 0);
  httplib::Client client("127.0.0.1", child.port);
  httplib::Result failed = client.Post("/payments", kPayment, "application/json");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  httplib::Result summary = client.Get("/admin/payments-summary", {{"X-Rinha-Token", "envtok"}});
  ASSERT_TRUE(summary);
  // The command line's --fee wins over PROCESSOR_FEE (no rows: a scale-0 total, as the official).
  EXPECT_EQ(summary->body,
            R"({"totalAmount":0,"totalRequests":0,"totalFee":0.00,"feePerTransaction":0.10})");
  EXPECT_EQ(Terminate(child), 0);
}

TEST(ProcessorBinaryTest, FaultComesFromTheFlagOrTheEnvironment) {
  const Child flagged = StartProcessor(
      {"--listen=127.0.0.1:0", "--threads=8", R"(--fault={"mode":"store_then_500"})"});
  ASSERT_GT(flagged.port, 0);
  httplib::Client client("127.0.0.1", flagged.port);
  httplib::Result paid = client.Post("/payments", kPayment, "application/json");
  ASSERT_TRUE(paid);
  EXPECT_EQ(paid->status, 500);
  httplib::Result summary = client.Get("/admin/payments-summary", {{"X-Rinha-Token", "123"}});
  ASSERT_TRUE(summary);
  EXPECT_EQ(
      summary->body,
      R"({"totalAmount":20.05,"totalRequests":1,"totalFee":1.4035,"feePerTransaction":0.07})");
  EXPECT_EQ(Terminate(flagged), 0);

  const Child from_env = StartProcessor({"--listen=127.0.0.1:0", "--threads=8"},
                                        {R"(PROCESSOR_FAULT={"mode":"429"})"});
  ASSERT_GT(from_env.port, 0);
  httplib::Client env_client("127.0.0.1", from_env.port);
  httplib::Result rejected = env_client.Post("/payments", kPayment, "application/json");
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 429);
  EXPECT_EQ(Terminate(from_env), 0);
}

TEST(ProcessorBinaryTest, AnUnknownFaultStopsTheStartWithExitCode2) {
  const Child child =
      StartProcessor({"--listen=127.0.0.1:0", "--threads=8", R"(--fault={"mode":"explode"})"});
  ASSERT_GT(child.pid, 0);
  EXPECT_EQ(child.port, 0);  // no readiness line
  int status = -1;
  ASSERT_TRUE(testing::WaitUntil([&] { return waitpid(child.pid, &status, WNOHANG) == child.pid; },
                                 absl::Seconds(20)));
  close(child.stdout_fd);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
}  // namespace rinha::processor
