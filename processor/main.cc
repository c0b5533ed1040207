// payment-processor: one emulated payment processor per process. Reads flags (or PROCESSOR_*
// environment variables for flags not given on the command line), serves until SIGTERM/SIGINT.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/fee_rate.h"
#include "common/host_port.h"
#include "common/log.h"
#include "common/stop_signal.h"
#include "processor/fault.h"
#include "processor/processor_server.h"

// Defaults come from the option structs, so each is written once; --listen's is the deployment
// address (the struct's suits tests) and the shutdown grace has no struct field.
using rinha::processor::ProcessorOptions;
using rinha::processor::ServerOptions;

ABSL_FLAG(std::string, listen, "0.0.0.0:8080", "host:port to listen on (port 0: any free port)");
ABSL_FLAG(std::string, fee, rinha::FormatFeeRate(ProcessorOptions().fee),
          "fee rate (feePerTransaction), e.g. 0.07");
ABSL_FLAG(std::string, token, ProcessorOptions().token,
          "initial X-Rinha-Token for the admin endpoints");
ABSL_FLAG(int64_t, health_window_ms, absl::ToInt64Milliseconds(ProcessorOptions().health_window),
          "service-health rate-limit window");
ABSL_FLAG(int64_t, initial_delay_ms, ProcessorOptions().initial_delay_ms,
          "initial delay applied to POST /payments");
ABSL_FLAG(bool, initial_failure, ProcessorOptions().initial_failure,
          "start in failure mode (POST /payments answers 500)");
ABSL_FLAG(int32_t, max_in_flight, ProcessorOptions().max_in_flight,
          "concurrency limiter: requests in flight");
ABSL_FLAG(int32_t, max_queued, ProcessorOptions().max_queued,
          "concurrency limiter: requests queued (beyond -> 429)");
ABSL_FLAG(int32_t, threads, ServerOptions().threads,
          "cap on requests being handled (worker threads, started on demand); a waiting request "
          "holds one, so cover in-flight + queued + health/admin; beyond it: 429 Retry-After: 5");
ABSL_FLAG(int32_t, keep_alive_timeout_s, ServerOptions().keep_alive_timeout_s,
          "idle keep-alive connections are closed after this");
ABSL_FLAG(int32_t, listen_backlog, ServerOptions().listen_backlog, "listen(2) backlog");
ABSL_FLAG(std::string, fault, "",
          "fault mode from the start, the JSON of PUT /admin/configurations/fault, e.g. "
          "{\"mode\":\"reset\",\"probability\":0.1}; empty: none");
ABSL_FLAG(int64_t, shutdown_grace_ms, 2000,
          "on SIGTERM, wait this long for connections to finish, then exit anyway");

namespace {

constexpr const char* kEnvFlags[] = {"listen",
                                     "fee",
                                     "token",
                                     "health_window_ms",
                                     "initial_delay_ms",
                                     "initial_failure",
                                     "max_in_flight",
                                     "max_queued",
                                     "threads",
                                     "keep_alive_timeout_s",
                                     "listen_backlog",
                                     "fault",
                                     "shutdown_grace_ms"};

// PROCESSOR_<FLAG> becomes the flag's value; the command line, parsed afterwards, wins.
void ApplyEnvironment() {
  for (const char* name : kEnvFlags) {
    const std::string env = absl::StrCat("PROCESSOR_", absl::AsciiStrToUpper(name));
    const char* value = std::getenv(env.c_str());
    if (value == nullptr) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    std::string error;
    if (flag == nullptr || !flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "invalid %s=%s: %s\n", env.c_str(), value, error.c_str());
      std::exit(2);
    }
  }
}

// Each connection is a file descriptor: the soft limit (often 1024) would cap connections.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ApplyEnvironment();
  absl::ParseCommandLine(argc, argv);
  RaiseFileLimit();

  const std::string listen = absl::GetFlag(FLAGS_listen);
  std::string host;
  int port = -1;
  if (!rinha::ParseHostPort(listen, &host, &port).ok()) {
    std::fprintf(stderr, "--listen must be host:port, got %s\n", listen.c_str());
    return 2;
  }
  absl::StatusOr<rinha::FeeRate> fee = rinha::ParseFeeRate(absl::GetFlag(FLAGS_fee));
  if (!fee.ok()) {
    std::fprintf(stderr, "--fee: %s\n", std::string(fee.status().message()).c_str());
    return 2;
  }

  rinha::processor::Fault fault;
  if (const std::string json = absl::GetFlag(FLAGS_fault); !json.empty()) {
    absl::StatusOr<rinha::processor::Fault> parsed = rinha::processor::ParseFault(json);
    if (!parsed.ok()) {
      std::fprintf(stderr, "--fault: %s\n", std::string(parsed.status().message()).c_str());
      return 2;
    }
    fault = *parsed;
  }

  rinha::processor::ServerOptions options;
  options.host = host;
  options.port = port;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.listen_backlog = absl::GetFlag(FLAGS_listen_backlog);
  options.keep_alive_timeout_s = absl::GetFlag(FLAGS_keep_alive_timeout_s);
  options.processor.fee = *fee;
  options.processor.token = absl::GetFlag(FLAGS_token);
  options.processor.initial_delay_ms = absl::GetFlag(FLAGS_initial_delay_ms);
  options.processor.initial_failure = absl::GetFlag(FLAGS_initial_failure);
  options.processor.health_window = absl::Milliseconds(absl::GetFlag(FLAGS_health_window_ms));
  options.processor.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  options.processor.max_queued = absl::GetFlag(FLAGS_max_queued);
  options.processor.initial_fault = fault;

  rinha::BlockStopSignals();  // before any thread exists

  auto server = rinha::processor::ProcessorServer::Start(rinha::RealClock::Get(), options);
  if (!server.ok()) {
    RINHA_LOG_ERROR("payment-processor: %s", server.status().ToString());
    return 1;
  }
  std::printf("payment-processor listening port=%d\n", (*server)->port());
  std::fflush(stdout);
  RINHA_LOG_INFO("payment-processor on %s:%d fee=%s threads=%d fault=%s", options.host,
                 (*server)->port(), rinha::FormatFeeRate(*fee), options.threads,
                 rinha::processor::FaultJson(fault));

  const int signal_number = rinha::WaitForStopSignal();
  RINHA_LOG_INFO("payment-processor: signal %d, stopping", signal_number);

  // Stop() closes idle connections at once; waiting requests give up within the service's
  // shutdown poll. Nothing is persisted, so after the grace period exiting anyway loses nothing.
  std::promise<void> stopped;
  std::future<void> stopped_future = stopped.get_future();
  std::thread stopper([&] {
    (*server)->Stop();
    stopped.set_value();
  });
  if (stopped_future.wait_for(std::chrono::milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms))) !=
      std::future_status::ready) {
    RINHA_LOG_WARNING("payment-processor: connections still open after grace period, exiting");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  stopper.join();
  return 0;
}
