#include "common/host_port.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rinha {

absl::Status ParseHostPort(std::string_view address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  const std::string_view port_text =
      colon == std::string_view::npos ? std::string_view() : address.substr(colon + 1);
  int parsed = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(absl::string_view(port_text.data(), port_text.size()), &parsed) ||
      parsed < 0 || parsed > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be host:port, got '", std::string(address), "'"));
  }
  *host = std::string(address.substr(0, colon));
  *port = parsed;
  return absl::OkStatus();
}

}  // namespace rinha
