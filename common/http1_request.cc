#include "common/http1_request.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"

namespace rinha {
namespace {

// Debian's Abseil has its own string_view, so the few string helpers needed are here.
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char x, char y) { return Lower(x) == Lower(y); }) != haystack.end();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Digits only, no sign; false on overflow past 2^40 (far beyond any limit).
bool ParseLength(std::string_view s, size_t* value) {
  if (s.empty() || s.size() > 12) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  *value = v;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding; '+' is a space only in the query (as cpp-httplib, which served before, did).
std::string Decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

void ParseQuery(std::string_view query, Http1Request& request) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      request.query.emplace_back(Decode(pair, true), "");
    } else {
      request.query.emplace_back(Decode(pair.substr(0, eq), true),
                                 Decode(pair.substr(eq + 1), true));
    }
  }
}

Http1Parse Error(int status) {
  Http1Parse parse;
  parse.outcome = Http1Parse::Outcome::kError;
  parse.error_status = status;
  return parse;
}

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

}  // namespace

std::optional<std::string_view> Http1Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string_view> Http1Request::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

Http1Parse ParseHttp1Request(std::string_view input, const Http1Limits& limits) {
  // Tolerate the stray CRLFs some clients send between requests (RFC 9112 2.2).
  size_t start = 0;
  while (start + 1 < input.size() && input[start] == '\r' && input[start + 1] == '\n') start += 2;
  const std::string_view in = input.substr(start);
  const size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (in.size() > limits.max_head_bytes) return Error(431);
    return Http1Parse{};
  }
  if (head_end > limits.max_head_bytes) return Error(431);
  const std::string_view head = in.substr(0, head_end);
  const size_t line_end = std::min(head.find("\r\n"), head.size());
  const std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == 0 || sp2 == sp1 || sp2 == sp1 + 1) return Error(400);
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return Error(400);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.front() != '/') return Error(400);

  Http1Parse parse;
  Http1Request& request = parse.request;
  request.method = std::string(line.substr(0, sp1));
  const size_t question = target.find('?');
  request.path = Decode(target.substr(0, question), false);
  if (question != std::string_view::npos) ParseQuery(target.substr(question + 1), request);
  request.keep_alive = version == "HTTP/1.1";

  std::optional<size_t> content_length;
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view field = head.substr(pos, end - pos);
    pos = end + 2;
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) return Error(400);
    const std::string_view name = field.substr(0, colon);
    if (name.back() == ' ' || name.back() == '\t') return Error(400);  // RFC 9112 5.1
    const std::string_view value = Trim(field.substr(colon + 1));
    if (EqualsIgnoreCase(name, "content-length")) {
      size_t length = 0;
      if (!ParseLength(value, &length)) {
        return Error(400);
      }
      if (content_length.has_value() && *content_length != length) return Error(400);
      content_length = length;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      return Error(501);
    } else if (EqualsIgnoreCase(name, "connection")) {
      if (ContainsIgnoreCase(value, "close")) request.keep_alive = false;
      if (ContainsIgnoreCase(value, "keep-alive")) request.keep_alive = true;
    }
    request.headers.emplace_back(std::string(name), std::string(value));
  }
  const size_t body_length = content_length.value_or(0);
  if (body_length > limits.max_body_bytes) return Error(413);
  const size_t total = start + head_end + 4 + body_length;
  if (input.size() < total) {
    std::optional<std::string_view> expect = request.Header("Expect");
    Http1Parse incomplete;
    incomplete.expects_continue = expect.has_value() && EqualsIgnoreCase(*expect, "100-continue");
    return incomplete;
  }
  request.body = std::string(input.substr(total - body_length, body_length));
  parse.outcome = Http1Parse::Outcome::kComplete;
  parse.consumed = total;
  return parse;
}

std::string FormatHttp1Response(int status,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::string_view body, bool close) {
  std::string out = absl::StrCat("HTTP/1.1 ", status, " ", Reason(status),
                                 "\r\nContent-Length: ", body.size(), "\r\n");
  if (!body.empty()) out += "Content-Type: application/json\r\n";
  for (const auto& [name, value] : headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace rinha
