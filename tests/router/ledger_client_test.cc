// LedgerClient against a real ledger process: every settlement is acknowledged, the batch
// window groups settlements into few writes while a full batch goes at once, and on a queue the
// caller polls (the router's server's) the stream starts no thread of its own to wait in gRPC.
#include "router/ledger_client.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/grpc_server.h"
#include "gtest/gtest.h"
#include "payments.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/thread_names.h"
#include "tests/testing/wait.h"

namespace rinha::router {
namespace {

using ::rinha::testing::Subprocess;
using ::rinha::testing::WaitUntil;

class LedgerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "gRPC under TSan: Debian's gRPC is uninstrumented";
#endif
    dir_ = ::rinha::testing::MakeTempDir("ledger_client");
    Subprocess::Options o;
    o.args = {"--listen=", absl::StrCat("--unix_socket=", (dir_ / "ledger.sock").string()),
              absl::StrCat("--db_path=", (dir_ / "ledger.db").string()),
              "--metrics_listen=127.0.0.1:0"};
    auto child = Subprocess::Spawn(LEDGER_BINARY, o);
    ASSERT_TRUE(child.ok()) << child.status();
    ledger_ = *std::move(child);
    ASSERT_TRUE(ledger_->ReadLineContaining("ledger listening").ok());
  }

  void TearDown() override {
    if (ledger_) (void)ledger_->Terminate(absl::Seconds(10));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string target() const { return absl::StrCat("unix:", (dir_ / "ledger.sock").string()); }

  static rinha::v1::Settlement MakeSettlement(int i) {
    rinha::v1::Settlement s;
    s.set_correlation_id(absl::StrFormat("00000000-0000-4000-8000-%012d", i));
    s.set_amount_cents(2005);
    s.set_processor(rinha::v1::PROCESSOR_DEFAULT);
    s.set_requested_at_ms(1'760'000'000'000 + i);
    return s;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Subprocess> ledger_;
};

TEST_F(LedgerClientTest, WithoutWindowEverySettlementIsAcknowledged) {
  auto client = LedgerClient::Start(target());
  for (int i = 0; i < 50; ++i) client->Settle(MakeSettlement(i), 0, {});
  ASSERT_TRUE(WaitUntil([&] { return client->acknowledged() == 50; }));
  // The count of acknowledged settlements moves first; the stream lets them go right after.
  ASSERT_TRUE(WaitUntil([&] { return client->unacknowledged() == 0; }));
  EXPECT_EQ(client->rejected(), 0);
  EXPECT_GE(client->batches_written(), 1);
  EXPECT_LE(client->batches_written(), 50);
}

TEST_F(LedgerClientTest, WindowGroupsSettlementsIntoOneWrite) {
  LedgerClient::Options options;
  // Long enough that the settlements below, given in one go, all fall inside one window.
  options.batch_window_us = 2'000'000;
  auto client = LedgerClient::Start(target(), options);
  ASSERT_TRUE(WaitUntil([&] { return client->streams_opened() == 1; }));
  for (int i = 0; i < 7; ++i) client->Settle(MakeSettlement(i), 0, {});
  ASSERT_TRUE(WaitUntil([&] { return client->acknowledged() == 7; }));
  EXPECT_EQ(client->batches_written(), 1);
  // The count of acknowledged settlements moves first; the stream lets them go right after.
  ASSERT_TRUE(WaitUntil([&] { return client->unacknowledged() == 0; }));
  EXPECT_EQ(client->rejected(), 0);
}

TEST_F(LedgerClientTest, FullBatchDoesNotWaitOutTheWindow) {
  LedgerClient::Options options;
  options.max_batch = 5;
  options.batch_window_us = 60'000'000;  // far beyond WaitUntil's 10 s
  auto client = LedgerClient::Start(target(), options);
  // The first batch may find the stream still opening; the second finds it idle and writable.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 5; ++i) client->Settle(MakeSettlement(round * 5 + i), 0, {});
    ASSERT_TRUE(WaitUntil([&] { return client->acknowledged() == (round + 1) * 5; }));
    EXPECT_EQ(client->batches_written(), round + 1);
  }
}

TEST_F(LedgerClientTest, OnTheCallersQueueTheAcknowledgementsRunOnItsThread) {
  std::unique_ptr<GrpcServer> server = GrpcServer::Prepare();  // not serving: its queue only
  auto client = LedgerClient::Start(target(), LedgerClient::Options(), nullptr, server->cq());
  for (int i = 0; i < 50; ++i) client->Settle(MakeSettlement(i), 0, {});
  ASSERT_TRUE(WaitUntil([&] { return client->acknowledged() == 50; }));
  ASSERT_TRUE(WaitUntil([&] { return client->unacknowledged() == 0; }));
  const std::map<std::string, int> names = ::rinha::testing::ThreadNames();
  EXPECT_EQ(names.count("stream-poller"), 0u);
  EXPECT_EQ(names.at(GrpcServer::kPollerThreadName), 1);
  // The stream's operations are back before the queue stops.
  client->Shutdown(absl::Seconds(5));
  server->ShutdownQueue();
  EXPECT_EQ(client->rejected(), 0);
}

}  // namespace
}  // namespace rinha::router
