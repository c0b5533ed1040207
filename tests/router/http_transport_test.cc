// HttpTransport against raw sockets on port 0 that the test drives by hand (accept, read the
// request, then answer, reset, close or keep silent), and with a fake resolver and a fake clock:
// every outcome class the settlement state machine relies on (router_core.h), the keep-alive
// pool's stale connections, deadlines, and how processor names are looked up off the loop. The
// emulator's fault modes are in http_transport_fault_test.cc.
#include "router/http_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/wait.h"

namespace rinha::router {
namespace {

std::string Id(int n) { return absl::StrFormat("7a3c0000-0000-4000-8000-%012d", n); }

in_addr Ip(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return a;
}

constexpr char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
constexpr char kUnusedFallback[] = "http://127.0.0.1:1";
constexpr char kOkClose[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

// Answers lookups when the test says so, on the test's thread; counts what it was asked.
class FakeResolver final : public Resolver {
 public:
  void Resolve(std::string name, Done done) override {
    std::lock_guard<std::mutex> lock(mu_);
    names_.push_back(std::move(name));
    pending_.push_back(std::move(done));
  }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(names_.size());
  }
  std::string last_name() {
    std::lock_guard<std::mutex> lock(mu_);
    return names_.empty() ? "" : names_.back();
  }
  // Answers the oldest pending lookup; false when none is pending.
  bool Answer(absl::StatusOr<in_addr> address) {
    Done done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.empty()) return false;
      done = std::move(pending_.front());
      pending_.pop_front();
    }
    done(std::move(address));
    return true;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> names_;
  std::deque<Done> pending_;
};

// A listening socket (non-blocking) on `ip`, port 0 unless given.
class Listener {
 public:
  explicit Listener(const char* ip = "127.0.0.1", int port = 0, int backlog = 16) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr = Ip(ip);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd_, backlog) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  int port() const { return port_; }
  // A connection waiting to be accepted, or -1.
  int TryAccept() { return accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port bound on `ip` where nothing listens: a connect to it is refused, and no other socket
// can take the port while this one holds it.
class RefusingPort {
 public:
  explicit RefusingPort(const char* ip = "127.0.0.1", int port = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr = Ip(ip);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~RefusingPort() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The server's end of one accepted connection (non-blocking).
class ServerConn {
 public:
  explicit ServerConn(int fd) : fd_(fd) {}
  ~ServerConn() { Close(); }
  ServerConn(const ServerConn&) = delete;
  ServerConn& operator=(const ServerConn&) = delete;

  int fd() const { return fd_; }
  // Reads what arrived; true once a whole request (head and Content-Length body) is in.
  bool ReadRequest() {
    char buffer[4096];
    ssize_t n;
    while ((n = recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT)) > 0) {
      request_.append(buffer, static_cast<size_t>(n));
    }
    const size_t head_end = request_.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    size_t length = 0;
    const size_t at = request_.find("Content-Length: ");
    if (at != std::string::npos && at < head_end) length = std::stoul(request_.substr(at + 16));
    return request_.size() >= head_end + 4 + length;
  }
  const std::string& request() const { return request_; }
  void ForgetRequest() { request_.clear(); }
  void Send(const std::string& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Aborts the connection: RST instead of FIN.
  void Reset() {
    linger l{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    Close();
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  std::string request_;
};

// The TCP state of a socket (TCP_ESTABLISHED, TCP_FIN_WAIT2, ...).
int TcpState(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len);
  return info.tcpi_state;
}

class HttpTransportTest : public ::testing::Test {
 protected:
  // The default processor at host:port; the fallback (unused) an IP literal, so that every lookup
  // the resolver sees is the default's.
  void MakeTransport(const std::string& host, int port) {
    const std::string url = absl::StrCat("http://", host, ":", port);
    auto transport =
        HttpTransport::Create(url, kUnusedFallback, timeouts_, resolve_, resolver_, clock_);
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = *std::move(transport);
  }

  // One Poll of the transport (up to 5 ms), keeping every outcome it delivers.
  void PollOnce() {
    transport_->Poll(5, [&](uint64_t token, const HttpOutcome& o) { outcomes_[token] = o; });
  }
  // Polls the transport until `done` or 10 s (real time).
  bool PumpUntil(const std::function<bool()>& done) {
    return testing::WaitUntil(
        [&] {
          PollOnce();
          return done();
        },
        absl::Seconds(10), absl::ZeroDuration());
  }

  uint64_t Post() {
    const uint64_t token = next_token_++;
    transport_->PostPayment(token, Target::kDefault, PaymentRequestBody(Id(token), 1990, 0));
    return token;
  }
  HttpOutcome Await(uint64_t token) {
    EXPECT_TRUE(PumpUntil([&] { return outcomes_.contains(token); })) << "token " << token;
    return outcomes_.count(token) ? outcomes_[token]
                                  : HttpOutcome{HttpOutcome::Kind::kResponse, -1, "none"};
  }
  // The outcome delivered by the first Poll after the call: for requests that must fail at once.
  std::optional<HttpOutcome> FirstPoll(uint64_t token) {
    transport_->Poll(0, [&](uint64_t t, const HttpOutcome& o) { outcomes_[t] = o; });
    if (!outcomes_.count(token)) return std::nullopt;
    return outcomes_[token];
  }
  // Accepts the transport's next connection and reads its request, polling meanwhile.
  std::unique_ptr<ServerConn> AcceptRequest(Listener& listener) {
    int fd = -1;
    if (!PumpUntil([&] { return (fd = listener.TryAccept()) >= 0; })) return nullptr;
    auto conn = std::make_unique<ServerConn>(fd);
    if (!PumpUntil([&] { return conn->ReadRequest(); })) return nullptr;
    return conn;
  }
  // One full exchange on a new connection at `listener`, answered with `answer`.
  HttpOutcome Exchange(Listener& listener, const std::string& answer) {
    const uint64_t token = Post();
    std::unique_ptr<ServerConn> conn = AcceptRequest(listener);
    EXPECT_NE(conn, nullptr);
    if (conn == nullptr) return HttpOutcome{HttpOutcome::Kind::kResponse, -1, "not accepted"};
    conn->Send(answer);
    return Await(token);
  }

  testing::FakeClock clock_;
  FakeResolver resolver_;
  Timeouts timeouts_;
  ResolveConfig resolve_;
  std::unique_ptr<HttpTransport> transport_;
  std::map<uint64_t, HttpOutcome> outcomes_;
  uint64_t next_token_ = 1;
};

// ---- outcome classes ----

TEST_F(HttpTransportTest, ACompleteAnswerIsAResponseAndItsConnectionIsKept) {
  Listener listener;
  ASSERT_TRUE(listener.ok());
  MakeTransport("127.0.0.1", listener.port());
  const uint64_t token = Post();
  std::unique_ptr<ServerConn> conn = AcceptRequest(listener);
  ASSERT_NE(conn, nullptr);
  EXPECT_TRUE(conn->request().starts_with("POST /payments HTTP/1.1\r\n")) << conn->request();
  EXPECT_NE(conn->request().find(absl::StrCat("Host: 127.0.0.1:", listener.port(), "\r\n")),
            std::string::npos);
  EXPECT_NE(conn->request().find(Id(token)), std::string::npos);
  conn->Send(kOk);
  const HttpOutcome o = Await(token);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
  EXPECT_EQ(o.body, "ok");
  EXPECT_EQ(transport_->open_connections(), 1);
  EXPECT_EQ(transport_->in_flight(), 0);
}

TEST_F(HttpTransportTest, ARefusedConnectIsNotSent) {
  RefusingPort port;
  ASSERT_TRUE(port.ok());
  MakeTransport("127.0.0.1", port.port());
  EXPECT_EQ(Await(Post()).kind, HttpOutcome::Kind::kConnectFailed);
  EXPECT_EQ(transport_->open_connections(), 0);
}

TEST_F(HttpTransportTest, AResetAfterTheRequestWasWrittenIsAmbiguous) {
  Listener listener;
  MakeTransport("127.0.0.1", listener.port());
  const uint64_t token = Post();
  std::unique_ptr<ServerConn> conn = AcceptRequest(listener);
  ASSERT_NE(conn, nullptr);
  conn->Reset();
  EXPECT_EQ(Await(token).kind, HttpOutcome::Kind::kConnectionLost);
  EXPECT_EQ(transport_->open_connections(), 0);
}

TEST_F(HttpTransportTest, NoAnswerBeforeThePaymentDeadlineIsATimeoutAndNotEarlier) {
  Listener listener;
  MakeTransport("127.0.0.1", listener.port());
  const uint64_t token = Post();
  std::unique_ptr<ServerConn> conn = AcceptRequest(listener);  // sent; never answered
  ASSERT_NE(conn, nullptr);
  clock_.Advance(absl::Milliseconds(timeouts_.payment_ms - 1));
  for (int i = 0; i < 3; ++i) PollOnce();
  EXPECT_FALSE(outcomes_.contains(token));
  clock_.Advance(absl::Milliseconds(1));
  PollOnce();
  ASSERT_TRUE(outcomes_.contains(token));
  EXPECT_EQ(outcomes_[token].kind, HttpOutcome::Kind::kTimeout);
  EXPECT_EQ(transport_->open_connections(), 0);  // a late answer must not be read as the next's
}

TEST_F(HttpTransportTest, EachKindOfCallHasItsOwnDeadline) {
  Listener listener;
  MakeTransport("127.0.0.1", listener.port());
  ASSERT_LT(timeouts_.lookup_ms, timeouts_.payment_ms);
  ASSERT_LT(timeouts_.payment_ms, timeouts_.health_ms);
  const uint64_t post = Post();
  transport_->GetPayment(100, Target::kDefault, Id(1));
  transport_->GetHealth(200, Target::kDefault);
  std::vector<std::unique_ptr<ServerConn>> conns;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(AcceptRequest(listener));
    ASSERT_NE(conns.back(), nullptr);
  }
  clock_.Advance(absl::Milliseconds(timeouts_.lookup_ms));
  PollOnce();
  EXPECT_EQ(outcomes_.size(), 1u);
  EXPECT_EQ(outcomes_[100].kind, HttpOutcome::Kind::kTimeout);
  clock_.Advance(absl::Milliseconds(timeouts_.payment_ms - timeouts_.lookup_ms));
  PollOnce();
  EXPECT_EQ(outcomes_.size(), 2u);
  EXPECT_EQ(outcomes_[post].kind, HttpOutcome::Kind::kTimeout);
  clock_.Advance(absl::Milliseconds(timeouts_.health_ms - timeouts_.payment_ms));
  PollOnce();
  EXPECT_EQ(outcomes_.size(), 3u);
  EXPECT_EQ(outcomes_[200].kind, HttpOutcome::Kind::kTimeout);
}

// A listener whose accept queue is full drops every SYN (Linux), on loopback as anywhere: the
// connect neither completes nor fails until the transport's connect timeout.
TEST_F(HttpTransportTest, AConnectThatCannotCompleteFailsAtTheConnectTimeoutAsNotSent) {
  Listener listener("127.0.0.1", 0, /*backlog=*/0);
  ASSERT_TRUE(listener.ok());
  std::vector<int> fillers;
  auto queue_full = [&] {
    tcp_info info{};
    socklen_t len = sizeof(info);
    getsockopt(listener.fd(), IPPROTO_TCP, TCP_INFO, &info, &len);
    return info.tcpi_unacked > info.tcpi_sacked;  // queued > backlog (sk_acceptq_is_full)
  };
  for (int i = 0; i < 8 && !queue_full(); ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fillers.push_back(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr = Ip("127.0.0.1");
    a.sin_port = htons(static_cast<uint16_t>(listener.port()));
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) break;
    testing::WaitUntil(queue_full, absl::Seconds(2));
  }
  if (!queue_full()) {
    for (int fd : fillers) close(fd);
    GTEST_SKIP() << "could not fill the accept queue";
  }
  MakeTransport("processor.test", listener.port());  // a name: the failure also looks it up
  ASSERT_TRUE(resolver_.Answer(Ip("127.0.0.1")));
  PollOnce();
  const uint64_t token = Post();
  for (int i = 0; i < 5; ++i) PollOnce();
  EXPECT_FALSE(outcomes_.contains(token));  // still connecting
  clock_.Advance(absl::Milliseconds(timeouts_.connect_ms - 1));
  PollOnce();
  EXPECT_FALSE(outcomes_.contains(token));
  EXPECT_EQ(resolver_.requests(), 1);
  clock_.Advance(absl::Milliseconds(1));
  PollOnce();
  ASSERT_TRUE(outcomes_.contains(token));
  EXPECT_EQ(outcomes_[token].kind, HttpOutcome::Kind::kConnectFailed);
  EXPECT_EQ(resolver_.requests(), 2);  // the processor may have moved
  EXPECT_EQ(transport_->open_connections(), 0);
  for (int fd : fillers) close(fd);
}

// ---- the keep-alive pool ----

TEST_F(HttpTransportTest, AnIdleConnectionTheServerClosedIsDroppedAndANewOneUsed) {
  Listener listener;
  MakeTransport("127.0.0.1", listener.port());
  const uint64_t first = Post();
  std::unique_ptr<ServerConn> conn = AcceptRequest(listener);
  ASSERT_NE(conn, nullptr);
  conn->Send(kOk);
  ASSERT_EQ(Await(first).status, 200);
  ASSERT_EQ(transport_->open_connections(), 1);
  conn->Close();  // while idle in the pool
  ASSERT_TRUE(PumpUntil([&] { return transport_->open_connections() == 0; }));
  const HttpOutcome o = Exchange(listener, kOk);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
}

// The server's FIN is in before the loop has looked at the pooled connection: the request must
// not be written into it (the server would never read it: reported ambiguous, or lost).
TEST_F(HttpTransportTest, AStaleIdleConnectionIsNotReusedEvenBeforeTheLoopNoticesIt) {
  Listener listener;
  MakeTransport("127.0.0.1", listener.port());
  const uint64_t first = Post();
  std::unique_ptr<ServerConn> old_conn = AcceptRequest(listener);
  ASSERT_NE(old_conn, nullptr);
  old_conn->Send(kOk);
  ASSERT_EQ(Await(first).status, 200);
  ASSERT_EQ(shutdown(old_conn->fd(), SHUT_WR), 0);
  // FIN_WAIT2: the transport's kernel acknowledged the FIN. No Poll in between.
  ASSERT_TRUE(testing::WaitUntil([&] { return TcpState(old_conn->fd()) == TCP_FIN_WAIT2; }));
  const uint64_t second = Post();
  std::unique_ptr<ServerConn> new_conn = AcceptRequest(listener);
  ASSERT_NE(new_conn, nullptr);
  new_conn->Send(kOk);
  const HttpOutcome o = Await(second);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
  // The old connection got nothing but the transport's close.
  char c;
  ssize_t n = -1;
  ASSERT_TRUE(PumpUntil([&] { return (n = recv(old_conn->fd(), &c, 1, MSG_DONTWAIT)) >= 0; }));
  EXPECT_EQ(n, 0);
}

TEST_F(HttpTransportTest, APooledConnectionClosedRightAfterReadingTheRequestIsAmbiguous) {
  Listener listener;
  MakeTransport("127.0.0.1", listener.port());
  const uint64_t first = Post();
  std::unique_ptr<ServerConn> conn = AcceptRequest(listener);
  ASSERT_NE(conn, nullptr);
  conn->Send(kOk);
  ASSERT_EQ(Await(first).status, 200);
  conn->ForgetRequest();
  const uint64_t second = Post();
  ASSERT_TRUE(PumpUntil([&] { return conn->ReadRequest(); }));  // on the pooled connection
  EXPECT_NE(conn->request().find(Id(second)), std::string::npos);
  EXPECT_LT(listener.TryAccept(), 0);  // no new connection
  conn->Close();
  EXPECT_EQ(Await(second).kind, HttpOutcome::Kind::kConnectionLost);
}

// ---- processor names ----

TEST_F(HttpTransportTest, AnIpLiteralIsNeverLookedUp) {
  Listener listener;
  MakeTransport("127.0.0.1", listener.port());
  EXPECT_EQ(Exchange(listener, kOk).status, 200);
  EXPECT_EQ(resolver_.requests(), 0);
}

TEST_F(HttpTransportTest, WhileANameHasNoAddressRequestsFailAtOnceAsNotSent) {
  Listener listener;
  MakeTransport("processor.test", listener.port());
  ASSERT_EQ(resolver_.requests(), 1);  // asked at once
  EXPECT_EQ(resolver_.last_name(), "processor.test");
  for (int i = 0; i < 3; ++i) {
    const uint64_t token = Post();
    const std::optional<HttpOutcome> o = FirstPoll(token);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->kind, HttpOutcome::Kind::kConnectFailed);
  }
  EXPECT_LT(listener.TryAccept(), 0);
  clock_.Advance(absl::Milliseconds(resolve_.min_interval_ms));
  Post();
  PollOnce();
  EXPECT_EQ(resolver_.requests(), 1);  // one lookup in progress at a time
  ASSERT_TRUE(resolver_.Answer(Ip("127.0.0.1")));
  PollOnce();
  EXPECT_EQ(Exchange(listener, kOk).status, 200);
}

TEST_F(HttpTransportTest, ALookupStuckOnTheResolversThreadNeverBlocksTheLoop) {
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
  };
  auto gate = std::make_shared<Gate>();
  GetaddrinfoResolver resolver(1, [gate](const std::string&) -> absl::StatusOr<in_addr> {
    std::unique_lock<std::mutex> lock(gate->mu);
    gate->cv.wait(lock, [&] { return gate->open; });
    return Ip("127.0.0.1");
  });
  Listener listener;
  const std::string url = absl::StrCat("http://processor.test:", listener.port());
  const absl::Time start = absl::Now();
  auto transport =
      HttpTransport::Create(url, kUnusedFallback, timeouts_, resolve_, resolver, clock_);
  ASSERT_TRUE(transport.ok());
  transport_ = *std::move(transport);
  const uint64_t token = Post();
  const std::optional<HttpOutcome> o = FirstPoll(token);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->kind, HttpOutcome::Kind::kConnectFailed);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  {
    std::lock_guard<std::mutex> lock(gate->mu);
    gate->open = true;
    gate->cv.notify_all();
  }
  // The answer wakes the loop; then requests go through.
  std::optional<HttpOutcome> answer;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const uint64_t t = Post();
        int fd = -1;
        if (!PumpUntil([&] { return outcomes_.contains(t) || (fd = listener.TryAccept()) >= 0; })) {
          return false;
        }
        if (fd < 0) return false;  // failed at once: no address yet
        ServerConn conn(fd);
        if (!PumpUntil([&] { return conn.ReadRequest(); })) return false;
        conn.Send(kOk);
        answer = Await(t);
        return true;
      },
      absl::Seconds(10), absl::ZeroDuration()));
  EXPECT_EQ(answer->status, 200);
  transport_.reset();  // before `resolver`
}

