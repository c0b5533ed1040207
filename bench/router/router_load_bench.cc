// Load driver for the router as a process: two payment-processor emulators, a ledger and the
// router, all real binaries on port 0. Streams payments at a fixed rate through the router's
// Submit stream, then reports the router's CPU per settled payment, its peak memory and in-flight
// count, and the receipt-to-ledger-ack latency (p50/p99, from the router's Stats).
//
//   router_load_bench --rate=600 --seconds=20 --delay_ms=0
//   router_load_bench --rate=600 --seconds=20 --delay_ms=1000
//   router_load_bench --rate=800 --seconds=15 --delay_ms=1000 --fallback_delay_ms=1000  (memory)
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "payments.grpc.pb.h"
#include "tests/testing/subprocess.h"

ABSL_FLAG(int, rate, 600, "payments per second");
ABSL_FLAG(int, seconds, 20, "seconds of load");
ABSL_FLAG(int, delay_ms, 0, "default processor delay");
ABSL_FLAG(int, fallback_delay_ms, 0, "fallback processor delay");
ABSL_FLAG(bool, journal, true,
          "run the router with its journal (false: none, to measure its cost)");
ABSL_FLAG(std::string, router_bin, ROUTER_BINARY, "router binary");
ABSL_FLAG(std::string, ledger_bin, LEDGER_BINARY, "ledger binary");
ABSL_FLAG(std::string, processor_bin, PAYMENT_PROCESSOR_BINARY, "payment-processor binary");

