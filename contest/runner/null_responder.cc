#include "contest/runner/null_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rinha::contest {
namespace {

constexpr absl::string_view kAccepted = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
constexpr absl::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
constexpr absl::string_view kNotFound = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
constexpr absl::string_view kBadRequest =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
#define RINHA_ZERO_SUMMARY                                \
  "{\"default\":{\"totalRequests\":0,\"totalAmount\":0}," \
  "\"fallback\":{\"totalRequests\":0,\"totalAmount\":0}}"
constexpr absl::string_view kSummaryBody = RINHA_ZERO_SUMMARY;
const std::string& SummaryResponse() {
  static const std::string response = absl::StrCat(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ", kSummaryBody.size(),
      "\r\n\r\n", kSummaryBody);
  return response;
}
#undef RINHA_ZERO_SUMMARY

constexpr size_t kMaxHeaderBytes = 16 * 1024;

struct Connection {
  std::string in;
  std::string out;
};

// Parses the head of the first request in `in`. Returns false while incomplete; sets *bad on a
// malformed request.
struct Request {
  absl::string_view method, target;
  size_t total_bytes = 0;  // head + body
  bool close = false;
};
bool ParseRequest(absl::string_view in, Request* request, bool* bad) {
  const size_t head_end = in.find("\r\n\r\n");
  if (head_end == absl::string_view::npos) {
    *bad = in.size() > kMaxHeaderBytes;
    return false;
  }
  const absl::string_view head = in.substr(0, head_end);
  const size_t line_end = head.find("\r\n");
  const absl::string_view request_line = head.substr(0, line_end);
  const size_t space1 = request_line.find(' ');
  const size_t space2 = request_line.rfind(' ');
  if (space1 == absl::string_view::npos || space2 == space1) {
    *bad = true;
    return false;
  }
  request->method = request_line.substr(0, space1);
  request->target = request_line.substr(space1 + 1, space2 - space1 - 1);
  const absl::string_view version = request_line.substr(space2 + 1);
  request->close = version == "HTTP/1.0";
  size_t content_length = 0;
  size_t pos = line_end == absl::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == absl::string_view::npos) end = head.size();
    const absl::string_view header = head.substr(pos, end - pos);
    pos = end + 2;
    const size_t colon = header.find(':');
    if (colon == absl::string_view::npos) continue;
    const absl::string_view name = header.substr(0, colon);
    const absl::string_view value = absl::StripAsciiWhitespace(header.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "content-length")) {
      if (!absl::SimpleAtoi(value, &content_length) || content_length > (1 << 20)) {
        *bad = true;
        return false;
      }
    } else if (absl::EqualsIgnoreCase(name, "connection")) {
      if (absl::EqualsIgnoreCase(value, "close")) request->close = true;
      if (absl::EqualsIgnoreCase(value, "keep-alive")) request->close = false;
    } else if (absl::EqualsIgnoreCase(name, "transfer-encoding")) {
      *bad = true;  // chunked bodies are not needed by the contest's clients
      return false;
    }
  }
  request->total_bytes = head_end + 4 + content_length;
  return in.size() >= request->total_bytes;
}

}  // namespace

absl::string_view NullResponse(absl::string_view method, absl::string_view target) {
  const absl::string_view path = target.substr(0, target.find('?'));
  if (method == "POST" && path == "/payments") return kAccepted;
  if (method == "GET" && path == "/payments-summary") return SummaryResponse();
  if (method == "POST" && path == "/purge-payments") return kOk;
  return kNotFound;
}

absl::StatusOr<std::unique_ptr<NullResponder>> NullResponder::Start(const std::string& host,
                                                                    int port) {
  auto server = std::unique_ptr<NullResponder>(new NullResponder());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: ", host));
  }
  server->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(server->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(server->listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(server->listen_fd_, 4096) != 0) {
    return absl::UnavailableError(
        absl::StrCat("bind/listen ", host, ":", port, ": ", std::strerror(errno)));
  }
  socklen_t length = sizeof(address);
  getsockname(server->listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  server->port_ = ntohs(address.sin_port);
  server->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  server->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = server->listen_fd_;
  epoll_ctl(server->epoll_fd_, EPOLL_CTL_ADD, server->listen_fd_, &event);
  event.data.fd = server->wake_fd_;
  epoll_ctl(server->epoll_fd_, EPOLL_CTL_ADD, server->wake_fd_, &event);
  server->thread_ = std::thread([raw = server.get()] { raw->Loop(); });
  return server;
}

NullResponder::~NullResponder() {
  Shutdown();
  for (int fd : {listen_fd_, epoll_fd_, wake_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void NullResponder::Shutdown() {
  if (stopped_.exchange(true)) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

// Runs on thread_ only; owns every connection.
void NullResponder::Loop() {
  std::unordered_map<int, Connection> connections;
  const auto close_connection = [&](int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    connections.erase(fd);
  };
  epoll_event events[256];
  char buffer[64 * 1024];
  while (true) {
    const int ready = epoll_wait(epoll_fd_, events, 256, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    for (int e = 0; e < ready; ++e) {
      const int fd = events[e].data.fd;
      if (fd == wake_fd_) {
        for (auto& [connection_fd, unused] : connections) close(connection_fd);
        return;
      }
      if (fd == listen_fd_) {
        while (true) {
          const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (client < 0) break;
          const int one = 1;
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          epoll_event event{};
          event.events = EPOLLIN | EPOLLRDHUP;
          event.data.fd = client;
          epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, client, &event);
          connections[client];
        }
        continue;
      }
      auto it = connections.find(fd);
      if (it == connections.end()) continue;
      Connection& connection = it->second;
      bool closed = false;
      if (events[e].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        while (true) {
          const ssize_t n = read(fd, buffer, sizeof(buffer));
          if (n > 0) {
            connection.in.append(buffer, static_cast<size_t>(n));
            continue;
          }
          if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) closed = true;
          if (n < 0 && errno == EINTR) continue;
          break;
        }
      }
      bool close_after_write = false;
      size_t consumed = 0;
      while (true) {
        Request request;
        bool bad = false;
        if (!ParseRequest(absl::string_view(connection.in).substr(consumed), &request, &bad)) {
          if (bad) {
            absl::StrAppend(&connection.out, kBadRequest);
            close_after_write = true;
          }
          break;
        }
        absl::StrAppend(&connection.out, NullResponse(request.method, request.target));
        consumed += request.total_bytes;
        if (request.close) {
          close_after_write = true;
          break;
        }
      }
      connection.in.erase(0, consumed);
      size_t sent = 0;
      while (sent < connection.out.size()) {
        const ssize_t n =
            send(fd, connection.out.data() + sent, connection.out.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
          sent += static_cast<size_t>(n);
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        closed = true;
        break;
      }
      connection.out.erase(0, sent);
      if (closed || (close_after_write && connection.out.empty())) {
        close_connection(fd);
        continue;
      }
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP | (connection.out.empty() ? 0u : EPOLLOUT);
      event.data.fd = fd;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
    }
  }
}

}  // namespace rinha::contest
