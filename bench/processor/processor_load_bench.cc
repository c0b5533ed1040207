// Open-loop load client for the payment-processor emulator.
//
// Sends POST /payments at a fixed rate over keep-alive connections (a new connection only when
// every open one is busy), measures each latency from the request's *scheduled* send time with a
// monotonic clock (so a slow client or server cannot hide queueing), and reports the rate
// achieved, latency p50/p99/max, its own CPU, and the emulator's CPU time and peak RSS read from
// /proc/<pid>. By default it starts the emulator itself on port 0.
//
//   processor_load_bench --rate=600 --duration_s=20 --delay_ms=1000 --processor_threads=1600
//   processor_load_bench --port=8001 --pid=<emulator pid>     (an emulator already running)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/http1_response.h"
#include "httplib.h"

ABSL_FLAG(int, rate, 600, "requests per second (open loop)");
ABSL_FLAG(int, duration_s, 20, "seconds of load");
ABSL_FLAG(int, delay_ms, 1000, "delay configured on the emulator before the run");
ABSL_FLAG(int, max_connections, 2000, "connections the client may open");
ABSL_FLAG(int, port, 0, "emulator port; 0 starts the emulator binary on a free port");
ABSL_FLAG(int, pid, 0, "emulator pid for CPU/RSS when --port is given");
ABSL_FLAG(int, processor_threads, 1600, "--threads (worker cap) for the emulator it starts");
ABSL_FLAG(int, idle_s, 5,
          "after the load, keep the connections open and idle this long and report the "
          "emulator's CPU meanwhile (about 0 with the epoll front; the former cpp-httplib "
          "front polled each idle keep-alive connection)");

extern char** environ;

namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

struct ProcStats {
  double cpu_s = 0;    // utime + stime
  int64_t hwm_kb = 0;  // VmHWM: peak RSS
  int64_t rss_kb = 0;  // VmRSS
  int threads = 0;
};

