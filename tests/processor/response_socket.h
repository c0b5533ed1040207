// A raw test client for the emulator, which answers as Kestrel does (bodies chunked): the
// blocking socket of tests/testing/http1_socket.h, reading whole responses framed by
// Content-Length or by chunked encoding, and keeping each response's exact bytes for byte-exact
// comparisons.
#pragma once

#include <strings.h>

#include <cstddef>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "tests/testing/http1_socket.h"

namespace rinha::testing {

class ResponseSocket {
 public:
  explicit ResponseSocket(int port) : socket_(port) {}

  bool connected() const { return socket_.connected(); }
  int connect_error() const { return socket_.connect_error(); }
  bool Send(const std::string& data) { return socket_.Send(data); }

  struct Response {
    int status = -1;  // -1: the connection ended (or timed out) before a whole response
    std::map<std::string, std::string> headers;
    std::string body;  // de-chunked
    std::string wire;  // the response's bytes as they came
  };

  // Reads one response (interim 1xx ones are returned as such).
  Response Read() {
    Response response;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return Response{};
    }
    const std::string head = buffer_.substr(0, head_end);
    response.status = std::stoi(head.substr(9, 3));
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos < head.size()) {
      const size_t end = std::min(head.find("\r\n", pos + 2), head.size());
      const std::string line = head.substr(pos + 2, end - pos - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos)
        response.headers[line.substr(0, colon)] = line.substr(colon + 2);
      pos = end == head.size() ? std::string::npos : end;
    }
    size_t at = head_end + 4;
    if (Header(response, "Transfer-Encoding") == "chunked") {
      while (true) {
        size_t line_end;
        while ((line_end = buffer_.find("\r\n", at)) == std::string::npos) {
          if (!Fill()) return Response{};
        }
        size_t size = 0;
        if (!absl::SimpleHexAtoi(buffer_.substr(at, line_end - at), &size)) return Response{};
        at = line_end + 2;
        while (buffer_.size() < at + size + 2) {
          if (!Fill()) return Response{};
        }
        response.body += buffer_.substr(at, size);
        at += size + 2;  // the chunk's data and its CRLF (the last chunk's is the blank line)
        if (size == 0) break;
      }
    } else {
      const std::string length = Header(response, "Content-Length");
      const size_t n = length.empty() ? 0 : std::stoul(length);
      while (buffer_.size() < at + n) {
        if (!Fill()) return Response{};
      }
      response.body = buffer_.substr(at, n);
      at += n;
    }
    response.wire = buffer_.substr(0, at);
    buffer_.erase(0, at);
    return response;
  }

  // Header `name` (any case) of `r`; empty when absent.
  static std::string Header(const Response& r, const std::string& name) {
    for (const auto& [key, value] : r.headers) {
      if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
    }
    return "";
  }

  // The bytes of one recv (or what Read() left over); empty at the end or after 10 s.
  std::string ReadSome() {
    if (!buffer_.empty()) {
      std::string some;
      some.swap(buffer_);
      return some;
    }
    return socket_.ReadSome();
  }

  // Reads until the server ends the connection (see Http1Socket::ReadUntilClosed).
  Http1Socket::Ending ReadUntilClosed() {
    Http1Socket::Ending ending = socket_.ReadUntilClosed();
    ending.bytes.insert(0, buffer_);
    buffer_.clear();
    return ending;
  }

  bool ClosedByServer() { return buffer_.empty() && socket_.ClosedByServer(); }

 private:
  bool Fill() {
    const std::string some = socket_.ReadSome();
    if (some.empty()) return false;
    buffer_ += some;
    return true;
  }

  Http1Socket socket_;
  std::string buffer_;
};

}  // namespace rinha::testing
