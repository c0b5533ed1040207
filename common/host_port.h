// "host:port" listen addresses, as the --listen flags of the HTTP processes take them.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace rinha {

// Splits `address` at its last ':' into host (may be empty) and port, a decimal from 0 to 65535
// (0: any free port). InvalidArgument when there is no ':' or the port is not one.
absl::Status ParseHostPort(std::string_view address, std::string* host, int* port);

}  // namespace rinha
