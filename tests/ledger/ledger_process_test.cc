// The `ledger` binary as deployed: readiness line, durability across kill -9, gRPC server
// reflection and health, Prometheus metrics, clean SIGTERM shutdown.
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "health.grpc.pb.h"
#include "payments.grpc.pb.h"
#include "reflection_v1alpha.grpc.pb.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/testing/http1_socket.h"
#include "tests/testing/subprocess.h"

namespace rinha::ledger {
namespace {

using ::rinha::testing::IntFieldAfter;
using ::rinha::testing::Subprocess;
using ::testing::Contains;
using ::testing::IsSupersetOf;
using testing::TempDir;
using testing::Uuid;

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(30);
}

// One running `ledger` process on port 0 and a unix socket under `dir`.
class LedgerProcess {
 public:
  explicit LedgerProcess(const TempDir& dir) : socket_path_(dir.File("run/ledger.sock")) {
    Subprocess::Options options;
    // Metrics on port 0: tests run in parallel, and the default port is fixed.
    options.args = {"--listen=127.0.0.1:0", "--unix_socket=" + socket_path_,
                    "--db_path=" + dir.File("data/ledger.db"), "--metrics_listen=127.0.0.1:0"};
    absl::StatusOr<std::unique_ptr<Subprocess>> child =
        Subprocess::Spawn(LEDGER_BINARY_PATH, options);
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return;
    child_ = *std::move(child);
    absl::StatusOr<std::string> line = child_->ReadLineContaining("ledger listening");
    EXPECT_TRUE(line.ok()) << line.status();
    if (!line.ok()) return;
    absl::StatusOr<int> port = IntFieldAfter(*line, "tcp_port=");
    EXPECT_TRUE(port.ok()) << port.status();
    tcp_port_ = port.value_or(0);
    EXPECT_THAT(*line, ::testing::HasSubstr("unix=" + socket_path_));
    absl::StatusOr<int> metrics_port = IntFieldAfter(*line, "metrics_port=");
    EXPECT_TRUE(metrics_port.ok()) << metrics_port.status();
    metrics_port_ = metrics_port.value_or(0);
  }

  bool ready() const { return tcp_port_ > 0; }
  int metrics_port() const { return metrics_port_; }
  Subprocess& child() { return *child_; }
  const std::string& socket_path() const { return socket_path_; }

  std::shared_ptr<grpc::Channel> UnixChannel() const {
    return grpc::CreateChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials());
  }
  std::shared_ptr<grpc::Channel> TcpChannel() const {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(tcp_port_),
                               grpc::InsecureChannelCredentials());
  }

 private:
  std::string socket_path_;
  std::unique_ptr<Subprocess> child_;
  int tcp_port_ = 0;
  int metrics_port_ = 0;
};

class LedgerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { RINHA_SKIP_GRPC_UNDER_TSAN(); }
};

TEST_F(LedgerProcessTest, AcknowledgedSettlementsSurviveKillDashNine) {
  TempDir dir;
  constexpr int kBatches = 100, kBatchSize = 50;
  int64_t expected_cents = 0;
  {
    LedgerProcess ledger(dir);
    ASSERT_TRUE(ledger.ready());
    auto stub = rinha::v1::Ledger::NewStub(ledger.UnixChannel());
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    auto stream = stub->Settle(&context);
    for (int b = 0; b < kBatches; ++b) {
      rinha::v1::SettlementBatch batch;
      batch.set_batch_id(b);
      for (int i = 0; i < kBatchSize; ++i) {
        const int id = b * kBatchSize + i;
        rinha::v1::Settlement* s = batch.add_settlements();
        s->set_correlation_id(Uuid(id));
        s->set_amount_cents(1 + id % 1000);
        s->set_processor(id % 2 ? rinha::v1::PROCESSOR_FALLBACK : rinha::v1::PROCESSOR_DEFAULT);
        s->set_requested_at_ms(1'752'582'896'000 + id);
        expected_cents += 1 + id % 1000;
      }
      ASSERT_TRUE(stream->Write(batch));
    }
    int stored = 0;
    rinha::v1::SettlementAck ack;
    for (int b = 0; b < kBatches; ++b) {
      ASSERT_TRUE(stream->Read(&ack));
      for (int outcome : ack.outcomes()) stored += outcome == rinha::v1::SETTLEMENT_OUTCOME_STORED;
    }
    ASSERT_EQ(stored, kBatches * kBatchSize);

    // Every settlement is acknowledged; the stream is still open when the process dies.
    int status = ledger.child().Kill();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    context.TryCancel();
    stream->Finish();
  }

  LedgerProcess restarted(dir);
  ASSERT_TRUE(restarted.ready());
  auto stub = rinha::v1::Ledger::NewStub(restarted.TcpChannel());
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  rinha::v1::SummaryResponse summary;
  grpc::Status status = stub->Summary(&context, rinha::v1::SummaryRequest(), &summary);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.default_totals().total_requests() + summary.fallback_totals().total_requests(),
            kBatches * kBatchSize);
  EXPECT_EQ(summary.default_totals().total_amount_cents() +
                summary.fallback_totals().total_amount_cents(),
            expected_cents);
}