// Two addresses for one port: the processor's container came back elsewhere. Skips where the
// loopback network has no 127.0.0.2 and 127.0.0.3.
struct TwoAddresses {
  std::unique_ptr<RefusingPort> old_refusing;  // first address, nothing listening
  std::unique_ptr<Listener> old_listening;     // first address, listening
  std::unique_ptr<Listener> new_listening;     // second address, same port
  int port = 0;
};
bool MakeTwoAddresses(bool old_listens, TwoAddresses* out) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    TwoAddresses t;
    if (old_listens) {
      t.old_listening = std::make_unique<Listener>("127.0.0.2");
      if (!t.old_listening->ok()) return false;
      t.port = t.old_listening->port();
    } else {
      t.old_refusing = std::make_unique<RefusingPort>("127.0.0.2");
      if (!t.old_refusing->ok()) return false;
      t.port = t.old_refusing->port();
    }
    t.new_listening = std::make_unique<Listener>("127.0.0.3", t.port);
    if (t.new_listening->ok()) {
      *out = std::move(t);
      return true;
    }
  }
  return false;
}

TEST_F(HttpTransportTest, AfterAFailedConnectTheNameIsLookedUpAgainAndTheNewAddressUsed) {
  TwoAddresses a;
  if (!MakeTwoAddresses(/*old_listens=*/false, &a)) GTEST_SKIP() << "no 127.0.0.2/3";
  MakeTransport("processor.test", a.port);
  ASSERT_TRUE(resolver_.Answer(Ip("127.0.0.2")));
  PollOnce();
  clock_.Advance(absl::Milliseconds(resolve_.min_interval_ms));  // well within the TTL
  const uint64_t token = Post();
  EXPECT_EQ(Await(token).kind, HttpOutcome::Kind::kConnectFailed);  // refused
  ASSERT_EQ(resolver_.requests(), 2);
  ASSERT_TRUE(resolver_.Answer(Ip("127.0.0.3")));
  PollOnce();
  const HttpOutcome o = Exchange(*a.new_listening, kOk);
  EXPECT_EQ(o.kind, HttpOutcome::Kind::kResponse);
  EXPECT_EQ(o.status, 200);
}

