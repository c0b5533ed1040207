// Router configuration. The edge service itself is the subject of its own issue; until it
// lands the binary only reports that it is not implemented.
#pragma once

#include <string_view>

namespace rinha::edge {

inline constexpr std::string_view kNotImplemented =
    "edge: not implemented yet (see the edge issue); exiting";

int RunPlaceholder();

}  // namespace rinha::edge