TEST_F(LedgerProcessTest, AcksReceivedBeforeAKillMidStreamAreAllDurable) {
  TempDir dir;
  constexpr int kBatchSize = 20;
  constexpr int kAcksBeforeKill = 150;
  std::vector<int64_t> acked_ids;  // requested_at_ms == id
  {
    LedgerProcess ledger(dir);
    ASSERT_TRUE(ledger.ready());
    auto stub = rinha::v1::Ledger::NewStub(ledger.UnixChannel());
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    auto stream = stub->Settle(&context);
    // The writer keeps the stream busy while the process dies, so some batches are in the
    // ledger's queue or mid-commit at the kill; only the acknowledged ones must survive.
    std::thread writer([&] {
      for (int b = 0;; ++b) {
        rinha::v1::SettlementBatch batch;
        batch.set_batch_id(b);
        for (int i = 0; i < kBatchSize; ++i) {
          const int64_t id = static_cast<int64_t>(b) * kBatchSize + i;
          rinha::v1::Settlement* s = batch.add_settlements();
          s->set_correlation_id(Uuid(id));
          s->set_amount_cents(1);
          s->set_processor(rinha::v1::PROCESSOR_DEFAULT);
          s->set_requested_at_ms(id);
        }
        if (!stream->Write(batch)) return;
      }
    });
    rinha::v1::SettlementAck ack;
    while (static_cast<int>(acked_ids.size()) < kAcksBeforeKill * kBatchSize &&
           stream->Read(&ack)) {
      for (int i = 0; i < kBatchSize; ++i) {
        acked_ids.push_back(static_cast<int64_t>(ack.batch_id()) * kBatchSize + i);
      }
    }
    int status = ledger.child().Kill();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    context.TryCancel();
    writer.join();
    stream->Finish();
  }
  ASSERT_EQ(static_cast<int>(acked_ids.size()), kAcksBeforeKill * kBatchSize);

  LedgerProcess restarted(dir);
  ASSERT_TRUE(restarted.ready());
  auto stub = rinha::v1::Ledger::NewStub(restarted.UnixChannel());
  for (int64_t id : acked_ids) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    rinha::v1::SummaryRequest request;
    request.set_from_ms(id);
    request.set_to_ms(id);
    rinha::v1::SummaryResponse summary;
    grpc::Status status = stub->Summary(&context, request, &summary);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(summary.default_totals().total_requests(), 1) << "acknowledged id " << id << " lost";
  }
}