TEST_F(HttpTransportTest, AnAddressOlderThanTheTtlIsLookedUpAgainAndServesUntilTheNewOneArrives) {
  TwoAddresses a;
  if (!MakeTwoAddresses(/*old_listens=*/true, &a)) GTEST_SKIP() << "no 127.0.0.2/3";
  MakeTransport("processor.test", a.port);
  ASSERT_TRUE(resolver_.Answer(Ip("127.0.0.2")));
  PollOnce();
  // Connection: close, so that each request connects to the address of the moment.
  EXPECT_EQ(Exchange(*a.old_listening, kOkClose).status, 200);
  clock_.Advance(absl::Milliseconds(resolve_.ttl_ms - 1));
  EXPECT_EQ(Exchange(*a.old_listening, kOkClose).status, 200);
  EXPECT_EQ(resolver_.requests(), 1);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(Exchange(*a.old_listening, kOkClose).status, 200);  // the old one, meanwhile
  ASSERT_EQ(resolver_.requests(), 2);
  ASSERT_TRUE(resolver_.Answer(Ip("127.0.0.3")));
  PollOnce();
  EXPECT_EQ(Exchange(*a.new_listening, kOkClose).status, 200);
  EXPECT_LT(a.old_listening->TryAccept(), 0);
}

TEST_F(HttpTransportTest, AFailedLookupKeepsTheLastAddressAndIsRetriedAfterTheMinimumInterval) {
  Listener listener;
  MakeTransport("processor.test", listener.port());
  ASSERT_TRUE(resolver_.Answer(Ip("127.0.0.1")));
  PollOnce();
  clock_.Advance(absl::Milliseconds(resolve_.ttl_ms));
  EXPECT_EQ(Exchange(listener, kOkClose).status, 200);
  ASSERT_EQ(resolver_.requests(), 2);
  ASSERT_TRUE(resolver_.Answer(absl::UnavailableError("SERVFAIL")));
  PollOnce();
  EXPECT_EQ(Exchange(listener, kOkClose).status, 200);  // still the last address
  EXPECT_EQ(resolver_.requests(), 2);                   // not before min_interval_ms
  clock_.Advance(absl::Milliseconds(resolve_.min_interval_ms));
  EXPECT_EQ(Exchange(listener, kOkClose).status, 200);
  EXPECT_EQ(resolver_.requests(), 3);
}

TEST_F(HttpTransportTest, AnAnswerArrivingAfterTheTransportIsGoneLandsNowhere) {
  MakeTransport("processor.test", 1);
  ASSERT_EQ(resolver_.requests(), 1);
  transport_.reset();
  EXPECT_TRUE(resolver_.Answer(Ip("127.0.0.1")));  // no use of the freed transport (ASan/TSan)
}

}  // namespace
}  // namespace rinha::router
