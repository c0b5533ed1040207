// rinha-hostile: misbehaving clients against the backend, beside the contest's valid load.
//   rinha-hostile --target=127.0.0.1:9999 --attack='slow-head:conns=500;invalid:conns=8,rate=2000'
//                 [--duration_s=0 (until SIGTERM/SIGINT)] [--out=attack.json]
// Attacks (contest/hostile/attack.h): slow-head, slow-body, half-open, idle, big-head, big-body,
// invalid, reset, surge. Only a surge creates payments (valid ones, logged with --requests_out).
// At the end: one line per attack on stdout and, with --out, the same as JSON.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "contest/hostile/hostile_engine.h"

ABSL_FLAG(std::string, target, "127.0.0.1:9999", "host:port (or http://host:port) to attack");
ABSL_FLAG(std::string, attack, "",
          "MODE[:key=value,...], several separated by ';' (they run at once)");
ABSL_FLAG(int64_t, duration_s, 0, "seconds to attack; 0 = until SIGTERM or SIGINT");
ABSL_FLAG(std::string, out, "", "write the per-attack counts as JSON here");
ABSL_FLAG(std::string, requests_out, "",
          "write a line per surge payment here, as rinha-load --requests_out does (start_us "
          "latency_us status correlation_id), for rinha-check");

namespace {

std::string ResponsesText(const rinha::contest::AttackStats& s) {
  std::vector<std::string> parts;
  for (const auto& [status, count] : s.responses) parts.push_back(absl::StrCat(status, ":", count));
  return parts.empty() ? "-" : absl::StrJoin(parts, ",");
}

std::string Json(const std::string& target, const std::vector<rinha::contest::AttackStats>& all) {
  std::string out = absl::StrCat("{\"target\": \"", target, "\", \"attacks\": [");
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& s = all[i];
    std::vector<std::string> responses;
    for (const auto& [status, count] : s.responses) {
      responses.push_back(absl::StrCat("\"", status, "\": ", count));
    }
    absl::StrAppend(
        &out, i ? ",\n  " : "\n  ",
        absl::StrFormat(
            "{\"spec\": \"%s\", \"opened\": %d, \"connect_errors\": %d, \"requests\": %d, "
            "\"bytes_sent\": %d, \"server_closed\": %d, \"server_reset\": %d, "
            "\"resets_sent\": %d, \"skipped\": %d, \"open_at_end\": %d, "
            "\"lifetime_p50_ms\": %.1f, \"lifetime_max_ms\": %.1f, \"ok\": %d, "
            "\"timeouts\": %d, \"ok_p50_ms\": %.3f, \"ok_p99_ms\": %.3f, \"responses\": {%s}}",
            s.spec, s.opened, s.connect_errors, s.requests, s.bytes_sent, s.server_closed,
            s.server_reset, s.resets_sent, s.skipped, s.open_at_end, s.lifetime_p50_ms,
            s.lifetime_max_ms, s.ok, s.timeouts, s.ok_p50_ms, s.ok_p99_ms,
            absl::StrJoin(responses, ", ")));
  }
  absl::StrAppend(&out, "\n]}\n");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  rinha::contest::HostileOptions options;
  std::string target = absl::GetFlag(FLAGS_target);
  if (target.rfind("http://", 0) == 0) target = target.substr(7);
  while (!target.empty() && target.back() == '/') target.pop_back();
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(target.substr(colon + 1), &options.port)) {
    std::fprintf(stderr, "rinha-hostile: --target must be host:port, got '%s'\n", target.c_str());
    return 2;
  }
  options.host = target.substr(0, colon);
  for (const std::string& text :
       std::vector<std::string>(absl::StrSplit(absl::GetFlag(FLAGS_attack), ';'))) {
    if (text.empty()) continue;
    absl::StatusOr<rinha::contest::AttackSpec> spec = rinha::contest::ParseAttack(text);
    if (!spec.ok()) {
      std::fprintf(stderr, "rinha-hostile: %s\n", std::string(spec.status().message()).c_str());
      return 2;
    }
    options.attacks.push_back(*spec);
  }
  absl::StatusOr<std::unique_ptr<rinha::contest::HostileEngine>> engine =
      rinha::contest::HostileEngine::Create(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "rinha-hostile: %s\n", std::string(engine.status().message()).c_str());
    return 2;
  }
  std::thread([stop_signals, e = engine->get()] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    e->Stop();
  }).detach();
  std::printf("rinha-hostile: %zu attack(s) on %s\n", options.attacks.size(), target.c_str());
  std::fflush(stdout);
  (*engine)->Run(absl::GetFlag(FLAGS_duration_s) * 1000);
  const std::vector<rinha::contest::AttackStats> stats = (*engine)->Stats();
  for (const auto& s : stats) {
    std::printf(
        "rinha-hostile: %s opened=%lld connect_errors=%lld requests=%lld server_closed=%lld "
        "server_reset=%lld resets_sent=%lld skipped=%lld open_at_end=%lld lifetime p50=%.0fms "
        "max=%.0fms ok=%lld timeouts=%lld ok_p99=%.2fms responses=%s\n",
        s.spec.c_str(), static_cast<long long>(s.opened), static_cast<long long>(s.connect_errors),
        static_cast<long long>(s.requests), static_cast<long long>(s.server_closed),
        static_cast<long long>(s.server_reset), static_cast<long long>(s.resets_sent),
        static_cast<long long>(s.skipped), static_cast<long long>(s.open_at_end), s.lifetime_p50_ms,
        s.lifetime_max_ms, static_cast<long long>(s.ok), static_cast<long long>(s.timeouts),
        s.ok_p99_ms, ResponsesText(s).c_str());
  }
  const std::string requests_out = absl::GetFlag(FLAGS_requests_out);
  if (!requests_out.empty()) {
    std::ofstream log(requests_out);
    for (const rinha::contest::SurgeRecord& r : (*engine)->surge_log()) {
      log << r.start_us << ' ' << r.latency_us << ' ' << r.status << ' '
          << std::string(r.id, sizeof(r.id)) << '\n';
    }
    if (!log) {
      std::fprintf(stderr, "rinha-hostile: cannot write %s\n", requests_out.c_str());
      return 1;
    }
  }
  const std::string out = absl::GetFlag(FLAGS_out);
  if (!out.empty()) {
    std::ofstream file(out);
    file << Json(target, stats);
    if (!file) {
      std::fprintf(stderr, "rinha-hostile: cannot write %s\n", out.c_str());
      return 1;
    }
  }
  return 0;
}
