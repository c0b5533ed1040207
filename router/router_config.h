// Router configuration. The router service itself is the subject of its own issue; until it
// lands the binary only reports that it is not implemented.
#pragma once

#include <string_view>

namespace rinha::router {

inline constexpr std::string_view kNotImplemented =
    "router: not implemented yet (see the router issue); exiting";

int RunPlaceholder();

}  // namespace rinha::router
