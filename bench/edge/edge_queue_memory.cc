// Memory held per payment while the router is unreachable: enqueues N payments into a
// RouterStream whose router does not exist and reports the RSS growth per payment.
//   edge_queue_memory --payments=100000
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "edge/router_stream.h"

ABSL_FLAG(int, payments, 100000, "payments to hold");

namespace {
long RssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}
}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int n = absl::GetFlag(FLAGS_payments);
  auto channel = grpc::CreateChannel("unix:/nonexistent/edge_queue_memory.sock",
                                     grpc::InsecureChannelCredentials());
  rinha::edge::RouterStream::Options options;
  options.max_pending = static_cast<size_t>(n);
  auto started = rinha::edge::RouterStream::Start(channel, options);
  if (!started.ok()) return 1;
  auto stream = *std::move(started);
  const long before = RssKb();
  for (int i = 0; i < n; ++i) {
    rinha::v1::Payment p;
    p.set_correlation_id(absl::StrFormat("00000000-0000-4000-8000-%012x", i));
    p.set_amount_cents(2005);
    p.set_accepted_at_ms(1752582896000 + i);
    if (!stream->Enqueue(std::move(p))) {
      std::printf("refused at %d\n", i);
      return 1;
    }
  }
  const long after = RssKb();
  rinha::v1::Payment extra;
  const bool refused = !stream->Enqueue(extra);
  std::printf("held %d payments: RSS +%ld KiB = %.0f bytes/payment; payment %d+1 refused: %s\n", n,
              after - before, 1024.0 * static_cast<double>(after - before) / n, n,
              refused ? "yes" : "NO");
  stream->Shutdown(absl::ZeroDuration());
  return 0;
}
