#include "common/uuid.h"

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rinha {
namespace {

constexpr size_t kUuidLength = 36;

bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

absl::StatusOr<std::string> CanonicalUuid(std::string_view text) {
  if (text.size() != kUuidLength) {
    return absl::InvalidArgumentError("UUID must be 36 characters (8-4-4-4-12 hex digits)");
  }
  std::string canonical(text);
  for (size_t i = 0; i < kUuidLength; ++i) {
    char& c = canonical[i];
    if (IsDashPosition(i)) {
      if (c != '-') return absl::InvalidArgumentError("UUID dashes must be at 8, 13, 18 and 23");
      continue;
    }
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!IsLowerHex(c)) return absl::InvalidArgumentError("UUID has a non-hex digit");
  }
  return canonical;
}

bool IsCanonicalUuid(std::string_view text) {
  if (text.size() != kUuidLength) return false;
  for (size_t i = 0; i < kUuidLength; ++i) {
    if (IsDashPosition(i) ? text[i] != '-' : !IsLowerHex(text[i])) return false;
  }
  return true;
}

void WriteUuidV4(uint64_t hi, uint64_t lo, char* out) {
  uint8_t bytes[16];
  std::memcpy(bytes, &hi, 8);
  std::memcpy(bytes + 8, &lo, 8);
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  int pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
    out[pos++] = kHex[bytes[i] >> 4];
    out[pos++] = kHex[bytes[i] & 0x0f];
  }
}

}  // namespace rinha
