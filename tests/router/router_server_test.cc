// RouterServer in-process against a real ledger process: a shutdown right after the start
// returns (CI once hung on such a start/stop race in the edge), and one thread of the router
// waits inside gRPC.
#include "router/router_server.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "common/grpc_server.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/hang_watchdog.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/thread_names.h"
#include "tests/testing/wait.h"

namespace rinha::router {
namespace {

// A router on a free TCP port and on <dir>/<name>.sock, journaling to <dir>/<name>-journal, with
// the ledger at <dir>/ledger.sock. Nothing listens at the processors' address: they are never
// reached.
RouterServerOptions OptionsIn(const std::filesystem::path& dir, const std::string& name) {
  RouterServerOptions options;
  options.tcp_address = "127.0.0.1:0";
  options.unix_socket_path = (dir / (name + ".sock")).string();
  options.ledger_target = "unix:" + (dir / "ledger.sock").string();
  options.journal_dir = (dir / (name + "-journal")).string();
  options.router.default_url = "http://127.0.0.1:1";
  options.router.fallback_url = "http://127.0.0.1:1";
  return options;
}

TEST(RouterServerStartTest, ShutdownRightAfterStartReturns) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented";
#endif
  rinha::testing::HangWatchdog watchdog(std::chrono::seconds(120));
  const std::filesystem::path dir = rinha::testing::MakeTempDir("router_server");
  // A real ledger: Start reads its settled ids before it serves.
  rinha::testing::Subprocess::Options ledger_options;
  ledger_options.args = {"--listen=", "--unix_socket=" + (dir / "ledger.sock").string(),
                         "--db_path=" + (dir / "ledger.db").string(),
                         "--metrics_listen=127.0.0.1:0"};
  auto ledger = rinha::testing::Subprocess::Spawn(LEDGER_BINARY, ledger_options);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  ASSERT_TRUE((*ledger)->ReadLineContaining("ledger listening").ok());
  rinha::testing::FakeClock clock;
  for (int i = 0; i < 20; ++i) {
    auto server = RouterServer::Start(OptionsIn(dir, "router"), clock);
    ASSERT_TRUE(server.ok()) << server.status();
    if (i == 0) {
      // Its server's and its ledger stream's events are taken by one thread: in gRPC 1.51 two
      // would hand the epoll set to each other at every acknowledgement.
      ASSERT_TRUE(
          rinha::testing::WaitUntil([&] { return (*server)->ledger().streams_opened() >= 1; }));
      const std::map<std::string, int> names = rinha::testing::ThreadNames();
      ASSERT_EQ(names.count(GrpcServer::kPollerThreadName), 1u);
      EXPECT_EQ(names.at(GrpcServer::kPollerThreadName), 1);
      EXPECT_EQ(names.count("stream-poller"), 0u);
      EXPECT_EQ(names.count("nexting_thread"), 0u);
    }
    (*server)->Shutdown();
  }
  // A port in use: Serve fails after the ledger stream started on the server's queue; the
  // failed start stops the stream, then the queue, and returns.
  auto first = RouterServer::Start(OptionsIn(dir, "first"), clock);
  ASSERT_TRUE(first.ok()) << first.status();
  RouterServerOptions second_options = OptionsIn(dir, "second");
  second_options.tcp_address = "127.0.0.1:" + std::to_string((*first)->tcp_port());
  auto second = RouterServer::Start(second_options, clock);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  (*first)->Shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rinha::router
