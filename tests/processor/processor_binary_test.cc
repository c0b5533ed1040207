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

TEST(ProcessorBinaryTest, ServesAPaymentAndItsSummaryThenStopsOnSigterm) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args = {PAYMENT_PROCESSOR_BINARY, "--listen=127.0.0.1:0",
                                   "--fee=0.10",            "--token=tok",
                                   "--threads=8",           "--keep_alive_timeout_s=1"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, PAYMENT_PROCESSOR_BINARY, &actions, nullptr, argv.data(), environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);

  const std::string line = ReadLine(out[0], absl::Seconds(20));
  const std::string prefix = "payment-processor listening port=";
  ASSERT_EQ(line.rfind(prefix, 0), 0u) << line;
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(line.substr(prefix.size(), line.size() - prefix.size() - 1), &port));

  httplib::Client client("127.0.0.1", port);
  httplib::Result paid = client.Post(
      "/payments",
      R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20.05,)"
      R"("requestedAt":"2025-07-15T12:34:56.000Z"})",
      "application/json");
  ASSERT_TRUE(paid);
  EXPECT_EQ(paid->status, 200);
  httplib::Result summary = client.Get("/admin/payments-summary", {{"X-Rinha-Token", "tok"}});
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->body,
            R"({"totalAmount":20.05,"totalRequests":1,"totalFee":2.0050,"feePerTransaction":0.10})");

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = -1;
  EXPECT_TRUE(testing::WaitUntil([&] { return waitpid(pid, &status, WNOHANG) == pid; },
                                 absl::Seconds(20)));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  close(out[0]);
}

}  // namespace
}  // namespace rinha::processor
