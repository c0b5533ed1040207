// The processors' base URLs ("http://host:port"), as the router's transport and the load
// generator are given them.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace rinha {

// "http://host[:port][/]" -> host, port (80 when absent). InvalidArgument for anything else (no
// https, no path).
absl::Status ParseHttpUrl(std::string_view url, std::string* host, int* port);

}  // namespace rinha
