// UUID text validation. The system's canonical correlation id is lower-case 8-4-4-4-12 text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace rinha {

// Accepts 8-4-4-4-12 hex digits in any case (no braces, no urn: prefix) and returns the canonical
// lower-case form; InvalidArgument otherwise.
absl::StatusOr<std::string> CanonicalUuid(std::string_view text);

// True when text is already canonical (36 chars, lower-case hex, dashes at 8, 13, 18, 23).
bool IsCanonicalUuid(std::string_view text);

// Writes the canonical text of the version-4 UUID made of two 64-bit random draws (version and
// variant bits set) to out[0..35]; no terminator. For load generators that make one per request.
void WriteUuidV4(uint64_t hi, uint64_t lo, char* out);

}  // namespace rinha