namespace {

using rinha::testing::IntFieldAfter;
using rinha::testing::Subprocess;

std::unique_ptr<Subprocess> Spawn(const std::string& bin, std::vector<std::string> args,
                                  const std::string& ready, int* port, const char* key) {
  Subprocess::Options o;
  o.args = std::move(args);
  auto child = Subprocess::Spawn(bin, o);
  if (!child.ok()) {
    std::fprintf(stderr, "spawn %s: %s\n", bin.c_str(), child.status().ToString().c_str());
    std::exit(1);
  }
  auto line = (*child)->ReadLineContaining(ready);
  if (!line.ok()) {
    std::fprintf(stderr, "%s not ready\n", bin.c_str());
    std::exit(1);
  }
  if (port != nullptr) *port = *IntFieldAfter(*line, key);
  return *std::move(child);
}

// utime + stime of a process, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream f(absl::StrCat("/proc/", pid, "/stat"));
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::istringstream in(s.substr(s.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15; ++i) {
    in >> field;
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long StatusKb(pid_t pid, const std::string& key) {
  std::ifstream f(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size() + 1));
  }
  return -1;
}

void SetDelay(int port, int ms) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Put("/admin/configurations/delay", {{"X-Rinha-Token", "123"}},
                 absl::StrFormat(R"({"delay":%d})", ms), "application/json");
  if (!r || r->status != 200) {
    std::fprintf(stderr, "cannot set delay\n");
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int rate = absl::GetFlag(FLAGS_rate);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrFormat("router_bench_%d", getpid());
  std::filesystem::create_directories(dir);

  int dport = 0, fport = 0;
  auto pd = Spawn(absl::GetFlag(FLAGS_processor_bin), {"--listen=127.0.0.1:0", "--fee=0.07"},
                  "payment-processor listening", &dport, "port=");
  auto pf = Spawn(absl::GetFlag(FLAGS_processor_bin), {"--listen=127.0.0.1:0", "--fee=0.10"},
                  "payment-processor listening", &fport, "port=");
  SetDelay(dport, absl::GetFlag(FLAGS_delay_ms));
  SetDelay(fport, absl::GetFlag(FLAGS_fallback_delay_ms));
  const std::string ledger_sock = (dir / "ledger.sock").string();
  auto ledger = Spawn(
      absl::GetFlag(FLAGS_ledger_bin),
      {"--listen=", absl::StrCat("--unix_socket=", ledger_sock),
       absl::StrCat("--db_path=", (dir / "ledger.db").string()), "--metrics_listen=127.0.0.1:0"},
      "ledger listening", nullptr, nullptr);
  const std::string router_sock = (dir / "router.sock").string();
  auto router = Spawn(absl::GetFlag(FLAGS_router_bin),
                      {"--listen=", absl::StrCat("--unix_socket=", router_sock),
                       "--metrics_listen=127.0.0.1:0", absl::StrCat("--ledger=unix:", ledger_sock),
                       absl::StrCat("--processor_default_url=http://127.0.0.1:", dport),
                       absl::StrCat("--processor_fallback_url=http://127.0.0.1:", fport),
                       absl::StrCat("--journal_dir=", absl::GetFlag(FLAGS_journal)
                                                          ? (dir / "router-journal").string()
                                                          : std::string())},
                      "router listening", nullptr, nullptr);
  auto stub = rinha::v1::Router::NewStub(
      grpc::CreateChannel(absl::StrCat("unix:", router_sock), grpc::InsecureChannelCredentials()));

  const double cpu0 = CpuSeconds(router->pid());
  std::atomic<bool> sampling{true};
  std::atomic<long> peak_rss_kb{0};
  std::atomic<long> peak_in_flight{0};
  std::thread sampler([&] {
    while (sampling) {
      peak_rss_kb = std::max(peak_rss_kb.load(), StatusKb(router->pid(), "VmRSS:"));
      rinha::v1::RouterStatsResponse s;
      grpc::ClientContext ctx;
      if (stub->Stats(&ctx, rinha::v1::RouterStatsRequest(), &s).ok()) {
        peak_in_flight = std::max<long>(peak_in_flight.load(), s.in_flight());
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });

  // Batches every 10 ms.
  grpc::ClientContext ctx;
  auto stream = stub->Submit(&ctx);
  std::thread reader([&] {
    rinha::v1::PaymentAck ack;
    while (stream->Read(&ack)) {
    }
  });
  const int total = rate * seconds;
  const absl::Time start = absl::Now();
  int sent = 0;
  uint64_t batch_id = 0;
  while (sent < total) {
    const int due = std::min<int>(
        total, static_cast<int>(absl::ToDoubleSeconds(absl::Now() - start) * rate) + 1);
    if (due > sent) {
      rinha::v1::PaymentBatch batch;
      batch.set_batch_id(++batch_id);
      for (; sent < due; ++sent) {
        auto* p = batch.add_payments();
        p->set_correlation_id(absl::StrFormat("%08x-0000-4000-8000-%012x", getpid(), sent));
        p->set_amount_cents(2005);
      }
      stream->Write(batch);
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  stream->WritesDone();
  reader.join();
  (void)stream->Finish();

  rinha::v1::RouterStatsResponse s;
  const absl::Time drain_deadline = absl::Now() + absl::Seconds(120);
  for (;;) {
    grpc::ClientContext c;
    (void)stub->Stats(&c, rinha::v1::RouterStatsRequest(), &s);
    if (s.settled_default() + s.settled_fallback() >= total && s.unsettled() == 0) break;
    if (absl::Now() > drain_deadline) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  sampling = false;
  sampler.join();
  const double cpu = CpuSeconds(router->pid()) - cpu0;
  const int64_t settled = s.settled_default() + s.settled_fallback();
  std::printf(
      "rate=%d seconds=%d delay_ms=%d fallback_delay_ms=%d settled=%lld (default=%lld) "
      "router_cpu_s=%.3f cpu_us_per_payment=%.1f peak_rss_mb=%.1f hwm_mb=%.1f peak_in_flight=%ld "
      "settle_p50_ms=%.2f settle_p99_ms=%.2f settle_max_ms=%.2f\n",
      rate, seconds, absl::GetFlag(FLAGS_delay_ms), absl::GetFlag(FLAGS_fallback_delay_ms),
      static_cast<long long>(settled), static_cast<long long>(s.settled_default()), cpu,
      settled > 0 ? cpu * 1e6 / static_cast<double>(settled) : 0.0, peak_rss_kb.load() / 1024.0,
      StatusKb(router->pid(), "VmHWM:") / 1024.0, peak_in_flight.load(),
      s.settle_latency_p50_us() / 1000.0, s.settle_latency_p99_us() / 1000.0,
      s.settle_latency_max_us() / 1000.0);
  std::fflush(stdout);
  (void)router->Terminate(absl::Seconds(10));
  (void)ledger->Terminate(absl::Seconds(10));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return settled == total ? 0 : 1;
}
