// null-responder: the contest's HTTP API answering at once and storing nothing (floor runs).
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/host_port.h"
#include "common/stop_signal.h"
#include "contest/runner/null_responder.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "IPv4 host:port (port 0 = any free port)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  rinha::BlockStopSignals();

  std::string host;
  int port = 0;
  if (!rinha::ParseHostPort(absl::GetFlag(FLAGS_listen), &host, &port).ok()) {
    std::fprintf(stderr, "null-responder: --listen must be host:port\n");
    return 2;
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  auto server = rinha::contest::NullResponder::Start(host, port);
  if (!server.ok()) {
    std::fprintf(stderr, "null-responder: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("null-responder listening port=%d\n", (*server)->port());
  std::fflush(stdout);
  rinha::WaitForStopSignal();
  (*server)->Shutdown();
  return 0;
}
