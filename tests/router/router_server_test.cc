// RouterServer in-process: a shutdown right after the start returns (CI once hung on such a
// start/stop race in the edge).
#include "router/router_server.h"

#include <chrono>
#include <filesystem>
#include <memory>

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/hang_watchdog.h"
#include "tests/testing/temp_dir.h"

namespace rinha::router {
namespace {

TEST(RouterServerStartTest, ShutdownRightAfterStartReturns) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented";
#endif
  rinha::testing::HangWatchdog watchdog(std::chrono::seconds(120));
  const std::filesystem::path dir = rinha::testing::MakeTempDir("router_server");
  rinha::testing::FakeClock clock;
  for (int i = 0; i < 20; ++i) {
    RouterServerOptions options;
    options.tcp_address = "127.0.0.1:0";
    options.unix_socket_path = (dir / "router.sock").string();
    // Nothing listens there: the ledger stream and the processors are never reached.
    options.ledger_target = "unix:" + (dir / "no-ledger.sock").string();
    options.router.default_url = "http://127.0.0.1:1";
    options.router.fallback_url = "http://127.0.0.1:1";
    auto server = RouterServer::Start(options, clock);
    ASSERT_TRUE(server.ok()) << server.status();
    (*server)->Shutdown();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rinha::router
