// Ledger benchmarks against the real `ledger` binary on a unix socket (what the router uses):
//   1. ledger RSS after 100,000 settlements streamed in batches of 16;
//   2. Summary latency over those 100,000 rows (spread over 300 s like a contest run) for a
//      13-second window and for the unbounded summary;
//   3. settlements/s through one Settle stream for batch sizes 1, 16 and 256.
// Prints one line per figure; run it several times and take medians.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "payments.grpc.pb.h"
#include "tests/testing/subprocess.h"

ABSL_FLAG(std::string, ledger_binary, LEDGER_BINARY_PATH, "Path of the ledger binary");
ABSL_FLAG(std::string, synchronous, "normal", "Passed to the ledger: normal | full");
ABSL_FLAG(std::string, work_dir, "/tmp", "Where the benchmark's database and socket go");
ABSL_FLAG(int, summary_calls, 500, "Summary calls per measured case");

namespace {

constexpr int64_t kStartMs = 1'752'582'896'000;  // 2025-07-15, like the contest
constexpr int kContestSpanMs = 300'000;

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

std::string ProcStatusField(int pid, const std::string& field) {
  std::ifstream in(absl::StrFormat("/proc/%d/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
  }
  return "?";
}

// CPU seconds (user + system) the process has used so far.
double CpuSeconds(int pid) {
  std::ifstream in(absl::StrFormat("/proc/%d/stat", pid));
  std::string stat;
  std::getline(in, stat);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Streams `total` settlements (ids from `first_id`) in batches of `batch_size` on one stream,
// writing from this thread while another reads acks; returns settlements/s, first write to
// last ack.
double StreamSettlements(rinha::v1::Ledger::Stub& stub, int first_id, int total, int batch_size) {
  grpc::ClientContext context;
  auto stream = stub.Settle(&context);
  int stored = 0;
  const int batches = (total + batch_size - 1) / batch_size;
  const absl::Time start = absl::Now();
  std::thread reader([&] {
    rinha::v1::SettlementAck ack;
    for (int b = 0; b < batches && stream->Read(&ack); ++b) {
      for (int o : ack.outcomes()) stored += o == rinha::v1::SETTLEMENT_OUTCOME_STORED;
    }
  });
  int id = first_id;
  for (int b = 0; b < batches; ++b) {
    rinha::v1::SettlementBatch batch;
    batch.set_batch_id(b);
    for (int i = 0; i < batch_size && id < first_id + total; ++i, ++id) {
      rinha::v1::Settlement* s = batch.add_settlements();
      s->set_correlation_id(absl::StrFormat("%08x-0000-4000-8000-%012x", id >> 16, id));
      s->set_amount_cents(1990);
      s->set_processor(id % 5 == 0 ? rinha::v1::PROCESSOR_FALLBACK : rinha::v1::PROCESSOR_DEFAULT);
      s->set_requested_at_ms(kStartMs +
                             static_cast<int64_t>(id - first_id) * kContestSpanMs / total);
    }
    if (!stream->Write(batch)) break;
  }
  reader.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  if (!status.ok() || stored != total) {
    std::fprintf(stderr, "stream failed: %s, stored %d of %d\n", status.error_message().c_str(),
                 stored, total);
    std::exit(1);
  }
  return total / seconds;
}

void Purge(rinha::v1::Ledger::Stub& stub) {
  grpc::ClientContext context;
  rinha::v1::PurgeResponse response;
  if (!stub.Purge(&context, rinha::v1::PurgeRequest(), &response).ok()) std::exit(1);
}

// Returns per-call latencies in milliseconds (gRPC round trip included).
std::vector<double> SummaryLatencies(rinha::v1::Ledger::Stub& stub, int calls, bool windowed,
                                     int64_t expected_unbounded) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> from(kStartMs, kStartMs + kContestSpanMs - 13'000);
  std::vector<double> ms;
  for (int i = 0; i < calls; ++i) {
    rinha::v1::SummaryRequest request;
    if (windowed) {
      int64_t f = from(rng);
      request.set_from_ms(f);
      request.set_to_ms(f + 13'000);
    }
    grpc::ClientContext context;
    rinha::v1::SummaryResponse response;
    const absl::Time start = absl::Now();
    grpc::Status status = stub.Summary(&context, request, &response);
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    const int64_t n =
        response.default_totals().total_requests() + response.fallback_totals().total_requests();
    if (!status.ok() || (!windowed && n != expected_unbounded) || (windowed && n == 0)) {
      std::fprintf(stderr, "bad summary: %s n=%lld\n", status.error_message().c_str(),
                   static_cast<long long>(n));
      std::exit(1);
    }
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::StrFormat("%s/ledger_bench_%d", absl::GetFlag(FLAGS_work_dir),
                                          static_cast<int>(::getpid()));
  std::filesystem::create_directories(dir);
  rinha::testing::Subprocess::Options options;
  options.args = {
      "--listen=", "--unix_socket=" + dir + "/ledger.sock", "--db_path=" + dir + "/ledger.db",
      "--synchronous=" + absl::GetFlag(FLAGS_synchronous), "--metrics_listen=127.0.0.1:0"};
  auto ledger = rinha::testing::Subprocess::Spawn(absl::GetFlag(FLAGS_ledger_binary), options);
  if (!ledger.ok() || !(*ledger)->ReadLineContaining("ledger listening").ok()) {
    std::fprintf(stderr, "ledger did not start\n");
    return 1;
  }
  const int pid = (*ledger)->pid();
  auto stub = rinha::v1::Ledger::NewStub(
      grpc::CreateChannel("unix:" + dir + "/ledger.sock", grpc::InsecureChannelCredentials()));
  std::printf("ledger synchronous=%s pid=%d idle VmRSS=%s\n",
              absl::GetFlag(FLAGS_synchronous).c_str(), pid, ProcStatusField(pid, "VmRSS").c_str());

  // 1. RSS after 100,000 settlements, streamed the way the router most likely will.
  constexpr int kRows = 100'000;
  double cpu = CpuSeconds(pid);
  double rate16 = StreamSettlements(*stub, 0, kRows, 16);
  std::printf(
      "load 100000 settlements batch=16: %.0f settlements/s, ledger CPU %.1f us/settlement\n",
      rate16, (CpuSeconds(pid) - cpu) * 1e6 / kRows);
  std::printf("after 100000 settlements: VmRSS=%s VmHWM=%s\n",
              ProcStatusField(pid, "VmRSS").c_str(), ProcStatusField(pid, "VmHWM").c_str());

  // 2. Summary latency over those rows.
  const int calls = absl::GetFlag(FLAGS_summary_calls);
  std::vector<double> window = SummaryLatencies(*stub, calls, true, kRows);
  std::vector<double> unbounded = SummaryLatencies(*stub, std::max(20, calls / 5), false, kRows);
  std::printf("summary 13s window over 100000 rows: median %.3f ms  p99 %.3f ms  (%d calls)\n",
              Percentile(window, 0.5), Percentile(window, 0.99), calls);
  std::printf("summary unbounded over 100000 rows:  median %.3f ms  p99 %.3f ms  (%zu calls)\n",
              Percentile(unbounded, 0.5), Percentile(unbounded, 0.99), unbounded.size());

  // 3. Throughput per batch size, each on an empty ledger.
  for (auto [batch_size, total] :
       {std::pair{1, 30'000}, std::pair{16, 100'000}, std::pair{256, 100'000}}) {
    Purge(*stub);
    const double cpu_before = CpuSeconds(pid);
    double rate = StreamSettlements(*stub, 1'000'000 * batch_size, total, batch_size);
    std::printf(
        "throughput batch=%d: %.0f settlements/s (%d settlements, one stream), ledger CPU %.1f "
        "us/settlement\n",
        batch_size, rate, total, (CpuSeconds(pid) - cpu_before) * 1e6 / total);
  }
  std::printf("end: VmRSS=%s VmHWM=%s\n", ProcStatusField(pid, "VmRSS").c_str(),
              ProcStatusField(pid, "VmHWM").c_str());

  (void)(*ledger)->Terminate();
  std::filesystem::remove_all(dir);
  return 0;
}
