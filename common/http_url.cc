#include "common/http_url.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace rinha {
namespace {

// Debian's Abseil has its own string_view type: convert at the call sites.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::Status ParseHttpUrl(std::string_view url, std::string* host, int* port) {
  constexpr std::string_view kScheme = "http://";
  if (!absl::StartsWith(A(url), A(kScheme)))
    return absl::InvalidArgumentError("url must start http://");
  url.remove_prefix(kScheme.size());
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.find('/') != std::string_view::npos) return absl::InvalidArgumentError("url has a path");
  const size_t colon = url.rfind(':');
  *port = 80;
  if (colon != std::string_view::npos) {
    if (!absl::SimpleAtoi(A(url.substr(colon + 1)), port) || *port <= 0 || *port > 65535) {
      return absl::InvalidArgumentError("bad port in url");
    }
    url = url.substr(0, colon);
  }
  if (url.empty()) return absl::InvalidArgumentError("url has no host");
  *host = std::string(url);
  return absl::OkStatus();
}

}  // namespace rinha
