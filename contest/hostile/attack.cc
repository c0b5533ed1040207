#include "contest/hostile/attack.h"

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace rinha::contest {
namespace {

struct ModeName {
  AttackMode mode;
  absl::string_view name;
  absl::string_view keys;  // accepted keys, space-separated
};

constexpr ModeName kModes[] = {
    {AttackMode::kSlowHead, "slow-head", "conns interval_ms reconnect_ms"},
    {AttackMode::kSlowBody, "slow-body", "conns interval_ms body_bytes reconnect_ms"},
    {AttackMode::kHalfOpen, "half-open", "conns size reconnect_ms"},
    {AttackMode::kIdle, "idle", "conns reconnect_ms"},
    {AttackMode::kBigHead, "big-head", "conns size reconnect_ms"},
    {AttackMode::kBigBody, "big-body", "conns size reconnect_ms"},
    {AttackMode::kInvalid, "invalid", "conns rate reconnect_ms"},
    {AttackMode::kReset, "reset", "rate"},
    {AttackMode::kSurge, "surge", "conns interval_ms timeout_ms"},
};

bool Accepts(absl::string_view keys, absl::string_view key) {
  for (absl::string_view k : absl::StrSplit(keys, ' ')) {
    if (k == key) return true;
  }
  return false;
}

std::string Post(absl::string_view host, absl::string_view body) {
  return absl::StrCat("POST /payments HTTP/1.1\r\nHost: ", host,
                      "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(),
                      "\r\n\r\n", body);
}

}  // namespace

absl::string_view AttackModeName(AttackMode mode) {
  for (const ModeName& m : kModes) {
    if (m.mode == mode) return m.name;
  }
  return "?";
}

absl::StatusOr<AttackSpec> ParseAttack(absl::string_view text) {
  AttackSpec spec;
  spec.text = std::string(text);
  const size_t colon = text.find(':');
  const absl::string_view name = text.substr(0, colon);
  const ModeName* mode = nullptr;
  for (const ModeName& m : kModes) {
    if (m.name == name) mode = &m;
  }
  if (mode == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown attack '", name,
        "' (slow-head, slow-body, half-open, idle, big-head, big-body, invalid, reset, surge)"));
  }
  spec.mode = mode->mode;
  if (spec.mode == AttackMode::kBigHead || spec.mode == AttackMode::kBigBody ||
      spec.mode == AttackMode::kInvalid) {
    spec.conns = spec.mode == AttackMode::kInvalid ? 16 : 8;
  }
  if (spec.mode == AttackMode::kBigBody) spec.size = 1 << 20;
  if (spec.mode == AttackMode::kHalfOpen) spec.size = 0;
  if (spec.mode == AttackMode::kReset) spec.rate = 200;
  if (colon == absl::string_view::npos) return spec;
  for (absl::string_view pair : absl::StrSplit(text.substr(colon + 1), ',')) {
    const size_t eq = pair.find('=');
    const absl::string_view key = pair.substr(0, eq);
    int64_t value = 0;
    if (eq == absl::string_view::npos || !absl::SimpleAtoi(pair.substr(eq + 1), &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("attack '", text, "': '", pair, "' is not key=integer"));
    }
    if (!Accepts(mode->keys, key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("attack '", name, "' takes ", mode->keys, "; not '", key, "'"));
    }
    const int64_t min = key == "reconnect_ms" || (key == "size" && name == "half-open") ? 0 : 1;
    if (value < min || value > 100'000'000) {
      return absl::InvalidArgumentError(
          absl::StrCat("attack '", text, "': ", key, " out of range"));
    }
    if (key == "conns") spec.conns = static_cast<int>(value);
    if (key == "interval_ms") spec.interval_ms = value;
    if (key == "rate") spec.rate = value;
    if (key == "size") spec.size = value;
    if (key == "body_bytes") spec.body_bytes = value;
    if (key == "reconnect_ms") spec.reconnect_ms = value;
    if (key == "timeout_ms") spec.timeout_ms = value;
  }
  return spec;
}

std::string HeadPrefix(absl::string_view host_header) {
  return absl::StrCat("POST /payments HTTP/1.1\r\nHost: ", host_header, "\r\n");
}

char SlowHeadByte(int64_t n) {
  static constexpr absl::string_view kLine = "X-Drip: d\r\n";
  return kLine[static_cast<size_t>(n) % kLine.size()];
}

std::string HalfOpenHead(absl::string_view host_header, int64_t size) {
  std::string head = HeadPrefix(host_header);
  if (size > static_cast<int64_t>(head.size()) + 8) {
    absl::StrAppend(&head,
                    "X-Pad: ", std::string(static_cast<size_t>(size) - head.size() - 7, 'p'));
  }
  return head;
}

std::string SlowBodyHead(absl::string_view host_header, int64_t body_bytes) {
  return absl::StrCat("POST /payments HTTP/1.1\r\nHost: ", host_header,
                      "\r\nContent-Type: application/json\r\nContent-Length: ", body_bytes,
                      "\r\n\r\n");
}

std::string BigHeadRequest(absl::string_view host_header, int64_t size) {
  std::string head = HeadPrefix(host_header);
  const int64_t pad = std::max<int64_t>(1, size - static_cast<int64_t>(head.size()) - 16);
  absl::StrAppend(&head, "X-Pad: ", std::string(static_cast<size_t>(pad), 'p'),
                  "\r\nContent-Length: 0\r\n\r\n");
  return head;
}

std::string BigBodyRequest(absl::string_view host_header, int64_t size) {
  return absl::StrCat("POST /payments HTTP/1.1\r\nHost: ", host_header,
                      "\r\nContent-Type: application/json\r\nContent-Length: ", size, "\r\n\r\n",
                      std::string(static_cast<size_t>(size), 'x'));
}

std::string SurgeRequest(absl::string_view host_header, size_t* uuid_offset) {
  const std::string body_head = R"({"correlationId":")";
  const std::string body = absl::StrCat(body_head, std::string(36, '0'), R"(","amount":20.05})");
  const std::string head = absl::StrCat(
      "POST /payments HTTP/1.1\r\nHost: ", host_header,
      "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(), "\r\n\r\n");
  *uuid_offset = head.size() + body_head.size();
  return head + body;
}

std::vector<std::string> InvalidRequests(absl::string_view host) {
  const std::string h = absl::StrCat("Host: ", host, "\r\n");
  return {
      absl::StrCat("GET /admin/config HTTP/1.1\r\n", h, "\r\n"),       // 404
      absl::StrCat("DELETE /payments HTTP/1.1\r\n", h, "\r\n"),        // 405
      Post(host, R"({"correlationId":)"),                              // 400
      Post(host, R"({"correlationId":"not-a-uuid","amount":19.90})"),  // 422
      Post(host, R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":-5})"),
      absl::StrCat("GET /payments-summary?from=yesterday HTTP/1.1\r\n", h, "\r\n"),  // 400
      absl::StrCat("GET / HTTP/9.9\r\n", h, "\r\n"),                                 // 400/505
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15),       // a TLS hello
  };
}

}  // namespace rinha::contest
