// The ledger's gRPC surface end to end, in process: a real LedgerServer on port 0 and on a unix
// socket in a temporary directory, driven by generated client stubs.
#include "ledger/ledger_service.h"

#include <grpcpp/grpcpp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/ledger_server.h"
#include "payments.grpc.pb.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/hang_watchdog.h"
#include "tests/testing/http1_socket.h"
#include "tests/testing/wait.h"

namespace rinha::ledger {
namespace {

using rinha::v1::SettlementAck;
using rinha::v1::SettlementBatch;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::Uuid;

constexpr auto kStored = rinha::v1::SETTLEMENT_OUTCOME_STORED;
constexpr auto kDuplicate = rinha::v1::SETTLEMENT_OUTCOME_DUPLICATE;
constexpr auto kConflict = rinha::v1::SETTLEMENT_OUTCOME_CONFLICT;
constexpr auto kInvalid = rinha::v1::SETTLEMENT_OUTCOME_INVALID;

void AddSettlement(SettlementBatch& batch, uint64_t id, int64_t cents, rinha::v1::Processor p,
                   int64_t at_ms) {
  rinha::v1::Settlement* s = batch.add_settlements();
  s->set_correlation_id(Uuid(id));
  s->set_amount_cents(cents);
  s->set_processor(p);
  s->set_requested_at_ms(at_ms);
}

std::vector<int> Outcomes(const SettlementAck& ack) {
  return std::vector<int>(ack.outcomes().begin(), ack.outcomes().end());
}

class LedgerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RINHA_SKIP_GRPC_UNDER_TSAN();
    StartServer({});
  }

