// HttplibListener: a stop right after a start must never be lost (cpp-httplib 0.11 ignores a
// stop() issued before its accept loop runs; CI hung on exactly that).
#include "common/httplib_listener.h"

#include <httplib.h>

#include <chrono>
#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "tests/testing/hang_watchdog.h"
#include "tests/testing/httplib_tsan_suppression.h"

namespace rinha {
namespace {

using ::rinha::testing::HangWatchdog;

TEST(HttplibListenerTest, StartReturnsOnlyOnceTheServerRuns) {
  HangWatchdog watchdog(std::chrono::seconds(60));
  httplib::Server server;
  ASSERT_GT(server.bind_to_any_port("127.0.0.1"), 0);
  // The accept loop starts late; Start() must wait for it rather than return at once.
  auto listener = HttplibListener::Start(
      server, [] { std::this_thread::sleep_for(std::chrono::milliseconds(30)); });
  EXPECT_TRUE(server.is_running());
  EXPECT_TRUE(listener->running());
  listener->Stop();
  EXPECT_FALSE(listener->running());
}

TEST(HttplibListenerTest, StopRightAfterALateStartIsNeverLost) {
  HangWatchdog watchdog(std::chrono::seconds(120));
  std::mt19937 random(42);
  for (int i = 0; i < 100; ++i) {
    httplib::Server server;
    ASSERT_GT(server.bind_to_any_port("127.0.0.1"), 0);
    // Delay the thread's start by 0-3 ms, so that the stop lands at every point of it.
    const int delay_us = std::uniform_int_distribution<int>(0, 3000)(random);
    auto listener = HttplibListener::Start(
        server, [delay_us] { std::this_thread::sleep_for(std::chrono::microseconds(delay_us)); });
    listener->Stop();
  }
}

TEST(HttplibListenerTest, DestroyingAStartedListenerStopsIt) {
  HangWatchdog watchdog(std::chrono::seconds(60));
  for (int i = 0; i < 50; ++i) {
    httplib::Server server;
    ASSERT_GT(server.bind_to_any_port("127.0.0.1"), 0);
    auto listener = HttplibListener::Start(server);
  }
}

TEST(HttplibListenerTest, ServesOnceStarted) {
  httplib::Server server;
  server.Get("/ping", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("pong", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  auto listener = HttplibListener::Start(server);
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/ping");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "pong");
}

}  // namespace
}  // namespace rinha
