// Incremental HTTP/1.1 request parsing for the epoll servers (common/http1_server.h): finds the
// first complete request (head + Content-Length body) in a connection's input buffer. Pure:
// tested without sockets.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rinha {

struct Http1Limits {
  size_t max_head_bytes = 16 * 1024;  // request line + headers
  size_t max_body_bytes = 64 * 1024;  // payments are ~150 bytes
};

struct Http1Request {
  std::string method;
  std::string path;                                        // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = true;

  // First value of header `name` (case-insensitive); nullopt when absent.
  std::optional<std::string_view> Header(std::string_view name) const;
  std::optional<std::string_view> Query(std::string_view name) const;
};

struct Http1Parse {
  enum class Outcome {
    kIncomplete,  // wait for more bytes
    kComplete,    // `request` is filled; `consumed` bytes belong to it
    kError,       // answer `error_status` and close the connection
  };
  Outcome outcome = Outcome::kIncomplete;
  Http1Request request;
  size_t consumed = 0;
  int error_status = 0;  // 400 malformed, 413 body too large, 431 head too large, 501 chunked
  // The head is complete, the body is not, and the client asked for "Expect: 100-continue".
  bool expects_continue = false;
};

// Parses the first request in `input`. Only Content-Length bodies are accepted (the contest's
// clients never send chunked requests).
Http1Parse ParseHttp1Request(std::string_view input, const Http1Limits& limits);

// "HTTP/1.1 <status> <reason>" + Content-Length (+ Content-Type: application/json when there is
// a body) + `headers` (+ Connection: close) + body.
std::string FormatHttp1Response(int status,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::string_view body, bool close);

}  // namespace rinha