  void StartServer(LedgerService::Options service_options) {
    LedgerServerOptions options;
    options.tcp_address = "127.0.0.1:0";
    options.unix_socket_path = dir_.File("run/ledger.sock");
    options.db_path = dir_.File("data/ledger.db");
    options.service = service_options;
    options.metrics_address = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<LedgerServer>> server = LedgerServer::Start(options, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_NE(server_->tcp_port(), 0);
  }

  std::unique_ptr<rinha::v1::Ledger::Stub> TcpStub() {
    return rinha::v1::Ledger::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->tcp_port()), grpc::InsecureChannelCredentials()));
  }
  std::unique_ptr<rinha::v1::Ledger::Stub> UnixStub() {
    return rinha::v1::Ledger::NewStub(grpc::CreateChannel("unix:" + server_->unix_socket_path(),
                                                          grpc::InsecureChannelCredentials()));
  }

  static void WithDeadline(grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  }

  rinha::v1::SummaryResponse Summary(rinha::v1::Ledger::Stub& stub, std::optional<int64_t> from,
                                     std::optional<int64_t> to) {
    grpc::ClientContext context;
    WithDeadline(context);
    rinha::v1::SummaryRequest request;
    if (from) request.set_from_ms(*from);
    if (to) request.set_to_ms(*to);
    rinha::v1::SummaryResponse response;
    grpc::Status status = stub.Summary(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  rinha::v1::PaymentStatus Get(rinha::v1::Ledger::Stub& stub, const std::string& id,
                               grpc::StatusCode expected = grpc::StatusCode::OK) {
    grpc::ClientContext context;
    WithDeadline(context);
    rinha::v1::PaymentStatusRequest request;
    request.set_correlation_id(id);
    rinha::v1::PaymentStatus response;
    grpc::Status status = stub.Get(&context, request, &response);
    EXPECT_EQ(status.error_code(), expected) << status.error_message();
    return response;
  }

  // GET /metrics on the server's metrics port: the body of a 200.
  std::string Scrape() {
    rinha::testing::Http1Socket socket(server_->metrics_port());
    EXPECT_TRUE(socket.connected());
    EXPECT_TRUE(socket.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    const rinha::testing::Http1Socket::Response response = socket.Read();
    EXPECT_EQ(response.status, 200);
    return response.body;
  }

  // Streams `batches` on one Settle stream, half-closes, and returns every ack received.
  std::vector<SettlementAck> SettleAll(rinha::v1::Ledger::Stub& stub,
                                       const std::vector<SettlementBatch>& batches) {
    grpc::ClientContext context;
    WithDeadline(context);
    auto stream = stub.Settle(&context);
    for (const SettlementBatch& batch : batches) EXPECT_TRUE(stream->Write(batch));
    EXPECT_TRUE(stream->WritesDone());
    std::vector<SettlementAck> acks;
    SettlementAck ack;
    while (stream->Read(&ack)) acks.push_back(ack);
    grpc::Status status = stream->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return acks;
  }

  // The four outcomes across five batches; the first settlement of each batch is new.
  static std::vector<SettlementBatch> MixedBatches() {
    std::vector<SettlementBatch> batches(5);
    for (int b = 0; b < 5; ++b) {
      batches[b].set_batch_id(100 + b);
      AddSettlement(batches[b], b, 1000 + b, rinha::v1::PROCESSOR_DEFAULT, 10'000 + b);
    }
    AddSettlement(batches[1], 0, 1000, rinha::v1::PROCESSOR_DEFAULT, 10'000);   // duplicate
    AddSettlement(batches[2], 1, 1001, rinha::v1::PROCESSOR_FALLBACK, 10'001);  // conflict
    AddSettlement(batches[3], 50, 0, rinha::v1::PROCESSOR_FALLBACK, 10'003);    // invalid
    AddSettlement(batches[4], 51, 7, rinha::v1::PROCESSOR_FALLBACK, 10'004);
    return batches;
  }

  static void ExpectMixedAcks(const std::vector<SettlementAck>& acks) {
    ASSERT_EQ(acks.size(), 5u);
    for (int b = 0; b < 5; ++b) EXPECT_EQ(acks[b].batch_id(), 100u + b);
    EXPECT_THAT(Outcomes(acks[0]), ElementsAre(kStored));
    EXPECT_THAT(Outcomes(acks[1]), ElementsAre(kStored, kDuplicate));
    EXPECT_THAT(Outcomes(acks[2]), ElementsAre(kStored, kConflict));
    EXPECT_THAT(Outcomes(acks[3]), ElementsAre(kStored, kInvalid));
    EXPECT_THAT(Outcomes(acks[4]), ElementsAre(kStored, kStored));
  }

  TempDir dir_;
  rinha::testing::FakeClock clock_;  // outlives server_
  std::unique_ptr<LedgerServer> server_;
};

TEST_F(LedgerServiceTest, SettleStreamOverTcpAcksEachBatchInOrderWithItsOutcomes) {
  auto stub = TcpStub();
  ExpectMixedAcks(SettleAll(*stub, MixedBatches()));

  rinha::v1::SummaryResponse all = Summary(*stub, std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals().total_requests(), 5);
  EXPECT_EQ(all.default_totals().total_amount_cents(), 1000 + 1001 + 1002 + 1003 + 1004);
  EXPECT_EQ(all.fallback_totals().total_requests(), 1);
  EXPECT_EQ(all.fallback_totals().total_amount_cents(), 7);
}

TEST_F(LedgerServiceTest, SettleStreamOverUnixSocketAcksEachBatchInOrderWithItsOutcomes) {
  auto stub = UnixStub();
  ExpectMixedAcks(SettleAll(*stub, MixedBatches()));
  EXPECT_EQ(Summary(*stub, std::nullopt, std::nullopt).default_totals().total_requests(), 5);
}

TEST_F(LedgerServiceTest, SummaryHonoursPresentAndMissingBounds) {
  auto stub = UnixStub();
  SettlementBatch batch;
  batch.set_batch_id(1);
  AddSettlement(batch, 1, 100, rinha::v1::PROCESSOR_DEFAULT, 1000);
  AddSettlement(batch, 2, 200, rinha::v1::PROCESSOR_DEFAULT, 2000);
  AddSettlement(batch, 3, 400, rinha::v1::PROCESSOR_FALLBACK, 3000);
  ASSERT_EQ(SettleAll(*stub, {batch}).size(), 1u);

  EXPECT_EQ(Summary(*stub, 1000, 2000).default_totals().total_amount_cents(), 300);
  EXPECT_EQ(Summary(*stub, 1000, 2000).fallback_totals().total_requests(), 0);
  EXPECT_EQ(Summary(*stub, 2000, std::nullopt).default_totals().total_amount_cents(), 200);
  EXPECT_EQ(Summary(*stub, 2000, std::nullopt).fallback_totals().total_amount_cents(), 400);
  EXPECT_EQ(Summary(*stub, std::nullopt, 1999).default_totals().total_amount_cents(), 100);
  // An explicit 0 is a bound, not a missing one.
  EXPECT_EQ(Summary(*stub, 0, 0).default_totals().total_requests(), 0);
}

TEST_F(LedgerServiceTest, ListAnswersWhenTheLedgerRecordedEachRowAndIgnoresTheSendersValue) {
  auto stub = UnixStub();
  const int64_t t0 = clock_.NowMillis();
  SettlementBatch first;
  first.set_batch_id(1);
  AddSettlement(first, 1, 100, rinha::v1::PROCESSOR_DEFAULT, 1000);
  first.mutable_settlements(0)->set_recorded_at_ms(42);  // not the sender's to say
  ASSERT_EQ(SettleAll(*stub, {first}).size(), 1u);
  clock_.Advance(absl::Milliseconds(2500));
  SettlementBatch second;
  second.set_batch_id(2);
  AddSettlement(second, 2, 200, rinha::v1::PROCESSOR_FALLBACK, 2000);
  ASSERT_EQ(SettleAll(*stub, {second}).size(), 1u);

  grpc::ClientContext context;
  WithDeadline(context);
  rinha::v1::ListResponse page;
  grpc::Status status = stub->List(&context, rinha::v1::ListRequest(), &page);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(page.settlements_size(), 2);
  EXPECT_EQ(page.settlements(0).correlation_id(), Uuid(1));
  EXPECT_EQ(page.settlements(0).requested_at_ms(), 1000);
  EXPECT_EQ(page.settlements(0).recorded_at_ms(), t0);
  EXPECT_EQ(page.settlements(1).correlation_id(), Uuid(2));
  EXPECT_EQ(page.settlements(1).processor(), rinha::v1::PROCESSOR_FALLBACK);
  EXPECT_EQ(page.settlements(1).recorded_at_ms(), t0 + 2500);
  EXPECT_FALSE(page.more());
}

TEST_F(LedgerServiceTest, PurgeEmptiesTheLedgerAndReportsTheCount) {
  auto stub = TcpStub();
  ASSERT_EQ(SettleAll(*stub, MixedBatches()).size(), 5u);

  grpc::ClientContext context;
  WithDeadline(context);
  rinha::v1::PurgeResponse response;
  grpc::Status status = stub->Purge(&context, rinha::v1::PurgeRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.deleted(), 6);
  rinha::v1::SummaryResponse all = Summary(*stub, std::nullopt, std::nullopt);
  EXPECT_EQ(all.default_totals().total_requests(), 0);
  EXPECT_EQ(all.fallback_totals().total_requests(), 0);
}

TEST_F(LedgerServiceTest, GetAnswersASettledPaymentsProcessorAmountAndRequestedAt) {
  auto stub = UnixStub();
  SettlementBatch batch;
  batch.set_batch_id(1);
  AddSettlement(batch, 1, 1990, rinha::v1::PROCESSOR_FALLBACK, 1'752'582'896'123);
  ASSERT_EQ(SettleAll(*stub, {batch}).size(), 1u);

  const rinha::v1::PaymentStatus settled = Get(*stub, Uuid(1));
  EXPECT_EQ(settled.state(), rinha::v1::PaymentStatus::STATE_SETTLED);
  EXPECT_EQ(settled.processor(), rinha::v1::PROCESSOR_FALLBACK);
  EXPECT_EQ(settled.amount_cents(), 1990);
  EXPECT_EQ(settled.requested_at_ms(), 1'752'582'896'123);
  EXPECT_EQ(settled.also_held_by(), rinha::v1::PROCESSOR_UNSPECIFIED);
}

TEST_F(LedgerServiceTest, GetOfAnIdWithoutARowIsUnknown) {
  auto stub = TcpStub();
  const rinha::v1::PaymentStatus unknown = Get(*stub, Uuid(7));
  EXPECT_EQ(unknown.state(), rinha::v1::PaymentStatus::STATE_UNKNOWN);
  EXPECT_EQ(unknown.processor(), rinha::v1::PROCESSOR_UNSPECIFIED);
  EXPECT_EQ(unknown.amount_cents(), 0);
}

TEST_F(LedgerServiceTest, GetOfADetectedDoublePaymentNamesTheFirstProcessorAndTheOther) {
  auto stub = UnixStub();
  SettlementBatch batch;
  batch.set_batch_id(1);
  AddSettlement(batch, 1, 1990, rinha::v1::PROCESSOR_FALLBACK, 20);
  AddSettlement(batch, 1, 1990, rinha::v1::PROCESSOR_DEFAULT, 10);
  batch.mutable_settlements(1)->set_double_payment(true);
  ASSERT_EQ(SettleAll(*stub, {batch}).size(), 1u);

  const rinha::v1::PaymentStatus both = Get(*stub, Uuid(1));
  EXPECT_EQ(both.state(), rinha::v1::PaymentStatus::STATE_SETTLED);
  EXPECT_EQ(both.processor(), rinha::v1::PROCESSOR_FALLBACK);
  EXPECT_EQ(both.requested_at_ms(), 20);
  EXPECT_EQ(both.also_held_by(), rinha::v1::PROCESSOR_DEFAULT);
}

TEST_F(LedgerServiceTest, GetOfANonCanonicalIdIsInvalidArgument) {
  auto stub = UnixStub();
  Get(*stub, "4A7901B8-7D26-4D9D-AA19-4DC1C7CF60B3", grpc::StatusCode::INVALID_ARGUMENT);
  Get(*stub, "", grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(LedgerServiceTest, MetricsAnswerEveryFamilyAndFollowSettlementsAndPurges) {
  ASSERT_GT(server_->metrics_port(), 0);
  const std::string before = Scrape();
  for (const char* family :
       {"# TYPE rinha_ledger_rows gauge", "# TYPE rinha_ledger_settlements_total counter",
        "# TYPE rinha_ledger_settle_batches_total counter",
        "# TYPE rinha_ledger_commit_duration_seconds histogram",
        "# TYPE rinha_ledger_summary_duration_seconds histogram",
        "# TYPE process_cpu_seconds_total counter"}) {
    EXPECT_THAT(before, HasSubstr(family));
  }
  EXPECT_THAT(before, HasSubstr("rinha_ledger_rows{processor=\"default\"} 0\n"));

  auto stub = UnixStub();
  ExpectMixedAcks(SettleAll(*stub, MixedBatches()));
  Summary(*stub, std::nullopt, std::nullopt);
  const std::string after = Scrape();
  EXPECT_THAT(after, HasSubstr("rinha_ledger_rows{processor=\"default\"} 5\n"));
  EXPECT_THAT(after, HasSubstr("rinha_ledger_rows{processor=\"fallback\"} 1\n"));
  EXPECT_THAT(after, HasSubstr("rinha_ledger_settlements_total{outcome=\"stored\"} 6\n"));
  EXPECT_THAT(after, HasSubstr("rinha_ledger_settlements_total{outcome=\"duplicate\"} 1\n"));
  EXPECT_THAT(after, HasSubstr("rinha_ledger_settlements_total{outcome=\"conflict\"} 1\n"));
  EXPECT_THAT(after, HasSubstr("rinha_ledger_settlements_total{outcome=\"invalid\"} 1\n"));
  EXPECT_THAT(after, HasSubstr("rinha_ledger_summary_duration_seconds_count 1\n"));
  EXPECT_THAT(after, ::testing::Not(HasSubstr("rinha_ledger_settle_batches_total 0\n")));
  EXPECT_THAT(after, ::testing::Not(HasSubstr("rinha_ledger_commit_duration_seconds_count 0\n")));

  grpc::ClientContext context;
  WithDeadline(context);
  rinha::v1::PurgeResponse response;
  ASSERT_TRUE(stub->Purge(&context, rinha::v1::PurgeRequest(), &response).ok());
  const std::string purged = Scrape();
  EXPECT_THAT(purged, HasSubstr("rinha_ledger_rows{processor=\"default\"} 0\n"));
  EXPECT_THAT(purged, HasSubstr("rinha_ledger_rows{processor=\"fallback\"} 0\n"));
  // Counters do not go back.
  EXPECT_THAT(purged, HasSubstr("rinha_ledger_settlements_total{outcome=\"stored\"} 6\n"));
}

TEST_F(LedgerServiceTest, StreamBeyondTheUnackedLimitStillGetsEveryAck) {
  server_.reset();
  StartServer({.max_unacked_batches_per_stream = 2});
  auto stub = UnixStub();
  std::vector<SettlementBatch> batches(300);
  for (int b = 0; b < 300; ++b) {
    batches[b].set_batch_id(b);
    for (int i = 0; i < 4; ++i) {
      AddSettlement(batches[b], b * 4 + i, 1, rinha::v1::PROCESSOR_DEFAULT, b);
    }
  }

  std::vector<SettlementAck> acks = SettleAll(*stub, batches);

  ASSERT_EQ(acks.size(), 300u);
  for (int b = 0; b < 300; ++b) {
    EXPECT_EQ(acks[b].batch_id(), static_cast<uint64_t>(b));
    EXPECT_THAT(Outcomes(acks[b]), ElementsAre(kStored, kStored, kStored, kStored));
  }
  EXPECT_EQ(Summary(*stub, std::nullopt, std::nullopt).default_totals().total_requests(), 1200);
}

TEST_F(LedgerServiceTest, SeveralConcurrentStreamsAreAllAcknowledged) {
  constexpr int kStreams = 4, kBatches = 40;
  std::vector<std::thread> threads;
  for (int s = 0; s < kStreams; ++s) {
    threads.emplace_back([&, s] {
      auto stub = s % 2 == 0 ? UnixStub() : TcpStub();
      std::vector<SettlementBatch> batches(kBatches);
      for (int b = 0; b < kBatches; ++b) {
        batches[b].set_batch_id(b);
        AddSettlement(batches[b], s * kBatches + b, 2, rinha::v1::PROCESSOR_FALLBACK, b);
      }
      EXPECT_EQ(SettleAll(*stub, batches).size(), static_cast<size_t>(kBatches));
    });
  }
  for (std::thread& t : threads) t.join();

  auto stub = TcpStub();
  EXPECT_EQ(Summary(*stub, std::nullopt, std::nullopt).fallback_totals().total_amount_cents(),
            2 * kStreams * kBatches);
}

TEST_F(LedgerServiceTest, ClientCancellingMidStreamLeavesTheServerHealthy) {
  auto stub = UnixStub();
  {
    grpc::ClientContext context;
    WithDeadline(context);
    auto stream = stub->Settle(&context);
    for (int b = 0; b < 20; ++b) {
      SettlementBatch batch;
      batch.set_batch_id(b);
      AddSettlement(batch, 1000 + b, 1, rinha::v1::PROCESSOR_DEFAULT, b);
      ASSERT_TRUE(stream->Write(batch));
    }
    context.TryCancel();  // acks never read
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The server keeps serving; whatever was acknowledged or not, nothing is half-written.
  rinha::v1::SummaryResponse all = Summary(*stub, std::nullopt, std::nullopt);
  EXPECT_LE(all.default_totals().total_requests(), 20);
  EXPECT_EQ(all.default_totals().total_amount_cents(), all.default_totals().total_requests());
  ExpectMixedAcks(SettleAll(*stub, MixedBatches()));
}

TEST_F(LedgerServiceTest, ShutdownEndsAnOpenStreamAfterItsAcks) {
  auto stub = TcpStub();
  grpc::ClientContext context;
  WithDeadline(context);
  auto stream = stub->Settle(&context);
  SettlementBatch batch;
  batch.set_batch_id(7);
  AddSettlement(batch, 1, 5, rinha::v1::PROCESSOR_DEFAULT, 1);
  ASSERT_TRUE(stream->Write(batch));
  SettlementAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.batch_id(), 7u);

  server_->Shutdown(absl::Milliseconds(200));  // the stream is still open: it gets cancelled

  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_FALSE(stream->Finish().ok());
  // The acknowledged settlement is committed.
  EXPECT_EQ(server_->store().Summary({})->default_totals, (Totals{1, 5}));
}

TEST_F(LedgerServiceTest, StoreFailureEndsTheStreamWithItsStatus) {
  server_->store().Shutdown();  // every later settlement fails with Unavailable
  auto stub = TcpStub();
  grpc::ClientContext context;
  WithDeadline(context);
  auto stream = stub->Settle(&context);
  SettlementBatch batch;
  batch.set_batch_id(1);
  AddSettlement(batch, 1, 5, rinha::v1::PROCESSOR_DEFAULT, 1);
  ASSERT_TRUE(stream->Write(batch));

  SettlementAck ack;
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// Streams that cancel at arbitrary points and a server shutdown racing with them: every batch
// the client saw acknowledged must be in the store afterwards, and nothing may crash (run it
// under ASan for the reactor's lifetime).
TEST_F(LedgerServiceTest, EveryAcknowledgedSettlementIsStoredDespiteCancelsAndShutdown) {
  server_.reset();
  StartServer({.max_unacked_batches_per_stream = 2});
  constexpr int kClients = 4, kStreamsPerClient = 30, kBatches = 12, kBatchSize = 5;
  std::mutex acked_mu;
  std::vector<int64_t> acked_ids;  // requested_at_ms == id, unique per settlement
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = c % 2 == 0 ? UnixStub() : TcpStub();
      for (int s = 0; s < kStreamsPerClient; ++s) {
        grpc::ClientContext context;
        WithDeadline(context);
        auto stream = stub->Settle(&context);
        const int stream_no = c * kStreamsPerClient + s;
        std::vector<std::vector<int64_t>> ids(kBatches);
        for (int b = 0; b < kBatches; ++b) {
          SettlementBatch batch;
          batch.set_batch_id(b);
          for (int i = 0; i < kBatchSize; ++i) {
            const int64_t id = (static_cast<int64_t>(stream_no) * kBatches + b) * kBatchSize + i;
            ids[b].push_back(id);
            AddSettlement(batch, static_cast<uint64_t>(id), 1, rinha::v1::PROCESSOR_DEFAULT, id);
          }
          if (!stream->Write(batch)) break;
        }
        // Read a stream-dependent number of acks, then cancel (or half-close on some streams).
        const int acks_to_read = stream_no % (kBatches + 1);
        SettlementAck ack;
        for (int a = 0; a < acks_to_read && stream->Read(&ack); ++a) {
          std::lock_guard<std::mutex> lock(acked_mu);
          for (int64_t id : ids[ack.batch_id()]) acked_ids.push_back(id);
        }
        if (stream_no % 3 == 0) {
          stream->WritesDone();
          while (stream->Read(&ack)) {
            std::lock_guard<std::mutex> lock(acked_mu);
            for (int64_t id : ids[ack.batch_id()]) acked_ids.push_back(id);
          }
        } else {
          context.TryCancel();
        }
        stream->Finish();
      }
    });
  }
  // Shut down while the clients are still streaming: their later streams fail, which is fine.
  ASSERT_TRUE(rinha::testing::WaitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(acked_mu);
        return acked_ids.size() >= 200;
      },
      absl::Seconds(60)));
  server_->Shutdown(absl::Milliseconds(50));
  for (std::thread& t : clients) t.join();

  std::lock_guard<std::mutex> lock(acked_mu);
  ASSERT_GE(acked_ids.size(), 200u);
  for (int64_t id : acked_ids) {
    absl::StatusOr<SummaryTotals> one = server_->store().Summary({id, id});
    ASSERT_TRUE(one.ok()) << one.status();
    ASSERT_EQ(one->default_totals.count, 1) << "acknowledged settlement " << id << " is missing";
  }
}

TEST(LedgerServerStartTest, ReplacesAStaleSocketFileAndRefusesOtherFiles) {
  RINHA_SKIP_GRPC_UNDER_TSAN();
  TempDir dir;
  LedgerServerOptions options;
  options.tcp_address = "";
  options.unix_socket_path = dir.File("ledger.sock");
  options.db_path = dir.File("ledger.db");
  {
    absl::StatusOr<std::unique_ptr<LedgerServer>> first =
        LedgerServer::Start(options, RealClock::Get());
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ((*first)->tcp_port(), 0);
  }
  // A killed process leaves its socket file behind; a restart must not trip over it.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", options.unix_socket_path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  {
    absl::StatusOr<std::unique_ptr<LedgerServer>> second =
        LedgerServer::Start(options, RealClock::Get());
    ASSERT_TRUE(second.ok()) << second.status();
  }
  // Not a socket: not ours to delete.
  options.unix_socket_path = dir.File("ledger.db");
  EXPECT_FALSE(LedgerServer::Start(options, RealClock::Get()).ok());
}

// A shutdown right after the start (CI once hung on this race in the edge) returns.
TEST(LedgerServerStartTest, ShutdownRightAfterStartReturns) {
  RINHA_SKIP_GRPC_UNDER_TSAN();
  rinha::testing::HangWatchdog watchdog(std::chrono::seconds(120));
  TempDir dir;
  for (int i = 0; i < 20; ++i) {
    LedgerServerOptions options;
    options.tcp_address = "127.0.0.1:0";
    options.unix_socket_path = dir.File("ledger.sock");
    options.db_path = dir.File("ledger.db");
    absl::StatusOr<std::unique_ptr<LedgerServer>> server =
        LedgerServer::Start(options, RealClock::Get());
    ASSERT_TRUE(server.ok()) << server.status();
    (*server)->Shutdown(absl::ZeroDuration());
  }
}

}  // namespace
}  // namespace rinha::ledger
