// Incremental parsing of one HTTP/1.1 response for the epoll clients (the router's transport to
// the processors, the load generator's virtual users): framed by Content-Length, chunked
// encoding or connection close. Pure: tested without sockets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rinha {

// Largest response (head + body) a client accepts; anything longer is an error.
inline constexpr size_t kMaxHttp1ResponseBytes = 64 * 1024;

struct Http1Response {
  int status = 0;
  std::string body;
  bool keep_alive = true;
};

// Incremental parse of one HTTP/1.1 response held in `data`. Returns true once it is complete
// (status, body, keep_alive set); false while more bytes are needed; sets *error on malformed
// input. `eof`: the peer closed, which completes a response framed by connection close.
bool ParseHttp1Response(std::string_view data, bool eof, Http1Response* out, bool* error);

}  // namespace rinha
