// What rinha-hostile sends: the attack modes, their parameters ("slow-head:conns=500,
// interval_ms=1000") and the bytes of each. Pure: parsing and request building only.
//
// No attack but `surge` creates a payment: every POST /payments the others send is invalid (bad
// JSON, bad UUID, negative amount), oversized or never finished. A surge sends valid payments,
// and logs each (rinha-hostile --requests_out, rinha-load's format) so that rinha-check sees
// them with the valid load's own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rinha::contest {

enum class AttackMode {
  kSlowHead,  // a head dripped a byte every interval_ms, never finished
  kSlowBody,  // a whole head (Content-Length: body_bytes), the body dripped a byte at a time
  kHalfOpen,  // a head started (`size` bytes of it, at least the request line), then nothing
  kIdle,      // connected, nothing sent
  kBigHead,   // a head of `size` bytes (one huge header) at full speed, then its end
  kBigBody,   // POST /payments with a body of `size` bytes at full speed
  kInvalid,   // invalid requests on keep-alive connections, `rate` per second in all
  kReset,     // `rate` connections per second, each reset at a random point
  kSurge,     // `conns` virtual users as k6's: a valid payment, its answer (timeout_ms), sleep
              // interval_ms, again; a connection the server closes is opened for the next one
};

struct AttackSpec {
  AttackMode mode = AttackMode::kHalfOpen;
  std::string text;  // as given, for the report
  // Connections held open at once (every mode but reset): one the server closes is opened again
  // after reconnect_ms.
  int conns = 256;
  int64_t interval_ms = 1000;  // slow-head, slow-body: one byte per interval
  int64_t rate = 1000;         // invalid: requests/s; reset: connections/s
  // big-head: head bytes; big-body: body bytes; half-open: bytes of the unfinished head (0: the
  // request line and Host only). A large half-open head fills a server's request buffer.
  int64_t size = 64 * 1024;
  int64_t body_bytes = 4000;  // slow-body: the declared Content-Length
  int64_t reconnect_ms = 50;
  int64_t timeout_ms = 1500;  // surge: the client's timeout, as the contest's
};

// "MODE[:key=value,...]", keys as the fields above. InvalidArgument for an unknown mode or key,
// a key the mode does not use, or a value out of range.
absl::StatusOr<AttackSpec> ParseAttack(absl::string_view text);
absl::string_view AttackModeName(AttackMode mode);

// The bytes, for `host_header` as the Host header's value.
// Start of a POST /payments head, ending after a complete header line.
std::string HeadPrefix(absl::string_view host_header);
// The n-th byte (from 0) a slow-head attack drips after HeadPrefix: header lines "X-Drip-k: d"
// forever, so that no single line grows past a server's line limit before its deadline.
char SlowHeadByte(int64_t n);
// The start of a head of about `size` bytes (HeadPrefix, then one unfinished header line).
std::string HalfOpenHead(absl::string_view host_header, int64_t size);
// A whole POST /payments head declaring a JSON body of `body_bytes`.
std::string SlowBodyHead(absl::string_view host_header, int64_t body_bytes);
// A head of about `size` bytes: POST /payments with one header padded to size.
std::string BigHeadRequest(absl::string_view host_header, int64_t size);
// POST /payments with a body of `size` bytes (not JSON).
std::string BigBodyRequest(absl::string_view host_header, int64_t size);
// A valid POST /payments for amount 20.05 with a placeholder correlationId of 36 '0's at
// *uuid_offset, for a surge to overwrite.
std::string SurgeRequest(absl::string_view host_header, size_t* uuid_offset);
// Invalid requests, each answered 4xx by a correct server (or the connection closed); used in
// turn by the invalid and reset attacks.
std::vector<std::string> InvalidRequests(absl::string_view host_header);

}  // namespace rinha::contest