ProcStats ReadProc(int pid) {
  ProcStats stats;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  if (fields.size() > 13) {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    stats.cpu_s = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
  }
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  while (std::getline(status, line)) {
    std::istringstream in(line);
    std::string key;
    int64_t value = 0;
    in >> key >> value;
    if (key == "VmHWM:") stats.hwm_kb = value;
    if (key == "VmRSS:") stats.rss_kb = value;
    if (key == "Threads:") stats.threads = static_cast<int>(value);
  }
  return stats;
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Starts the emulator and reads its "listening port=N" line.
pid_t SpawnProcessor(int threads, int* port) {
  int out[2];
  if (pipe(out) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args = {PAYMENT_PROCESSOR_BINARY, "--listen=127.0.0.1:0",
                                   absl::StrCat("--threads=", threads)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, PAYMENT_PROCESSOR_BINARY, &actions, nullptr, argv.data(), environ) != 0) {
    return -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  close(out[0]);
  const size_t eq = line.rfind('=');
  if (eq == std::string::npos || !absl::SimpleAtoi(line.substr(eq + 1), port)) return -1;
  return pid;
}

struct Connection {
  int fd = -1;
  bool busy = false;
  int64_t scheduled_ns = 0;
  std::string in;
};

class LoadClient {
 public:
  LoadClient(int port, int max_connections) : port_(port), max_connections_(max_connections) {
    epoll_ = epoll_create1(0);
  }
  ~LoadClient() {
    for (Connection& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
    close(epoll_);
  }

  // Runs the open-loop schedule until every answer is in (or 30 s after the last send).
  void Run(int rate, int duration_s) {
    const int64_t start = NowNs() + 10'000'000;  // first send in 10 ms
    const int64_t total = static_cast<int64_t>(rate) * duration_s;
    const double interval_ns = 1e9 / rate;
    int64_t next = 0;
    std::vector<epoll_event> events(1024);
    while (next < total || in_flight_ > 0) {
      const int64_t now = NowNs();
      while (next < total && start + static_cast<int64_t>(next * interval_ns) <= now) {
        Send(start + static_cast<int64_t>(next * interval_ns), next);
        ++next;
      }
      int timeout_ms = 100;
      if (next < total) {
        const int64_t due = start + static_cast<int64_t>(next * interval_ns) - NowNs();
        timeout_ms = static_cast<int>(std::max<int64_t>(0, due / 1'000'000));
      }
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout_ms);
      for (int i = 0; i < n; ++i) OnReadable(static_cast<int>(events[i].data.u32));
      if (next >= total &&
          NowNs() - start > (static_cast<int64_t>(duration_s) + 30) * 1'000'000'000) {
        break;  // stragglers beyond 30 s count as lost
      }
    }
  }

  std::vector<int64_t> latencies_ns;
  int64_t ok = 0, non_200 = 0, errors = 0, send_late = 0, connections_opened = 0;
  int64_t max_in_flight = 0;

 private:
  int Connect() {
    if (static_cast<int>(conns_.size()) >= max_connections_) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const int index = static_cast<int>(conns_.size());
    conns_.push_back(Connection{fd});
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(index);
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    ++connections_opened;
    return index;
  }

  void Send(int64_t scheduled_ns, int64_t n) {
    if (NowNs() - scheduled_ns > 1'000'000) ++send_late;  // the client itself was > 1 ms late
    int index = -1;
    while (!idle_.empty() && index < 0) {
      index = idle_.back();
      idle_.pop_back();
      if (conns_[index].fd < 0) index = -1;
    }
    if (index < 0) index = Connect();
    if (index < 0) {
      ++errors;
      return;
    }
    Connection& c = conns_[index];
    const std::string body =
        absl::StrFormat(R"({"correlationId":"%08x-0000-4000-8000-%012x","amount":20.05,)"
                        R"("requestedAt":"2025-07-15T12:34:56.000Z"})",
                        run_id_, n);
    const std::string request = absl::StrCat(
        "POST /payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: ",
        body.size(), "\r\n\r\n", body);
    // Requests are small: one blocking write on an otherwise idle keep-alive connection.
    if (write(c.fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      ++errors;
      Drop(index);
      return;
    }
    c.busy = true;
    c.scheduled_ns = scheduled_ns;
    ++in_flight_;
    max_in_flight = std::max(max_in_flight, in_flight_);
  }

  void OnReadable(int index) {
    Connection& c = conns_[index];
    char buf[4096];
    const ssize_t got = read(c.fd, buf, sizeof(buf));
    if (got <= 0) {
      if (c.busy) {
        ++errors;
        --in_flight_;
      }
      Drop(index);
      return;
    }
    c.in.append(buf, static_cast<size_t>(got));
    // Framed as any client must read it: Content-Length or chunked (the emulator answers JSON
    // chunked, as the official processor's Kestrel does).
    rinha::Http1Response response;
    bool malformed = false;
    if (!rinha::ParseHttp1Response(c.in, false, &response, &malformed)) {
      if (!malformed) return;
      ++errors;
      --in_flight_;
      Drop(index);
      return;
    }
    latencies_ns.push_back(NowNs() - c.scheduled_ns);
    if (response.status == 200) {
      ++ok;
    } else {
      ++non_200;
    }
    c.in.clear();
    c.busy = false;
    --in_flight_;
    idle_.push_back(index);
  }

  void Drop(int index) {
    Connection& c = conns_[index];
    if (c.fd >= 0) {
      epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
    }
    c.fd = -1;
    c.busy = false;
  }

  const int port_;
  const int max_connections_;
  const uint32_t run_id_ = static_cast<uint32_t>(NowNs());
  int epoll_ = -1;
  std::vector<Connection> conns_;
  std::vector<int> idle_;
  int64_t in_flight_ = 0;
};

double Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);

  int port = absl::GetFlag(FLAGS_port);
  int pid = absl::GetFlag(FLAGS_pid);
  pid_t spawned = -1;
  if (port == 0) {
    spawned = SpawnProcessor(absl::GetFlag(FLAGS_processor_threads), &port);
    if (spawned < 0) {
      std::fprintf(stderr, "cannot start %s\n", PAYMENT_PROCESSOR_BINARY);
      return 1;
    }
    pid = spawned;
  }

  httplib::Client admin("127.0.0.1", port);
  const httplib::Headers token = {{"X-Rinha-Token", "123"}};
  admin.Post("/admin/purge-payments", token, "", "application/json");
  auto delay = admin.Put("/admin/configurations/delay", token,
                         absl::StrCat(R"({"delay":)", absl::GetFlag(FLAGS_delay_ms), "}"),
                         "application/json");
  if (!delay || delay->status != 200) {
    std::fprintf(stderr, "cannot configure the delay on port %d\n", port);
    return 1;
  }

  const ProcStats before = pid > 0 ? ReadProc(pid) : ProcStats{};
  const double self_before = SelfCpuSeconds();
  const int64_t t0 = NowNs();
  auto client_owner = std::make_unique<LoadClient>(port, absl::GetFlag(FLAGS_max_connections));
  LoadClient& client = *client_owner;
  client.Run(absl::GetFlag(FLAGS_rate), absl::GetFlag(FLAGS_duration_s));
  const double wall_s = static_cast<double>(NowNs() - t0) / 1e9;
  const ProcStats after = pid > 0 ? ReadProc(pid) : ProcStats{};
  const double self_cpu = SelfCpuSeconds() - self_before;

  double idle_cpu_s = 0;
  const int idle_s = absl::GetFlag(FLAGS_idle_s);
  if (pid > 0 && idle_s > 0) {
    const ProcStats idle_before = ReadProc(pid);
    absl::SleepFor(absl::Seconds(idle_s));
    idle_cpu_s = ReadProc(pid).cpu_s - idle_before.cpu_s;
  }

  auto summary = admin.Get("/admin/payments-summary", token);
  std::vector<int64_t>& lat = client.latencies_ns;
  const double load_s = absl::GetFlag(FLAGS_duration_s);
  std::printf("rate target %d/s for %.0f s, delay %d ms, emulator threads %d\n",
              absl::GetFlag(FLAGS_rate), load_s, absl::GetFlag(FLAGS_delay_ms), after.threads);
  std::printf("answers: %lld (200: %lld, other: %lld), errors %lld, achieved %.1f req/s\n",
              static_cast<long long>(lat.size()), static_cast<long long>(client.ok),
              static_cast<long long>(client.non_200), static_cast<long long>(client.errors),
              static_cast<double>(lat.size()) / load_s);
  std::printf("latency ms from scheduled send: p50 %.2f  p99 %.2f  max %.2f\n",
              Percentile(lat, 0.50), Percentile(lat, 0.99), Percentile(lat, 1.0));
  std::printf("connections opened %lld, max in flight %lld, sends > 1 ms late %lld\n",
              static_cast<long long>(client.connections_opened),
              static_cast<long long>(client.max_in_flight),
              static_cast<long long>(client.send_late));
  std::printf("client CPU %.2f s over %.1f s wall (%.1f%% of a core)\n", self_cpu, wall_s,
              100 * self_cpu / wall_s);
  if (pid > 0) {
    std::printf(
        "emulator CPU %.2f s over %.1f s wall (%.1f%% of a core), peak RSS %lld KiB,"
        " RSS now %lld KiB\n",
        after.cpu_s - before.cpu_s, wall_s, 100 * (after.cpu_s - before.cpu_s) / wall_s,
        static_cast<long long>(after.hwm_kb), static_cast<long long>(after.rss_kb));
  }
  if (pid > 0 && idle_s > 0) {
    std::printf("emulator CPU with those %lld connections idle: %.1f%% of a core over %d s\n",
                static_cast<long long>(client.connections_opened), 100 * idle_cpu_s / idle_s,
                idle_s);
  }
  if (summary) std::printf("emulator summary: %s\n", summary->body.c_str());

  client_owner.reset();  // closes the keep-alive connections so the emulator stops at once
  if (spawned > 0) {
    kill(spawned, SIGTERM);
    int status = 0;
    waitpid(spawned, &status, 0);
  }
  return 0;
}
