// A blocking HTTP/1.1 test client on a raw socket: sends bytes as given (partial writes,
// pipelining, malformed requests) and reads Content-Length responses one by one, or raw bytes up
// to the end of the connection (broken answers).
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <string>

namespace rinha::testing {

// A blocking client socket whose reads give up after 10 s, so a broken server fails the test
// instead of hanging it.
class Http1Socket {
 public:
  explicit Http1Socket(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    if (!connected_) connect_error_ = errno;
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~Http1Socket() { Close(); }
  Http1Socket(const Http1Socket&) = delete;
  Http1Socket& operator=(const Http1Socket&) = delete;

  bool connected() const { return connected_; }
  // errno of the failed connect (ECONNREFUSED when nothing listens); 0 when connected.
  int connect_error() const { return connect_error_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  bool Send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  struct Response {
    int status = -1;  // -1: the connection ended (or timed out) before a full response
    std::map<std::string, std::string> headers;
    std::string body;
  };

  // Reads one response (Content-Length bodies; interim 1xx responses are returned as such).
  Response Read() {
    Response response;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return response;
    }
    const std::string head = buffer_.substr(0, head_end);
    size_t pos = head.find("\r\n");
    response.status = std::stoi(head.substr(9, 3));
    while (pos != std::string::npos && pos < head.size()) {
      const size_t end = std::min(head.find("\r\n", pos + 2), head.size());
      const std::string line = head.substr(pos + 2, end - pos - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        response.headers[line.substr(0, colon)] = line.substr(colon + 2);
      }
      pos = end == head.size() ? std::string::npos : end;
    }
    size_t length = 0;  // header names are case-insensitive (HAProxy sends them lower-case)
    for (const auto& [name, value] : response.headers) {
      if (strcasecmp(name.c_str(), "Content-Length") == 0) length = std::stoul(value);
    }
    while (buffer_.size() < head_end + 4 + length) {
      if (!Fill()) return Response{};
    }
    response.body = buffer_.substr(head_end + 4, length);
    buffer_.erase(0, head_end + 4 + length);
    return response;
  }

  // The bytes of one recv (or what Read() left over); empty at the end of the connection or
  // after 10 s without data.
  std::string ReadSome() {
    if (buffer_.empty()) Fill();
    std::string some;
    some.swap(buffer_);
    return some;
  }

  // Reads until the server ends the connection. `error` is 0 for a clean close (EOF),
  // ECONNRESET for a reset, EAGAIN when 10 s passed without data.
  struct Ending {
    std::string bytes;
    int error = 0;
  };
  Ending ReadUntilClosed() {
    Ending ending;
    ending.bytes.swap(buffer_);
    char chunk[4096];
    while (true) {
      const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        ending.bytes.append(chunk, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      ending.error = n == 0 ? 0 : errno;
      return ending;
    }
  }

  // True when the server closed the connection (EOF or reset) within 10 s.
  bool ClosedByServer() {
    char c;
    const ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool Fill() {
    char chunk[4096];
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  int connect_error_ = 0;
  std::string buffer_;
};

}  // namespace rinha::testing