TEST_F(LedgerProcessTest, ReflectionListsLedgerHealthAndReflectionServices) {
  TempDir dir;
  LedgerProcess ledger(dir);
  ASSERT_TRUE(ledger.ready());
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(ledger.TcpChannel());
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  auto stream = stub->ServerReflectionInfo(&context);

  // What `grpcurl list` asks.
  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.has_list_services_response());
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, IsSupersetOf({"rinha.v1.Ledger", "grpc.health.v1.Health",
                                   "grpc.reflection.v1alpha.ServerReflection"}));

  // What `grpcurl describe rinha.v1.Ledger` asks.
  grpc::reflection::v1alpha::ServerReflectionRequest describe;
  describe.set_file_containing_symbol("rinha.v1.Ledger");
  ASSERT_TRUE(stream->Write(describe));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.has_file_descriptor_response()) << response.DebugString();
  std::set<std::string> methods;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    for (const auto& service : file.service()) {
      if (file.package() + "." + service.name() != "rinha.v1.Ledger") continue;
      for (const auto& method : service.method()) methods.insert(method.name());
    }
  }
  EXPECT_THAT(methods, IsSupersetOf({"Settle", "Summary", "Purge", "List", "Get"}));

  ASSERT_TRUE(stream->WritesDone());
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(LedgerProcessTest, HealthCheckAnswersServingOnBothListeners) {
  TempDir dir;
  LedgerProcess ledger(dir);
  ASSERT_TRUE(ledger.ready());
  for (const auto& channel : {ledger.TcpChannel(), ledger.UnixChannel()}) {
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
}

TEST_F(LedgerProcessTest, MetricsPortFromTheReadyLineAnswersTheLedgersFamilies) {
  TempDir dir;
  LedgerProcess ledger(dir);
  ASSERT_TRUE(ledger.ready());
  ASSERT_GT(ledger.metrics_port(), 0);
  auto stub = rinha::v1::Ledger::NewStub(ledger.UnixChannel());
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    auto stream = stub->Settle(&context);
    rinha::v1::SettlementBatch batch;
    batch.set_batch_id(1);
    rinha::v1::Settlement* s = batch.add_settlements();
    s->set_correlation_id(Uuid(1));
    s->set_amount_cents(1990);
    s->set_processor(rinha::v1::PROCESSOR_FALLBACK);
    s->set_requested_at_ms(1);
    ASSERT_TRUE(stream->Write(batch));
    ASSERT_TRUE(stream->WritesDone());
    rinha::v1::SettlementAck ack;
    ASSERT_TRUE(stream->Read(&ack));
    ASSERT_TRUE(stream->Finish().ok());
  }

  rinha::testing::Http1Socket socket(ledger.metrics_port());
  ASSERT_TRUE(socket.connected());
  ASSERT_TRUE(socket.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  const rinha::testing::Http1Socket::Response response = socket.Read();
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.headers.at("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* line :
       {"rinha_ledger_rows{processor=\"fallback\"} 1\n",
        "rinha_ledger_settlements_total{outcome=\"stored\"} 1\n",
        "rinha_ledger_settle_batches_total 1\n", "rinha_ledger_commit_duration_seconds_count 1\n",
        "# TYPE rinha_ledger_summary_duration_seconds histogram\n",
        "# TYPE process_resident_memory_bytes gauge\n"}) {
    EXPECT_THAT(response.body, ::testing::HasSubstr(line));
  }
}

TEST_F(LedgerProcessTest, SigtermStopsCleanlyAndRemovesTheSocket) {
  TempDir dir;
  LedgerProcess ledger(dir);
  ASSERT_TRUE(ledger.ready());
  ASSERT_TRUE(std::filesystem::exists(ledger.socket_path()));

  absl::StatusOr<int> status = ledger.child().Terminate();

  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
  EXPECT_FALSE(std::filesystem::exists(ledger.socket_path()));
}

TEST_F(LedgerProcessTest, BadFlagValueExitsWithAnError) {
  TempDir dir;
  Subprocess::Options options;
  options.args = {"--listen=127.0.0.1:0", "--unix_socket=", "--db_path=" + dir.File("l.db"),
                  "--metrics_listen=127.0.0.1:0", "--synchronous=sometimes"};
  options.capture_stderr = true;
  absl::StatusOr<std::unique_ptr<Subprocess>> child =
      Subprocess::Spawn(LEDGER_BINARY_PATH, options);
  ASSERT_TRUE(child.ok()) << child.status();

  absl::StatusOr<int> status = (*child)->Wait();

  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0);
  EXPECT_THAT((*child)->stderr_output(), ::testing::HasSubstr("--synchronous"));
}

}  // namespace
}  // namespace rinha::ledger
