#include "common/http1_response.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace rinha {
namespace {

// Debian's Abseil has its own string_view type: convert at the call sites.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return absl::StrContains(absl::AsciiStrToLower(A(haystack)), A(needle));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsStatusLine(std::string_view line) {
  return line.size() >= 12 && absl::StartsWith(A(line), "HTTP/1.") &&
         (line[7] == '0' || line[7] == '1') && line[8] == ' ' && IsDigit(line[9]) &&
         line[9] != '0' && IsDigit(line[10]) && IsDigit(line[11]) &&
         (line.size() == 12 || line[12] == ' ');
}

}  // namespace

int Http1StatusLineStatus(std::string_view data) {
  const size_t line_end = data.find("\r\n");
  if (line_end == std::string_view::npos) return 0;
  const std::string_view line = data.substr(0, line_end);
  if (!IsStatusLine(line)) return 0;
  return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

bool ParseHttp1Response(std::string_view data, bool eof, Http1Response* out, bool* error) {
  *error = false;
  const size_t header_end = data.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    if (eof || data.size() > kMaxHttp1ResponseBytes) *error = true;
    return false;
  }
  std::string_view head = data.substr(0, header_end);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK": exactly a version, a space and three digits, then a space or the end.
  // Anything else is an error, never a status: a garbled answer from a processor must read as
  // "no answer" (the payment may be stored), not as some 4xx/5xx that says it was not.
  if (!IsStatusLine(status_line)) {
    *error = true;
    return false;
  }
  out->status =
      (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  const bool http10 = status_line[7] == '0';
  bool chunked = false;
  bool has_length = false;
  size_t content_length = 0;
  out->keep_alive = !http10;
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = Trim(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(A(name), "content-length")) {
      if (!absl::SimpleAtoi(A(value), &content_length)) {
        *error = true;
        return false;
      }
      has_length = true;
    } else if (absl::EqualsIgnoreCase(A(name), "transfer-encoding")) {
      chunked = ContainsIgnoreCase(value, "chunked");
    } else if (absl::EqualsIgnoreCase(A(name), "connection")) {
      if (ContainsIgnoreCase(value, "close")) out->keep_alive = false;
      if (ContainsIgnoreCase(value, "keep-alive")) out->keep_alive = true;
    }
  }
  std::string_view body = data.substr(header_end + 4);
  if (out->status == 204 || out->status == 304 || (out->status >= 100 && out->status < 200)) {
    out->body.clear();
    return true;
  }
  if (chunked) {
    out->body.clear();
    for (;;) {
      const size_t size_end = body.find("\r\n");
      if (size_end == std::string_view::npos) {
        if (eof) *error = true;
        return false;
      }
      std::string_view size_text = body.substr(0, size_end);
      size_text = size_text.substr(0, size_text.find(';'));
      size_t size = 0;
      if (!absl::SimpleHexAtoi(A(Trim(size_text)), &size) || size > kMaxHttp1ResponseBytes) {
        *error = true;
        return false;
      }
      body.remove_prefix(size_end + 2);
      if (size == 0) {
        // Trailers end with an empty line.
        const size_t end = body.find("\r\n");
        if (end == std::string_view::npos) {
          if (eof) *error = true;
          return false;
        }
        if (end == 0) return true;
        const size_t trailers_end = body.find("\r\n\r\n");
        if (trailers_end == std::string_view::npos) {
          if (eof) *error = true;
          return false;
        }
        return true;
      }
      if (body.size() < size + 2) {
        if (eof) *error = true;
        return false;
      }
      out->body.append(body.data(), size);
      body.remove_prefix(size + 2);
    }
  }
  if (has_length) {
    if (content_length > kMaxHttp1ResponseBytes) {
      *error = true;
      return false;
    }
    if (body.size() < content_length) {
      if (eof) *error = true;
      return false;
    }
    out->body.assign(body.data(), content_length);
    return true;
  }
  // Framed by connection close.
  if (!eof) return false;
  out->body.assign(body.data(), body.size());
  out->keep_alive = false;
  return true;
}

}  // namespace rinha
